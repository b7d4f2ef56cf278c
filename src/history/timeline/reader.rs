//! Reading a run's stamped events, in order, into the [`Chart`] the timeline draws.

use std::collections::HashMap;

use serde_json::Value;

use super::axis::duration;
use super::chart::Chart;
use super::group::{Line, LineKind};
use super::outcome::Outcome;
use super::row::{Bar, Check, Row, Span};
use crate::history::TimedEvent;

/// Commands longer than this are cut in hover texts: a script can be pages long.
const HOVER_COMMAND_CHARS: usize = 300;

/// The chart so far, and what reading the next events needs to remember.
pub struct Reader {
    chart: Chart,
    /// Every host, numbered in the order it first appeared: the order of the rows.
    hosts: HashMap<String, usize>,
    /// The steps started and not yet finished, by stage, host and step number.
    open: HashMap<(String, String, u64), OpenStep>,
    /// Hosts and stages, as `run_started` gave them.
    planned: Option<String>,
    /// How the run ended, as `run_finished` gave it.
    ended: Option<String>,
}

/// A step whose `step_started` came and whose `step_finished` has not yet.
struct OpenStep {
    at: f64,
    kind: String,
    command: String,
    rollback: bool,
}

impl Reader {
    /// The chart of `events`, read in order. Events the timeline does not draw (output,
    /// progress) and events missing a field it needs are passed over: a history written by
    /// another version still draws what it can.
    pub fn read(events: &[TimedEvent]) -> Chart {
        let mut reader = Reader {
            chart: Chart {
                groups: Vec::new(),
                end: 0.0,
                summary: String::new(),
                marks: Vec::new(),
            },
            hosts: HashMap::new(),
            open: HashMap::new(),
            planned: None,
            ended: None,
        };
        for timed in events {
            let at = if timed.at_secs.is_finite() {
                timed.at_secs.max(0.0)
            } else {
                0.0
            };
            reader.event(at, &timed.event);
        }
        reader.finish(events.is_empty())
    }

    fn event(&mut self, at: f64, event: &Value) {
        self.chart.end = self.chart.end.max(at);
        let kind = event["event"].as_str().unwrap_or_default();
        match (kind, event["stage"].as_str(), event["host"].as_str()) {
            ("run_started", _, _) => {
                self.planned = Some(format!(
                    "{} · {}",
                    count(&event["hosts"], "host"),
                    count(&event["stages"], "stage")
                ));
            }
            ("stage_started", Some(stage), _) => {
                self.chart.group(stage).started = Some(at);
                for host in names(&event["hosts"]) {
                    self.row(stage, host).start = Some(at);
                }
            }
            ("stage_skipped", Some(stage), _) => {
                let reason = event["reason"].as_str().unwrap_or("no reason given");
                let group = self.chart.group(stage);
                group.skipped = Some(reason.to_string());
                group.hover = format!("stage {stage} skipped: {reason}");
            }
            ("batch_started", Some(stage), _) => self.batch_started(at, stage, event),
            ("rollout_stopped", Some(stage), _) => self.rollout_stopped(at, stage, event),
            ("rollback_started", Some(stage), Some(host)) => {
                let row = self.row(stage, host);
                row.rolling_back = true;
                row.rollbacks.push(Span {
                    from: at,
                    to: None,
                    hover: format!("rollback of {host} in stage {stage}: no end recorded"),
                });
            }
            ("rollback_finished", Some(stage), Some(host)) => {
                self.rollback_finished(at, stage, host, event);
            }
            ("step_started", Some(stage), Some(host)) => {
                let rollback = self.row(stage, host).rolling_back;
                let step = event["step"].as_u64().unwrap_or(0);
                self.open.insert(
                    (stage.to_string(), host.to_string(), step),
                    OpenStep {
                        at,
                        kind: event["kind"].as_str().unwrap_or("step").to_string(),
                        command: event["command"].as_str().unwrap_or_default().to_string(),
                        rollback,
                    },
                );
            }
            ("step_finished", Some(stage), Some(host)) => {
                self.step_finished(at, stage, host, event);
            }
            ("check_finished", Some(stage), Some(host)) => {
                self.check_finished(at, stage, host, event);
            }
            ("host_unreachable", Some(stage), Some(host)) => {
                let error = event["error"].as_str().unwrap_or_default();
                let row = self.row(stage, host);
                let from = row.busy_until().unwrap_or(at).min(at);
                row.bars.push(Bar {
                    from,
                    to: at,
                    outcome: Outcome::Unreachable,
                    rollback: false,
                    hover: format!("{host} unreachable in stage {stage}\n{error}"),
                });
            }
            ("host_finished", Some(stage), Some(host)) => {
                let outcome = event["outcome"].as_str().unwrap_or_default();
                let took = event["duration_secs"].as_f64().unwrap_or(0.0);
                let row = self.row(stage, host);
                row.hover = format!("{host} in stage {stage}: {outcome}, {}", duration(took));
                row.note = match outcome {
                    "not_started" => Some("not started"),
                    "skipped" => Some("skipped"),
                    _ => None,
                };
                row.failed = matches!(outcome, "failed" | "unreachable");
            }
            ("stage_finished", Some(stage), _) => {
                let ok = event["ok"].as_bool().unwrap_or(false);
                let took = event["duration_secs"].as_f64().unwrap_or(0.0);
                let group = self.chart.group(stage);
                group.finished = Some(at);
                group.hover = format!(
                    "stage {stage} {} in {}: {} failed or unreachable",
                    if ok { "ok" } else { "failed" },
                    duration(took),
                    count(&event["failed_hosts"], "host")
                );
            }
            ("cancel_requested", _, _) => self.cancel_requested(at, event),
            ("run_finished", _, _) => self.run_finished(event),
            // What the timeline does not draw: output, progress, previews, warnings.
            _ => {}
        }
    }

