//! What the terminal shows of `sync` and `pull` steps: live progress per host for the
//! status line, one summary line per host when a step ends, and a dry run's itemized list.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::sync::Arc;

use super::{GREEN, Human, YELLOW, secs};
use crate::report::printable::printable;
use crate::sync::{Direction, SyncReport};

/// The sync steps under way, and the reports waiting for their `step_finished`.
#[derive(Default)]
pub(super) struct SyncView {
    /// By host: files done and in all, bytes done and in all.
    progress: BTreeMap<Arc<str>, [u64; 4]>,
    /// By host: the report of the sync step whose `step_finished` comes next.
    finished: HashMap<Arc<str>, (Direction, SyncReport)>,
}

impl SyncView {
    pub(super) fn progress(&mut self, host: &Arc<str>, done: [u64; 4]) {
        self.progress.insert(host.clone(), done);
    }

    pub(super) fn finished(&mut self, host: &Arc<str>, direction: Direction, report: SyncReport) {
        self.progress.remove(host);
        self.finished.insert(host.clone(), (direction, report));
    }

    /// The host's step ended: its progress is no longer live.
    pub(super) fn step_ended(&mut self, host: &Arc<str>) {
        self.progress.remove(host);
    }

    /// For the status line: bytes and files done of all syncs under way, then per host.
    pub(super) fn status(&self) -> Option<String> {
        if self.progress.is_empty() {
            return None;
        }
        let total = self.progress.values().fold([0; 4], |mut sum, p| {
            sum.iter_mut().zip(p).for_each(|(s, v)| *s += v);
            sum
        });
        let hosts: Vec<String> = self
            .progress
            .iter()
            .map(|(host, [_, _, bytes, all])| format!("{host} {}/{}", size(*bytes), size(*all)))
            .collect();
        Some(format!(
            "sync {}/{} files, {}/{} ({})",
            total[0],
            total[1],
            size(total[2]),
            size(total[3]),
            hosts.join(", ")
        ))
    }

    /// The lines that end a sync step on `host`, which took `duration`: what it did, then
    /// its warnings. None if no report came (the step failed).
    pub(super) fn summary(&mut self, host: &Arc<str>, duration: &str) -> Option<Vec<String>> {
        let (direction, report) = self.finished.remove(host)?;
        let verb = match direction {
            Direction::Push => "synced",
            Direction::Pull => "pulled",
        };
        let mut line = if report.changed() {
            format!(
                "{verb} {} file{} ({})",
                report.files_sent,
                plural(report.files_sent),
                size(report.bytes_sent)
            )
        } else {
            format!(
                "up to date ({} file{})",
                report.unchanged,
                plural(report.unchanged)
            )
        };
        if report.deleted > 0 {
            line.push_str(&format!(", deleted {}", report.deleted));
        }
        line.push_str(&format!(" in {duration}"));
        let mut lines = vec![line];
        lines.extend(report.warnings.iter().map(|w| format!("warning: {w}")));
        Some(lines)
    }
}

impl<W: Write> Human<W> {
    /// The end of a sync step on `host`: what it did, then its warnings.
    pub(super) fn sync_summary(
        &mut self,
        host: &Arc<str>,
        stage: &str,
        step: usize,
        duration_secs: f64,
    ) -> io::Result<()> {
        let lines = self.sync.summary(host, &secs(duration_secs));
        for (k, line) in lines.into_iter().flatten().enumerate() {
            let text = if k == 0 && self.one_stage {
                self.paint(GREEN, &format!("✓ {host}: {line}"))
            } else if k == 0 {
                self.paint(GREEN, &format!("✓ {host}: {stage} step {step} {line}"))
            } else {
                self.paint(YELLOW, &format!("    {line}"))
            };
            self.line(&text)?;
        }
        Ok(())
    }

    /// A dry run's list of what a sync step would change on a host, under its preview.
    pub(super) fn sync_preview(&mut self, report: &SyncReport) -> io::Result<()> {
        for line in preview(report) {
            let text = format!("      {}", printable(&line));
            self.line(&text)?;
        }
        Ok(())
    }
}

