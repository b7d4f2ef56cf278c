//! Records a run in the history: its events (timestamped on arrival, for they carry no
//! time), each host's outcome and first failure, and the hosts that answered. A history
//! that cannot be written is a warning, never a failed run: the recorder then stops
//! recording and the run goes on.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use super::Reporter;
use crate::history::{History, HistoryError, HostRecord, NewRun, RunId};
use crate::runner::{Event, HostOutcome};

pub struct Recorder {
    /// None once a write failed: warned about once, nothing more is tried.
    history: Option<History>,
    id: RunId,
    started: Instant,
    /// Stored at the next flush, in one transaction.
    events: Vec<(f64, String)>,
    seen: Vec<(String, SystemTime)>,
    hosts: BTreeMap<Arc<str>, HostTrack>,
}

/// What the events said about one host so far.
#[derive(Default)]
struct HostTrack {
    /// The worst of its stages; None until one finished on it.
    outcome: Option<HostOutcome>,
    duration_secs: f64,
    failure: Option<String>,
}

impl Recorder {
    /// Opens the history and records that `run` starts; None (after a warning) when the
    /// history cannot be used.
    pub fn start(run: &NewRun) -> Option<Recorder> {
        let started = Instant::now();
        let begun = History::open().and_then(|mut history| {
            let id = history.begin(run)?;
            Ok((history, id))
        });
        match begun {
            Ok((history, id)) => Some(Recorder {
                history: Some(history),
                id,
                started,
                events: Vec::new(),
                seen: Vec::new(),
                hosts: BTreeMap::new(),
            }),
            Err(e) => {
                warn(&e);
                None
            }
        }
    }

    /// Records how the run ended: `exit_code` is known only after the runner returned.
    pub fn finish(mut self, exit_code: i32) {
        self.store();
        let hosts: Vec<HostRecord> = std::mem::take(&mut self.hosts)
            .into_iter()
            .map(|(host, track)| HostRecord {
                host: host.to_string(),
                outcome: track.outcome.map_or("unfinished", word).to_string(),
                duration_secs: track.duration_secs,
                failure: track.failure,
            })
            .collect();
        if let Some(history) = &mut self.history
            && let Err(e) = history.finish(self.id, exit_code, &hosts)
        {
            warn(&e);
        }
    }

    /// Writes what is pending; on failure, warns and stops recording.
    fn store(&mut self) {
        let Some(history) = &mut self.history else {
            return;
        };
        if self.events.is_empty() && self.seen.is_empty() {
            return;
        }
        let stored = history.append(self.id, &self.events, &self.seen);
        self.events.clear();
        self.seen.clear();
        if let Err(e) = stored {
            warn(&e);
            self.history = None;
        }
    }

    fn track(&mut self, host: &Arc<str>) -> &mut HostTrack {
        self.hosts.entry(host.clone()).or_default()
    }

    /// Keeps the first reason `host` failed.
    fn failed(&mut self, host: &Arc<str>, why: impl FnOnce() -> String) {
        let track = self.track(host);
        if track.failure.is_none() {
            track.failure = Some(why());
        }
    }

    /// Follows each host's outcome and first failure.
    fn follow(&mut self, event: &Event) {
        match event {
            Event::HostUnreachable { host, error, .. } => {
                self.failed(host, || first_line(error).to_string());
            }
            Event::StepFinished {
                stage,
                host,
                step,
                outcome,
                stderr,
                ..
            } if !outcome.ok() => {
                self.failed(host, || {
                    let why = match (outcome.exit_code(), outcome.error()) {
                        (Some(code), _) => format!("exit code {code}"),
                        (None, Some(error)) => first_line(&error).to_string(),
                        (None, None) => "killed by a signal".to_string(),
                    };
                    match stderr.lines().rev().map(str::trim).find(|l| !l.is_empty()) {
                        Some(line) => format!("{stage} step {step}: {why}: {line}"),
                        None => format!("{stage} step {step}: {why}"),
                    }
                });
            }
            Event::CheckFinished {
                stage,
                host,
                check,
                ok: false,
                error,
                ..
            } => {
                self.failed(host, || {
                    let why = error.as_deref().map_or("failed", first_line);
                    format!("{stage} check {check}: {why}")
                });
            }
            Event::HostFinished {
                host,
                outcome,
                duration_secs,
                ..
            } => {
                let track = self.track(host);
                track.duration_secs += duration_secs;
                if track.outcome.is_none_or(|o| rank(*outcome) > rank(o)) {
                    track.outcome = Some(*outcome);
                }
                if matches!(outcome, HostOutcome::Ok | HostOutcome::Failed) {
                    self.seen.push((host.to_string(), SystemTime::now()));
                }
            }
            _ => {}
        }
    }
}

impl Reporter for Recorder {
    fn handle(&mut self, event: &Event) -> io::Result<()> {
        if self.history.is_none() {
            return Ok(());
        }
        self.follow(event);
        // Output may run to gigabytes, and progress adds nothing once the sync finished.
        if !matches!(event, Event::Output { .. } | Event::SyncProgress { .. })
            && let Ok(json) = serde_json::to_string(event)
        {
            let at = self.started.elapsed().as_secs_f64();
            self.events.push((at, json));
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.store();
        Ok(())
    }
}

/// The word `host_finished` uses for `outcome`.
fn word(outcome: HostOutcome) -> &'static str {
    match outcome {
        HostOutcome::Ok => "ok",
        HostOutcome::Failed => "failed",
        HostOutcome::Unreachable => "unreachable",
        HostOutcome::Skipped => "skipped",
        HostOutcome::NotStarted => "not_started",
    }
}

/// How bad an outcome is: a host's run outcome is the worst of its stages'.
fn rank(outcome: HostOutcome) -> u8 {
    match outcome {
        HostOutcome::Ok => 0,
        HostOutcome::Skipped | HostOutcome::NotStarted => 1,
        HostOutcome::Failed => 2,
        HostOutcome::Unreachable => 3,
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("").trim()
}

/// The history is a convenience: its trouble is said, and the run goes on.
pub fn warn(error: &HistoryError) {
    let _ = writeln!(io::stderr(), "warning: history: {error}");
}
