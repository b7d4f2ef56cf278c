//! Health checks on the terminal: each attempt kept quietly, the last few shown when a check
//! gives up, a pass after retries in dim, a failure in red with its probe and attempts.

use std::collections::VecDeque;
use std::io::{self, Write};

use super::{DIM, Human, RED, secs};
use crate::report::printable::printable;
use crate::runner::Event;

/// A check under way on one host: the attempt reached, the attempts allowed, and the last
/// few attempts' results.
#[derive(Default)]
pub(super) struct CheckProgress {
    pub(super) attempt: u32,
    pub(super) attempts: u32,
    recent: VecDeque<String>,
}

/// Attempts shown when a check gives up.
const RECENT_ATTEMPTS: usize = 3;

impl<W: Write> Human<W> {
    /// A `check_attempt`: remembered, shown only if the check gives up.
    pub(super) fn check_attempt(&mut self, event: &Event) {
        let Event::CheckAttempt {
            host,
            check,
            attempt,
            attempts,
            result,
            elapsed_secs,
            ..
        } = event
        else {
            return;
        };
        let progress = self
            .checking
            .entry((host.clone(), check.clone()))
            .or_default();
        progress.attempt = *attempt;
        progress.attempts = *attempts;
        if progress.recent.len() == RECENT_ATTEMPTS {
            progress.recent.pop_front();
        }
        progress.recent.push_back(format!(
            "attempt {attempt}/{attempts} ({}): {}",
            secs(*elapsed_secs),
            result.describe()
        ));
    }

    /// A `check_finished`: a failure with its last attempts, a late pass dimmed.
    pub(super) fn check_finished(&mut self, event: &Event) -> io::Result<()> {
        let Event::CheckFinished {
            stage,
            host,
            check,
            target,
            ok,
            attempts,
            error,
            duration_secs,
        } = event
        else {
            return Ok(());
        };
        let progress = self.checking.remove(&(host.clone(), check.clone()));
        if *ok {
            *self.healthy.entry(stage.clone()).or_default() += 1;
            if *attempts > 1 {
                let text = format!(
                    "✓ {host}: {stage} check {check} passed after {attempts} attempts ({})",
                    secs(*duration_secs)
                );
                let text = self.paint(DIM, &printable(&text));
                self.line(&text)?;
            }
        } else {
            let text = format!(
                "✗ {host}: {stage} check {check} ({target}) failed after {}: {}",
                secs(*duration_secs),
                error.as_deref().unwrap_or("failed")
            );
            let text = self.paint(RED, &printable(&text));
            self.line(&text)?;
            for attempt in progress.iter().flat_map(|p| &p.recent) {
                let l = format!("    {}", printable(attempt));
                self.line(&l)?;
            }
        }
        Ok(())
    }
}
