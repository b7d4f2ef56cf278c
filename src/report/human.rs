//! The terminal reporter: each host's output attributed to it, failures with their command,
//! exit code and stderr, and a recap with one line per host. On a terminal a status line
//! shows live progress; off a terminal (cron, CI, pipes) output is plain lines with no
//! escape codes. Everything that comes from outside tsync (output, names, commands, ssh's
//! messages) goes through [`printable`] first: the only escape codes written are tsync's.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::sync::Arc;

mod check_view;
mod placement_view;
mod quiet;
mod recap;
mod sync_view;

use super::Reporter;
use super::printable::printable;
use crate::runner::{CancelReason, Event, StepOutcome, Stream, Would};
use check_view::CheckProgress;
use sync_view::SyncView;

pub struct Human<W: Write> {
    out: W,
    /// Live status line and colours.
    terminal: bool,
    color: bool,
    /// Width of the host column, so output lines up.
    width: usize,
    /// Running stages: (hosts done, hosts in all).
    progress: HashMap<String, (usize, usize)>,
    /// Whether the status line is on screen, and what it says.
    status_shown: bool,
    status_text: String,
    /// The last host whose output was shown, with its line prefix (`  web-1 │ `).
    prefix: (Option<Arc<str>>, String),
    /// Checks under way, by host and check: the attempt reached, the attempts allowed, and
    /// the last few attempts' results, shown if the check gives up.
    checking: BTreeMap<(Arc<str>, Arc<str>), CheckProgress>,
    /// Passed health checks, by stage, counted per host and check.
    healthy: HashMap<Arc<str>, usize>,
    /// Dry run, by host: steps that would run, be skipped, or whose fate is unknown.
    would: BTreeMap<Arc<str>, (usize, usize, usize)>,
    /// Sync steps: their progress, and reports waiting for their step's end.
    sync: SyncView,
    /// The run has one stage (`tsync push`, `tsync pull`, a one-stage playbook): a sync's
    /// line need not say which stage and step it ended.
    one_stage: bool,
    /// `--quiet`: only what went wrong, and the verdict.
    quiet: bool,
}

const RESET: &str = "\x1b[0m";
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const DIM: &str = "\x1b[2m";
const BOLD: &str = "\x1b[1m";

impl<W: Write> Human<W> {
    pub fn new(out: W, terminal: bool, color: bool, host_names: &[String]) -> Self {
        Human {
            out,
            terminal,
            color,
            width: host_names
                .iter()
                .map(|h| h.chars().count())
                .max()
                .unwrap_or(0),
            progress: HashMap::new(),
            checking: BTreeMap::new(),
            would: BTreeMap::new(),
            sync: SyncView::default(),
            one_stage: false,
            healthy: HashMap::new(),
            status_shown: false,
            status_text: String::new(),
            prefix: (None, String::new()),
            quiet: false,
        }
    }

    /// Shows only failures and the final line (`--quiet`).
    pub fn quiet(mut self, quiet: bool) -> Self {
        self.quiet = quiet;
        self
    }

    /// `text` (made printable) in a style.
    fn paint(&self, style: &str, text: &str) -> String {
        let text = printable(text);
        if self.color {
            format!("{style}{text}{RESET}")
        } else {
            text.into_owned()
        }
    }

    /// Writes a whole line (already printable) above the status line, which the next
    /// flush redraws.
    fn line(&mut self, text: &str) -> io::Result<()> {
        self.clear_status()?;
        self.out.write_all(text.as_bytes())?;
        self.out.write_all(b"\n")
    }

    fn clear_status(&mut self) -> io::Result<()> {
        if self.status_shown {
            self.out.write_all(b"\r\x1b[2K")?;
            self.status_shown = false;
        }
        Ok(())
    }

    fn status(&mut self) -> io::Result<()> {
        if !self.terminal || self.progress.is_empty() {
            return Ok(());
        }
        let mut parts: Vec<String> = self
            .progress
            .iter()
            .map(|(stage, (done, all))| format!("{stage} {done}/{all} hosts"))
            .collect();
        parts.sort();
        parts.extend(
            self.checking
                .iter()
                .map(|((host, check), p)| format!("{host} {check} {}/{}", p.attempt, p.attempts)),
        );
        parts.extend(self.sync.status());
        let text = format!("… {}", parts.join(", "));
        if self.status_shown && text == self.status_text {
            return Ok(());
        }
        write!(self.out, "\r\x1b[2K{}", self.paint(DIM, &text))?;
        self.status_text = text;
        self.status_shown = true;
        Ok(())
    }
}

