//! Disk figures placement already has, so that its probe need not start `df` on every
//! candidate: a disk fills over minutes, where load and memory change by the second.
//! Schedulers work the same way (nodes report their resources every few seconds or
//! minutes); tsync's report is the last `tsync status` or placement that measured the host.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use super::load::Load;

/// A disk figure younger than this is taken as it is; an older one is measured again.
pub const DISK_FRESH_FOR: Duration = Duration::from_secs(10 * 60);

/// One host's root (macOS: data) volume, as `df` measured it at `measured`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Disk {
    pub used: f64,
    pub free_bytes: u64,
    pub measured: SystemTime,
}

impl Disk {
    /// The disk figure of a probe's answer, if it had one.
    pub fn of(load: &Load, measured: SystemTime) -> Option<Disk> {
        Some(Disk {
            used: load.disk_used?,
            free_bytes: load.disk_free_bytes?,
            measured,
        })
    }
}

/// The disk figures of a run: those read from the history before it, and those its
/// placements measured, which the history keeps for the next run.
#[derive(Debug, Default)]
pub struct KnownDisks {
    known: Mutex<HashMap<String, Disk>>,
    measured: Mutex<Vec<String>>,
}

impl KnownDisks {
    pub fn new(known: HashMap<String, Disk>) -> KnownDisks {
        KnownDisks {
            known: Mutex::new(known),
            measured: Mutex::new(Vec::new()),
        }
    }

    /// The figure for `host` if it is younger than [`DISK_FRESH_FOR`] at `now`.
    pub fn fresh(&self, host: &str, now: SystemTime) -> Option<Disk> {
        let known = self.known.lock().expect("not poisoned");
        let disk = known.get(host)?;
        let age = now.duration_since(disk.measured).unwrap_or(Duration::MAX);
        (age < DISK_FRESH_FOR).then_some(*disk)
    }

    /// Keeps what a probe of `host` just measured.
    pub fn measured(&self, host: &str, disk: Disk) {
        self.known
            .lock()
            .expect("not poisoned")
            .insert(host.to_string(), disk);
        self.measured
            .lock()
            .expect("not poisoned")
            .push(host.to_string());
    }

    /// The figures measured during the run, for the history.
    pub fn new_figures(&self) -> Vec<(String, Disk)> {
        let known = self.known.lock().expect("not poisoned");
        let measured = self.measured.lock().expect("not poisoned");
        measured
            .iter()
            .filter_map(|host| Some((host.clone(), *known.get(host)?)))
            .collect()
    }

    /// `load` with the disk figure put in.
    pub fn fill(load: &mut Load, disk: &Disk) {
        load.disk_used = Some(disk.used);
        load.disk_free_bytes = Some(disk.free_bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disk(at: SystemTime) -> Disk {
        Disk {
            used: 0.5,
            free_bytes: 1 << 30,
            measured: at,
        }
    }

    #[test]
    fn a_figure_is_fresh_for_ten_minutes_and_new_ones_are_kept_for_the_history() {
        let now = SystemTime::now();
        let old = now - DISK_FRESH_FOR - Duration::from_secs(1);
        let recent = now - Duration::from_secs(60);
        let known = KnownDisks::new(HashMap::from([
            ("old".to_string(), disk(old)),
            ("recent".to_string(), disk(recent)),
        ]));
        assert_eq!(known.fresh("old", now), None);
        assert_eq!(known.fresh("recent", now), Some(disk(recent)));
        assert_eq!(known.fresh("unknown", now), None);
        // A clock set back makes no figure fresh forever.
        assert_eq!(
            known.fresh("recent", recent - Duration::from_secs(3600)),
            None
        );
        assert!(known.new_figures().is_empty());
        known.measured("old", disk(now));
        assert_eq!(known.fresh("old", now), Some(disk(now)));
        assert_eq!(known.new_figures(), vec![("old".to_string(), disk(now))]);
    }
}
