//! The end of a run: a line per host (only the hosts that went wrong under `--quiet`) and
//! the verdict; for a dry run, one line of what a real run would do.

use std::io::{self, Write};

use super::{BOLD, DIM, GREEN, Human, RED, YELLOW, plural, secs};
use crate::report::printable::printable;
use crate::runner::Summary;

impl<W: Write> Human<W> {
    pub(super) fn recap(&mut self, summary: &Summary) -> io::Result<()> {
        if !self.quiet {
            self.line("")?;
        }
        if summary.dry_run {
            return self.dry_run_recap(summary);
        }
        let width = self.width.max(4);
        // Quiet: the hosts that went wrong, and only them.
        let listed: Vec<_> = summary
            .hosts
            .iter()
            .filter(|h| !self.quiet || h.failed + h.unreachable + h.not_started > 0)
            .collect();
        if !listed.is_empty() {
            let title = self.paint(BOLD, "recap");
            self.line(&title)?;
        }
        for h in listed {
            let (word, style) = if h.failed > 0 {
                ("failed", RED)
            } else if h.unreachable > 0 {
                ("unreachable", RED)
            } else if h.changed > 0 {
                ("changed", YELLOW)
            } else if h.ok > 0 {
                ("ok", GREEN)
            } else if h.not_started > 0 {
                ("not started", RED)
            } else if h.not_picked > 0 && h.skipped == 0 {
                ("not picked", DIM)
            } else {
                ("skipped", DIM)
            };
            let word = self.paint(style, &format!("{word:<11}"));
            let mut text = format!(
                "  {:<width$}  {word}  ok={} changed={} failed={} unreachable={} skipped={}  {}",
                printable(&h.host),
                h.ok,
                h.changed,
                h.failed,
                h.unreachable,
                h.skipped,
                secs(h.duration_secs)
            );
            match h.rolled_back {
                Some(true) => text.push_str(&format!("  {}", self.paint(YELLOW, "rolled back"))),
                Some(false) => text.push_str(&format!("  {}", self.paint(RED, "rollback failed"))),
                None => {}
            }
            if let Some(failure) = &h.failure {
                let indent = format!("\n  {:<width$}    ", "");
                let lines: Vec<_> = failure.lines().map(printable).collect();
                text.push_str(&format!("\n  {:<width$}  └ {}", "", lines.join(&indent)));
            }
            self.line(&text)?;
        }
        let failed = summary.hosts.iter().filter(|h| h.failed > 0).count();
        let unreachable = summary
            .hosts
            .iter()
            .filter(|h| h.failed == 0 && h.unreachable > 0)
            .count();
        let verdict = if summary.interrupted {
            self.paint(YELLOW, "interrupted")
        } else if summary.ok {
            self.paint(GREEN, "succeeded")
        } else {
            self.paint(RED, "failed")
        };
        // Hosts only measured for a `least-loaded(…)` pick were not worked on.
        let worked = summary
            .hosts
            .iter()
            .filter(|h| h.not_picked == 0 || h.ok + h.changed + h.failed + h.unreachable > 0)
            .count();
        let text = format!(
            "{verdict}: {worked} host{}, {failed} failed, {unreachable} unreachable, in {}",
            plural(worked),
            secs(summary.duration_secs)
        );
        self.line(&text)
    }
}

impl<W: Write> Human<W> {
    /// What a real run would do, in one line: nothing was changed.
    fn dry_run_recap(&mut self, summary: &Summary) -> io::Result<()> {
        let steps: usize = self.would.values().map(|w| w.0).sum();
        let hosts = self.would.values().filter(|w| w.0 > 0).count();
        let skipped: usize = self.would.values().map(|w| w.1).sum();
        let unknown: usize = self.would.values().map(|w| w.2).sum();
        let unreachable = summary.hosts.iter().filter(|h| h.unreachable > 0).count();
        let verdict = if summary.interrupted {
            self.paint(YELLOW, "dry run interrupted")
        } else {
            self.paint(BOLD, "dry run")
        };
        let text = format!(
            "{verdict}: {steps} step{} would run on {hosts} host{}, {skipped} skipped{}, {unreachable} unreachable; nothing was changed",
            plural(steps),
            plural(hosts),
            if unknown > 0 {
                format!(", {unknown} unknown")
            } else {
                String::new()
            }
        );
        self.line(&text)
    }
}