/// A dry run's itemized list for one host (`+ path (1.2 kB)`, `~ path`, `- path`), then
/// what it adds up to and the warnings.
fn preview(report: &SyncReport) -> Vec<String> {
    let mut lines: Vec<String> = report
        .items
        .iter()
        .map(|item| {
            if item.bytes > 0 {
                format!(
                    "{} {} ({})",
                    item.change.mark(),
                    item.path,
                    size(item.bytes)
                )
            } else {
                format!("{} {}", item.change.mark(), item.path)
            }
        })
        .collect();
    lines.push(format!(
        "would send {} file{} ({}), delete {}",
        report.files_sent,
        plural(report.files_sent),
        size(report.bytes_sent),
        report.deleted
    ));
    lines.extend(report.warnings.iter().map(|w| format!("warning: {w}")));
    lines
}

/// Bytes for people, in decimal units with one decimal: `512 B`, `36.9 MB`.
fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    // 999.96 kB would print as 1000.0 kB: move up a unit before rounding does.
    while value >= 999.95 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::size;
    use crate::report::{Human, Reporter};
    use crate::runner::{Event, StepOutcome};
    use crate::sync::{Change, Direction, Item, SyncReport};

    #[test]
    fn sizes_are_decimal_with_one_decimal() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(999), "999 B");
        assert_eq!(size(1000), "1.0 kB");
        assert_eq!(size(36_900_000), "36.9 MB");
        assert_eq!(size(999_960), "1.0 MB");
        assert_eq!(size(3_200_000_000), "3.2 GB");
    }

    /// What the terminal reporter writes (no terminal, no colour) for `events`.
    fn shown(events: &[Event]) -> String {
        let mut out = Vec::new();
        let mut human = Human::new(&mut out, false, false, &["web-1".to_string()]);
        for event in events {
            human.handle(event).unwrap();
        }
        human.flush().unwrap();
        drop(human);
        String::from_utf8(out).unwrap()
    }

    fn finished(dry_run: bool, report: SyncReport) -> Event {
        Event::SyncFinished {
            stage: Arc::from("ship"),
            host: Arc::from("web-1"),
            step: 1,
            direction: Direction::Push,
            dry_run,
            report,
        }
    }

    fn step_finished(changed: bool) -> Event {
        Event::StepFinished {
            stage: Arc::from("ship"),
            host: Arc::from("web-1"),
            step: 1,
            command: "sync site/ → /srv/site".into(),
            outcome: StepOutcome::Synced { changed },
            changed,
            duration_secs: 8.0,
            stderr: String::new(),
        }
    }

    #[test]
    fn a_sync_step_ends_with_one_line_per_host() {
        let report = SyncReport {
            files_sent: 145,
            bytes_sent: 36_900_000,
            deleted: 2,
            items: vec![Item {
                change: Change::Create,
                path: "index.html".into(),
                bytes: 36_900_000,
            }],
            warnings: vec!["delete skipped".into()],
            ..SyncReport::default()
        };
        let text = shown(&[finished(false, report), step_finished(true)]);
        assert_eq!(
            text,
            "✓ web-1: ship step 1 synced 145 files (36.9 MB), deleted 2 in 8.00s\n    warning: delete skipped\n"
        );
        let report = SyncReport {
            unchanged: 145,
            ..SyncReport::default()
        };
        let text = shown(&[finished(false, report), step_finished(false)]);
        assert_eq!(
            text,
            "✓ web-1: ship step 1 up to date (145 files) in 8.00s\n"
        );
    }

    #[test]
    fn a_dry_run_lists_each_change() {
        let item = |change, path: &str, bytes| Item {
            change,
            path: path.into(),
            bytes,
        };
        let report = SyncReport {
            files_sent: 1,
            bytes_sent: 1_500,
            deleted: 1,
            items: vec![
                item(Change::Create, "a.txt", 1_500),
                item(Change::Attributes, "b.txt", 0),
                item(Change::Delete, "old", 0),
            ],
            ..SyncReport::default()
        };
        let text = shown(&[finished(true, report)]);
        assert_eq!(
            text,
            "      + a.txt (1.5 kB)\n      ~ b.txt\n      - old\n      would send 1 file (1.5 kB), delete 1\n"
        );
    }
}