impl<W: Write> Reporter for Human<W> {
    fn handle(&mut self, event: &Event) -> io::Result<()> {
        if let Event::StepFinished { host, .. } = event {
            self.sync.step_ended(host);
        }
        if self.quiet && !quiet::shown(event) {
            return Ok(());
        }
        match event {
            Event::RunStarted {
                playbook,
                stages,
                hosts,
            } => {
                self.one_stage = *stages == 1;
                let text = format!(
                    "{playbook}: {stages} stage{}, {hosts} host{}",
                    plural(*stages),
                    plural(*hosts)
                );
                let text = self.paint(BOLD, &text);
                self.line(&text)?;
            }
            Event::StageStarted { stage, hosts } => {
                self.progress.insert(stage.to_string(), (0, hosts.len()));
                let text = self.paint(BOLD, &format!("▶ {stage}"));
                let hosts = printable(&hosts.join(", ")).into_owned();
                self.line(&format!("{text} on {hosts}"))?;
            }
            Event::StageSkipped { stage, reason } => {
                let text = self.paint(YELLOW, &format!("- {stage} skipped: {reason}"));
                self.line(&text)?;
            }
            Event::BatchStarted {
                stage,
                batch,
                batches,
                hosts,
            } => {
                let hosts = printable(&hosts.join(", ")).into_owned();
                let text = self.paint(BOLD, &format!("  {stage} batch {batch}/{batches}"));
                self.line(&format!("{text} on {hosts}"))?;
            }
            Event::RolloutStopped {
                stage,
                failed_hosts,
                max_fail,
                not_started,
            } => {
                let text = format!(
                    "✗ {stage}: rollout stopped, {failed_hosts} host{} failed or unreachable (max-fail {max_fail}); not started: {}",
                    plural(*failed_hosts),
                    not_started.join(", ")
                );
                let text = self.paint(RED, &printable(&text));
                self.line(&text)?;
            }
            Event::HostsPlaced {
                picked,
                passed_over,
                ..
            } => {
                for line in placement_view::lines(picked, passed_over) {
                    let text = match line {
                        placement_view::Line::Picked(text) => self.paint(GREEN, &printable(&text)),
                        placement_view::Line::PassedOver(text) => {
                            self.paint(DIM, &printable(&text))
                        }
                    };
                    self.line(&text)?;
                }
            }
            Event::PlacementFailed { stage, error } => {
                let text = self.paint(RED, &printable(&format!("✗ {stage}: {error}")));
                self.line(&text)?;
            }
            Event::RollbackStarted { stage, host } => {
                let text = self.paint(YELLOW, &format!("↺ {host}: {stage} rolling back"));
                self.line(&text)?;
            }
            Event::RollbackFinished {
                stage,
                host,
                ok,
                error,
                duration_secs,
            } => {
                let text = if *ok {
                    self.paint(
                        YELLOW,
                        &format!("↺ {host}: {stage} rolled back ({})", secs(*duration_secs)),
                    )
                } else {
                    let why = printable(error.as_deref().unwrap_or("failed")).into_owned();
                    self.paint(RED, &format!("✗ {host}: {stage} rollback failed: {why}"))
                };
                self.line(&text)?;
            }
            Event::StepPreview {
                stage,
                host,
                step,
                kind,
                command,
                script,
                would,
                reason,
            } => {
                let what = match would {
                    Would::Run => {
                        self.would.entry(host.clone()).or_default().0 += 1;
                        if kind.as_str() == "local" {
                            "would run on this machine".to_string()
                        } else {
                            "would run".to_string()
                        }
                    }
                    Would::Skip => {
                        self.would.entry(host.clone()).or_default().1 += 1;
                        format!("would skip ({})", reason.as_deref().unwrap_or_default())
                    }
                    Would::Unknown => {
                        self.would.entry(host.clone()).or_default().2 += 1;
                        format!("unknown ({})", reason.as_deref().unwrap_or_default())
                    }
                    Would::RunOnFailure => "would roll back with".to_string(),
                };
                let what = match script {
                    Some(path) => format!("{what} {path}"),
                    None => what,
                };
                let text = format!("  {host}: {stage} step {step} {what}: {command}");
                self.line(&printable(&text))?;
            }
            Event::CheckPreview {
                stage,
                host,
                check,
                target,
                result,
            } => {
                let (style, verdict) = if result.ok {
                    (GREEN, "healthy now")
                } else {
                    (YELLOW, "not healthy now")
                };
                let text = format!(
                    "  {host}: {stage} check {check} ({target}) {verdict}: {}",
                    result.describe()
                );
                let text = self.paint(style, &printable(&text));
                self.line(&text)?;
            }
            Event::StepStarted { .. } => {}
            // The one event per line of output: written straight into the buffer.
            Event::Output {
                host, stream, line, ..
            } => {
                self.clear_status()?;
                if self.prefix.0.as_ref() != Some(host) {
                    let (name, w) = (printable(host), self.width);
                    let text = if self.color {
                        format!("{DIM}{name:>w$} │{RESET} ")
                    } else {
                        format!("{name:>w$} │ ")
                    };
                    self.prefix = (Some(host.clone()), text);
                }
                self.out.write_all(self.prefix.1.as_bytes())?;
                let line = printable(line);
                if self.color && *stream == Stream::Stderr {
                    write!(self.out, "{YELLOW}{line}{RESET}")?;
                } else {
                    self.out.write_all(line.as_bytes())?;
                }
                self.out.write_all(b"\n")?;
            }
            // A step that timed out, lost its connection or was cancelled is reported by
            // its own event (step_timed_out, host_unreachable, cancel_requested).
            Event::StepFinished {
                host,
                step,
                command,
                outcome:
                    outcome @ (StepOutcome::Exited { .. }
                    | StepOutcome::Signalled
                    | StepOutcome::FailedToRun { .. }),
                duration_secs,
                stderr,
                stage,
                ..
            } if !outcome.ok() => {
                let how = match outcome {
                    StepOutcome::Exited { code } => format!("exited with code {code}"),
                    StepOutcome::FailedToRun { error } => format!("could not run ({error})"),
                    _ => "was killed by a signal".to_string(),
                };
                let text = self.paint(
                    RED,
                    &format!(
                        "✗ {host}: {stage} step {step} {how} after {}: {command}",
                        secs(*duration_secs)
                    ),
                );
                self.line(&text)?;
                for l in stderr.lines().filter(|l| !l.trim().is_empty()) {
                    let l = format!("    {}", printable(l));
                    self.line(&l)?;
                }
            }
            // A step a guard skipped: one dim line, so a second run shows what it left alone.
            Event::StepFinished {
                host,
                stage,
                step,
                outcome: StepOutcome::Skipped { reason },
                ..
            } => {
                let text = format!("- {host}: {stage} step {step} skipped: {reason}");
                let text = self.paint(DIM, &printable(&text));
                self.line(&text)?;
            }
            Event::StepFinished {
                host,
                stage,
                step,
                outcome: StepOutcome::Synced { .. },
                duration_secs,
                ..
            } => self.sync_summary(host, stage, *step, *duration_secs)?,
            Event::StepFinished { .. } => {}
            Event::SyncProgress {
                host,
                files_done,
                files_total,
                bytes_done,
                bytes_total,
                ..
            } => {
                let done = [*files_done, *files_total, *bytes_done, *bytes_total];
                self.sync.progress(host, done);
            }
            Event::SyncFinished {
                host,
                direction,
                dry_run: false,
                report,
                ..
            } => self.sync.finished(host, *direction, report.clone()),
            Event::SyncFinished {
                dry_run: true,
                report,
                ..
            } => self.sync_preview(report)?,
            Event::CheckAttempt { .. } => self.check_attempt(event),
            Event::CheckFinished { .. } => self.check_finished(event)?,
            Event::Confirmation {
                stage,
                host,
                step,
                ok,
                error,
            } => {
                let text = if *ok {
                    self.paint(
                        GREEN,
                        &format!("✓ {host}: {stage} step {step} confirmed over a new connection"),
                    )
                } else {
                    let why = printable(error.as_deref().unwrap_or("not confirmed")).into_owned();
                    self.paint(RED, &format!("✗ {host}: {stage} step {step} {why}"))
                };
                self.line(&text)?;
            }
            Event::StepTimedOut {
                host,
                stage,
                step,
                command,
                timeout_secs,
            } => {
                let text = self.paint(
                    RED,
                    &format!(
                        "✗ {host}: {stage} step {step} timed out after {}, host cut off: {command}",
                        secs(*timeout_secs)
                    ),
                );
                self.line(&text)?;
            }
            Event::HostUnreachable { host, error, .. } => {
                // ssh's message may run over several lines: the later ones are indented.
                let mut lines = error.lines();
                let first = lines.next().unwrap_or_default();
                let text = self.paint(RED, &format!("✗ {host} unreachable: {first}"));
                self.line(&text)?;
                for l in lines {
                    let l = format!("    {}", printable(l));
                    self.line(&l)?;
                }
            }
            Event::HostFinished { stage, .. } => {
                if let Some((done, _)) = self.progress.get_mut(&**stage) {
                    *done += 1;
                }
            }
            Event::StageFinished {
                stage,
                ok,
                failed_hosts,
                duration_secs,
            } => {
                self.progress.remove(&**stage);
                let checks = match self.healthy.remove(stage) {
                    Some(n) => format!(", {n} health check{} passed", plural(n)),
                    None => String::new(),
                };
                let text = if *ok && *failed_hosts > 0 {
                    self.paint(
                        YELLOW,
                        &format!(
                            "✓ {stage} ({}){checks}, {failed_hosts} failed host{} within max-fail",
                            secs(*duration_secs),
                            plural(*failed_hosts)
                        ),
                    )
                } else if *ok {
                    self.paint(
                        GREEN,
                        &format!("✓ {stage} ({}){checks}", secs(*duration_secs)),
                    )
                } else {
                    self.paint(RED, &format!("✗ {stage} failed ({})", secs(*duration_secs)))
                };
                self.line(&text)?;
            }
            Event::CancelRequested {
                forced: false,
                reason,
            } => {
                let text = self.paint(
                    YELLOW,
                    &format!(
                        "interrupted by {reason}: letting running steps finish, starting nothing new (Ctrl-C again to stop them)"
                    ),
                );
                self.line(&text)?;
            }
            Event::CancelRequested {
                forced: true,
                reason,
            } => {
                let text = match reason {
                    CancelReason::Interrupt => {
                        "interrupted again: stopping running steps".to_string()
                    }
                    other => format!("interrupted by {other}: stopping running steps"),
                };
                let text = self.paint(YELLOW, &text);
                self.line(&text)?;
            }
            Event::LockTaken { name, hosts, .. } => {
                let text = match hosts.as_slice() {
                    [] => format!("lock `{name}` taken"),
                    hosts => format!("lock `{name}` taken on {}", hosts.join(", ")),
                };
                let text = self.paint(DIM, &printable(&text));
                self.line(&text)?;
            }
            Event::LockWaiting { name, host, holder } => {
                let whose = match holder {
                    Some(record) => record.describe(crate::lock::unix_now()),
                    None => "held (its record cannot be read)".to_string(),
                };
                let text = format!("waiting for lock `{name}` on {host}: {whose}");
                let text = self.paint(YELLOW, &printable(&text));
                self.line(&text)?;
            }
            Event::LockReleased { name, .. } => {
                let text = self.paint(DIM, &format!("lock `{name}` released"));
                self.line(&text)?;
            }
            Event::Warning { message } => {
                let text = self.paint(YELLOW, &format!("warning: {message}"));
                self.line(&text)?;
            }
            Event::RunFinished { summary } => self.recap(summary)?,
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.status()?;
        self.out.flush()
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn secs(s: f64) -> String {
    if s < 10.0 {
        format!("{s:.2}s")
    } else if s < 120.0 {
        format!("{s:.1}s")
    } else {
        format!("{}m{:02}s", (s / 60.0) as u64, (s % 60.0) as u64)
    }
}
