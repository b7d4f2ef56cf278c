//! What the terminal shows of `sync` and `pull` steps: live progress per host for the
//! status line, one summary line per host when a step ends, and a dry run's itemized list.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

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

/// A dry run's itemized list for one host (`+ path (1.2 kB)`, `~ path`, `- path`), then
/// what it adds up to and the warnings.
pub(super) fn preview(report: &SyncReport) -> Vec<String> {
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
pub(super) fn size(bytes: u64) -> String {
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
    use super::size;

    #[test]
    fn sizes_are_decimal_with_one_decimal() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(999), "999 B");
        assert_eq!(size(1000), "1.0 kB");
        assert_eq!(size(36_900_000), "36.9 MB");
        assert_eq!(size(999_960), "1.0 MB");
        assert_eq!(size(3_200_000_000), "3.2 GB");
    }
}