    fn batch_started(&mut self, at: f64, stage: &str, event: &Value) {
        let (batch, batches) = (&event["batch"], &event["batches"]);
        let listed = names(&event["hosts"]);
        self.chart.group(stage).lines.push(Line {
            at,
            label: format!("batch {batch}/{batches}"),
            hover: format!(
                "stage {stage}: batch {batch} of {batches} starts at {} on {}",
                duration(at),
                listed.join(", ")
            ),
            kind: LineKind::Batch,
        });
        for host in listed {
            self.row(stage, host).start = Some(at);
        }
    }

    fn rollout_stopped(&mut self, at: f64, stage: &str, event: &Value) {
        let not_started = names(&event["not_started"]);
        let mut hover = format!(
            "stage {stage}: rollout stopped at {}, {} failed (max-fail {})",
            duration(at),
            count(&event["failed_hosts"], "host"),
            event["max_fail"]
        );
        if !not_started.is_empty() {
            hover.push_str(&format!("; not started: {}", not_started.join(", ")));
        }
        self.chart.group(stage).lines.push(Line {
            at,
            label: "rollout stopped".to_string(),
            hover,
            kind: LineKind::Stopped,
        });
    }

    fn rollback_finished(&mut self, at: f64, stage: &str, host: &str, event: &Value) {
        let took = event["duration_secs"].as_f64().unwrap_or(0.0);
        let mut hover = format!(
            "rollback of {host} in stage {stage}: {}, {}",
            if event["ok"].as_bool() == Some(true) {
                "every rollback step succeeded"
            } else {
                "failed"
            },
            duration(took)
        );
        if let Some(error) = event["error"].as_str() {
            hover.push_str(&format!("\n{error}"));
        }
        let row = self.row(stage, host);
        row.rolling_back = false;
        match row.rollbacks.last_mut().filter(|r| r.to.is_none()) {
            Some(open) => {
                open.to = Some(at);
                open.hover = hover;
            }
            // Its start was not recorded: the duration tells where it began.
            None => row.rollbacks.push(Span {
                from: (at - took).max(0.0),
                to: Some(at),
                hover,
            }),
        }
    }

    fn step_finished(&mut self, at: f64, stage: &str, host: &str, event: &Value) {
        let step = event["step"].as_u64().unwrap_or(0);
        let took = event["duration_secs"].as_f64();
        let started = self
            .open
            .remove(&(stage.to_string(), host.to_string(), step));
        let from = match (&started, took) {
            (Some(started), _) => started.at,
            (None, Some(took)) => (at - took).max(0.0),
            (None, None) => at,
        };
        let outcome = Outcome::of_step_finished(event);
        let row = self.row(stage, host);
        let rollback = started.as_ref().map_or(row.rolling_back, |s| s.rollback);
        let kind = started.as_ref().map_or("step", |s| s.kind.as_str());
        let command = event["command"].as_str().unwrap_or_default();
        let mut hover = step_hover(host, stage, step, kind, command, rollback);
        hover.push_str(&format!(
            "\n{}{}, {}",
            outcome.label(),
            exit_code(event),
            duration(took.unwrap_or(at - from))
        ));
        for detail in ["skipped", "error", "stderr"] {
            if let Some(text) = event[detail].as_str().and_then(last_line) {
                hover.push_str(&format!("\n{text}"));
            }
        }
        row.bars.push(Bar {
            from,
            to: at,
            outcome,
            rollback,
            hover,
        });
    }

