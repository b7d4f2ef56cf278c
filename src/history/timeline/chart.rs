//! What the timeline shows, read from a run's stamped events: stages, their hosts' rows, and
//! the bars, rollbacks and checks on them. Drawing it is the caller's part.

use std::collections::HashMap;

use serde_json::Value;

use super::axis::duration;
use super::group::{Group, Line, LineKind};
use super::outcome::Outcome;
use super::row::{Bar, Check, Span};
use crate::history::TimedEvent;

/// Commands longer than this are cut in hover texts: a script can be pages long.
const HOVER_COMMAND_CHARS: usize = 300;

/// The run as the timeline draws it.
pub struct Chart {
    /// The stages in the order they started (or were skipped).
    pub groups: Vec<Group>,
    /// When the last thing happened: the right end of the time axis.
    pub end: f64,
    /// The line under the title: hosts, stages, how the run ended.
    pub summary: String,
    /// Moments of the whole run: a cancellation requested.
    pub marks: Vec<Line>,
}

/// A step whose `step_started` came and whose `step_finished` has not yet.
struct OpenStep {
    at: f64,
    kind: String,
    command: String,
    rollback: bool,
}

impl Chart {
    /// Reads `events` in order. Events the timeline does not draw (output, progress) and
    /// events missing a field it needs are passed over: a history written by another version
    /// still draws what it can.
    pub fn new(events: &[TimedEvent]) -> Chart {
        let mut chart = Chart {
            groups: Vec::new(),
            end: 0.0,
            summary: String::new(),
            marks: Vec::new(),
        };
        let mut hosts: HashMap<String, usize> = HashMap::new();
        let mut open: HashMap<(String, String, u64), OpenStep> = HashMap::new();
        let mut planned = String::new();
        for timed in events {
            let at = if timed.at_secs.is_finite() {
                timed.at_secs.max(0.0)
            } else {
                0.0
            };
            chart.end = chart.end.max(at);
            let event = &timed.event;
            let stage = event["stage"].as_str();
            let host = event["host"].as_str();
            if let Some(host) = host {
                let next = hosts.len();
                hosts.entry(host.to_string()).or_insert(next);
            }
            for host in names(&event["hosts"]) {
                let next = hosts.len();
                hosts.entry(host.to_string()).or_insert(next);
            }
            let kind = event["event"].as_str().unwrap_or_default();
            match (kind, stage, host) {
                ("run_started", _, _) => {
                    planned = format!(
                        "{} hosts · {} stages",
                        event["hosts"].as_u64().unwrap_or(0),
                        event["stages"].as_u64().unwrap_or(0)
                    );
                }
                ("stage_started", Some(stage), _) => {
                    let group = chart.group(stage);
                    group.started = Some(at);
                    for host in names(&event["hosts"]) {
                        group.row(host, hosts[host]).start = Some(at);
                    }
                }
                ("stage_skipped", Some(stage), _) => {
                    let reason = event["reason"].as_str().unwrap_or("no reason given");
                    let group = chart.group(stage);
                    group.skipped = Some(reason.to_string());
                    group.hover = format!("stage {stage} skipped: {reason}");
                }
                ("batch_started", Some(stage), _) => {
                    let (batch, batches) = (&event["batch"], &event["batches"]);
                    let listed = names(&event["hosts"]);
                    let group = chart.group(stage);
                    group.lines.push(Line {
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
                        group.row(host, hosts[host]).start = Some(at);
                    }
                }
                ("rollout_stopped", Some(stage), _) => {
                    let not_started = names(&event["not_started"]);
                    let mut hover = format!(
                        "stage {stage}: rollout stopped at {}, {} hosts failed (max-fail {})",
                        duration(at),
                        event["failed_hosts"],
                        event["max_fail"]
                    );
                    if !not_started.is_empty() {
                        hover.push_str(&format!("; not started: {}", not_started.join(", ")));
                    }
                    chart.group(stage).lines.push(Line {
                        at,
                        label: "rollout stopped".to_string(),
                        hover,
                        kind: LineKind::Stopped,
                    });
                }
                ("rollback_started", Some(stage), Some(host)) => {
                    let row = chart.group(stage).row(host, hosts[host]);
                    row.rolling_back = true;
                    row.rollbacks.push(Span {
                        from: at,
                        to: None,
                        hover: format!("rollback of {host} in stage {stage}: no end recorded"),
                    });
                }
                ("rollback_finished", Some(stage), Some(host)) => {
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
                    let row = chart.group(stage).row(host, hosts[host]);
                    row.rolling_back = false;
                    match row.rollbacks.last_mut().filter(|r| r.to.is_none()) {
                        Some(open) => {
                            open.to = Some(at);
                            open.hover = hover;
                        }
                        None => row.rollbacks.push(Span {
                            from: (at - took).max(0.0),
                            to: Some(at),
                            hover,
                        }),
                    }
                }
                ("step_started", Some(stage), Some(host)) => {
                    let rollback = chart.group(stage).row(host, hosts[host]).rolling_back;
                    let step = event["step"].as_u64().unwrap_or(0);
                    open.insert(
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
                    let step = event["step"].as_u64().unwrap_or(0);
                    let took = event["duration_secs"].as_f64();
                    let started = open.remove(&(stage.to_string(), host.to_string(), step));
                    let from = match (&started, took) {
                        (Some(started), _) => started.at,
                        (None, Some(took)) => (at - took).max(0.0),
                        (None, None) => at,
                    };
                    let outcome = Outcome::of_step_finished(event);
                    let row = chart.group(stage).row(host, hosts[host]);
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
                ("check_finished", Some(stage), Some(host)) => {
                    let ok = event["ok"].as_bool().unwrap_or(false);
                    let took = event["duration_secs"].as_f64().unwrap_or(0.0);
                    let mut hover = format!(
                        "check {} on {host} {} after {} attempts, {}\n{}",
                        event["check"].as_str().unwrap_or_default(),
                        if ok { "passed" } else { "gave up" },
                        event["attempts"],
                        duration(took),
                        event["target"].as_str().unwrap_or_default()
                    );
                    if let Some(error) = event["error"].as_str() {
                        hover.push_str(&format!("\n{error}"));
                    }
                    chart
                        .group(stage)
                        .row(host, hosts[host])
                        .checks
                        .push(Check {
                            from: (at - took).max(0.0),
                            at,
                            ok,
                            hover,
                        });
                }
                ("host_unreachable", Some(stage), Some(host)) => {
                    let error = event["error"].as_str().unwrap_or_default();
                    let row = chart.group(stage).row(host, hosts[host]);
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
                    let row = chart.group(stage).row(host, hosts[host]);
                    row.hover = format!("{host} in stage {stage}: {outcome}, {}", duration(took));
                    row.note = match outcome {
                        "not_started" => Some("not started"),
                        "skipped" => Some("skipped"),
                        _ => None,
                    };
                }
                ("stage_finished", Some(stage), _) => {
                    let ok = event["ok"].as_bool().unwrap_or(false);
                    let took = event["duration_secs"].as_f64().unwrap_or(0.0);
                    let group = chart.group(stage);
                    group.finished = Some(at);
                    group.hover = format!(
                        "stage {stage}: {}, {} hosts failed, {}",
                        if ok { "ok" } else { "failed" },
                        event["failed_hosts"],
                        duration(took)
                    );
                }
                ("cancel_requested", _, _) => {
                    let reason = event["reason"].as_str().unwrap_or("a signal");
                    let forced = event["forced"].as_bool() == Some(true);
                    chart.marks.push(Line {
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
                ("run_finished", _, _) => {
                    let summary = &event["summary"];
                    let took = summary["duration_secs"].as_f64().unwrap_or(0.0);
                    chart.end = chart.end.max(took);
                    let ended = if summary["interrupted"].as_bool() == Some(true) {
                        "interrupted"
                    } else if summary["ok"].as_bool() == Some(true) {
                        "ok"
                    } else {
                        "failed"
                    };
                    chart.summary = format!(
                        "{ended} (exit {}) in {}",
                        summary["exit_code"],
                        duration(took)
                    );
                }
                _ => {}
            }
        }
        chart.close_open(open);
        chart.summary = match (planned.is_empty(), chart.summary.is_empty()) {
            (false, false) => format!("{planned} · {}", chart.summary),
            (false, true) => format!("{planned} · no end recorded"),
            (true, false) => chart.summary.clone(),
            (true, true) if events.is_empty() => "no events recorded".to_string(),
            (true, true) => "the run's start and end were not recorded".to_string(),
        };
        for group in &mut chart.groups {
            group.rows.sort_by_key(|r| r.order);
        }
        chart
    }

    /// Steps and rollbacks the events never saw end run to the end of the chart.
    fn close_open(&mut self, open: HashMap<(String, String, u64), OpenStep>) {
        let end = self.end;
        let mut open: Vec<_> = open.into_iter().collect();
        open.sort_by(|a, b| a.1.at.total_cmp(&b.1.at));
        for ((stage, host, step), started) in open {
            let group = self.group(&stage);
            let order = group.rows.len();
            let row = group.row(&host, order);
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
            row.bars.push(Bar {
                from: started.at,
                to: end,
                outcome: Outcome::Unfinished,
                rollback: started.rollback,
                hover,
            });
        }
        for row in self.groups.iter_mut().flat_map(|g| g.rows.iter_mut()) {
            for span in &mut row.rollbacks {
                span.to.get_or_insert(end);
            }
        }
    }

    /// The group of `stage`, added after the others if it has none yet.
    fn group(&mut self, stage: &str) -> &mut Group {
        let index = match self.groups.iter().position(|g| g.stage == stage) {
            Some(index) => index,
            None => {
                self.groups.push(Group::new(stage));
                self.groups.len() - 1
            }
        };
        &mut self.groups[index]
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
    let command = cut;
    format!("{host} · stage {stage} · step {step}{of} · {kind}\n{command}")
}

/// ` exit N` for a command that exited, nothing otherwise.
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