    fn check_finished(&mut self, at: f64, stage: &str, host: &str, event: &Value) {
        let ok = event["ok"].as_bool().unwrap_or(false);
        let took = event["duration_secs"].as_f64().unwrap_or(0.0);
        let mut hover = format!(
            "check {} on {host} {} after {}, {}\n{}",
            event["check"].as_str().unwrap_or_default(),
            if ok { "passed" } else { "gave up" },
            count(&event["attempts"], "attempt"),
            duration(took),
            event["target"].as_str().unwrap_or_default()
        );
        if let Some(error) = event["error"].as_str() {
            hover.push_str(&format!("\n{error}"));
        }
        self.row(stage, host).checks.push(Check {
            from: (at - took).max(0.0),
            at,
            ok,
            hover,
        });
    }

    fn cancel_requested(&mut self, at: f64, event: &Value) {
        let reason = event["reason"].as_str().unwrap_or("a signal");
        let forced = event["forced"].as_bool() == Some(true);
        self.chart.marks.push(Line {
            at,
            label: format!("cancel ({reason})"),
            hover: format!(
                "{reason} at {}: {}",
                duration(at),
                if forced {
                    "running steps stopped"
                } else {
                    "running steps may finish, no new step starts"
                }
            ),
            kind: LineKind::Cancel,
        });
    }

    fn run_finished(&mut self, event: &Value) {
        let summary = &event["summary"];
        let took = summary["duration_secs"].as_f64().unwrap_or(0.0);
        self.chart.end = self.chart.end.max(took);
        let ended = if summary["interrupted"].as_bool() == Some(true) {
            "interrupted"
        } else if summary["ok"].as_bool() == Some(true) {
            "ok"
        } else {
            "failed"
        };
        self.ended = Some(format!(
            "{ended} (exit {}) in {}",
            summary["exit_code"],
            duration(took)
        ));
    }

    /// The row of `host` in `stage`, the host numbered on its first appearance.
    fn row(&mut self, stage: &str, host: &str) -> &mut Row {
        let next = self.hosts.len();
        let order = *self.hosts.entry(host.to_string()).or_insert(next);
        self.chart.group(stage).row(host, order)
    }

    /// The chart once every event is read: steps and rollbacks the events never saw end run
    /// to its end, rows in the order their hosts appeared, the summary written.
    fn finish(mut self, no_events: bool) -> Chart {
        let end = self.chart.end;
        let mut open: Vec<_> = std::mem::take(&mut self.open).into_iter().collect();
        open.sort_by(|a, b| a.1.at.total_cmp(&b.1.at));
        for ((stage, host, step), started) in open {
            let mut hover = step_hover(
                &host,
                &stage,
                step,
                &started.kind,
                &started.command,
                started.rollback,
            );
            hover.push_str(&format!(
                "\nno end recorded after {}",
                duration(end - started.at)
            ));
            self.row(&stage, &host).bars.push(Bar {
                from: started.at,
                to: end,
                outcome: Outcome::Unfinished,
                rollback: started.rollback,
                hover,
            });
        }
        for group in &mut self.chart.groups {
            group.rows.sort_by_key(|r| r.order);
            for row in &mut group.rows {
                for span in &mut row.rollbacks {
                    span.to.get_or_insert(end);
                }
            }
        }
        self.chart.summary = match (self.planned, self.ended) {
            (Some(planned), Some(ended)) => format!("{planned} · {ended}"),
            (Some(planned), None) => format!("{planned} · no end recorded"),
            (None, Some(ended)) => ended,
            (None, None) if no_events => "no events recorded".to_string(),
            (None, None) => "the run's start and end were not recorded".to_string(),
        };
        self.chart
    }
}

/// The strings of a JSON array (of host names); nothing for anything else.
fn names(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .map(|items| items.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// The first lines of a step's hover text: which step of which host, and its command.
fn step_hover(
    host: &str,
    stage: &str,
    step: u64,
    kind: &str,
    command: &str,
    rollback: bool,
) -> String {
    let of = if rollback { " (rollback)" } else { "" };
    let mut cut: String = command.chars().take(HOVER_COMMAND_CHARS).collect();
    if cut.len() < command.len() {
        cut.push('…');
    }
    format!("{host} · stage {stage} · step {step}{of} · {kind}\n{cut}")
}

/// `1 host`, `3 hosts`: a count from an event with its noun.
fn count(value: &Value, noun: &str) -> String {
    match value.as_u64().unwrap_or(0) {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}

/// `, exit N` for a command that exited, nothing otherwise.
fn exit_code(event: &Value) -> String {
    event["exit_code"]
        .as_i64()
        .map(|code| format!(", exit {code}"))
        .unwrap_or_default()
}

/// The last line of `text` that is not blank: the line of stderr or of an error that says
/// the most in a hover text.
fn last_line(text: &str) -> Option<&str> {
    text.lines().rev().map(str::trim).find(|l| !l.is_empty())
}
