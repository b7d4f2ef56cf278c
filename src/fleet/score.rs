//! The load score: how busy a host is, from 0 (idle) to 1 (saturated); lower is better.
//!
//! ```text
//! cpu   = (busy share over the probe's 0.1 s + min(1-minute load / cores, 1)) / 2
//! score = 0.4 × cpu + 0.3 × memory used + 0.3 × disk used
//! ```
//!
//! The CPU part pairs two views: the busy share sees now but only for a tenth of a second;
//! the load average per core (the host's real core count, where the original agent assumed
//! 4) sees the last minute but also counts tasks blocked on I/O. Placement skips the busy
//! sample, so that it costs a run one round trip and not 0.1 s more: its CPU part is the
//! load per core alone. A part a host could not
//! measure is replaced by the other CPU view, or counted as half used, so that it neither
//! wins nor loses a placement on its own. A host short of memory or disk is no candidate.

use serde::Serialize;

use super::load::Load;

pub const CPU_WEIGHT: f64 = 0.4;
pub const MEM_WEIGHT: f64 = 0.3;
pub const DISK_WEIGHT: f64 = 0.3;
/// A host with more memory than this in use is no candidate: new work would swap.
pub const MAX_MEM_USED: f64 = 0.95;
/// A host with more of its disk than this in use is no candidate: new work may fill it.
pub const MAX_DISK_USED: f64 = 0.95;
/// The share counted for a part a host could not measure.
const UNKNOWN: f64 = 0.5;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Score {
    pub cpu: f64,
    pub mem: f64,
    pub disk: f64,
    pub total: f64,
}

impl Score {
    pub fn of(load: &Load) -> Score {
        let per_core = load.load_per_cpu().min(1.0);
        let cpu = match load.cpu_busy {
            Some(busy) => (busy + per_core) / 2.0,
            None => per_core,
        };
        let mem = load.mem_used.unwrap_or(UNKNOWN);
        let disk = load.disk_used.unwrap_or(UNKNOWN);
        Score {
            cpu,
            mem,
            disk,
            total: CPU_WEIGHT * cpu + MEM_WEIGHT * mem + DISK_WEIGHT * disk,
        }
    }

    /// Why a host should not take new work, if it should not.
    pub fn unfit(load: &Load) -> Option<String> {
        if let Some(mem) = load.mem_used.filter(|&m| m > MAX_MEM_USED) {
            return Some(format!("memory {:.0}% used", mem * 100.0));
        }
        if let Some(disk) = load.disk_used.filter(|&d| d > MAX_DISK_USED) {
            return Some(format!("disk {:.0}% used", disk * 100.0));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(cpus: u32, load1: f64, busy: Option<f64>, mem: Option<f64>, disk: Option<f64>) -> Load {
        Load {
            os: "Linux".into(),
            cpus,
            load: [load1, load1, load1],
            cpu_busy: busy,
            mem_used: mem,
            mem_total_bytes: None,
            disk_used: disk,
            disk_free_bytes: None,
            uptime_secs: None,
        }
    }

    /// cpus, load1, busy, mem, disk → cpu part, total
    type Row = (u32, f64, Option<f64>, Option<f64>, Option<f64>, f64, f64);

    #[test]
    fn the_formula_in_a_table() {
        let rows: &[Row] = &[
            // idle
            (4, 0.0, Some(0.0), Some(0.0), Some(0.0), 0.0, 0.0),
            // saturated
            (4, 8.0, Some(1.0), Some(1.0), Some(1.0), 1.0, 1.0),
            // the same load average weighs less on more cores
            (2, 1.0, Some(0.2), Some(0.5), Some(0.5), 0.35, 0.44),
            (8, 1.0, Some(0.2), Some(0.5), Some(0.5), 0.1625, 0.365),
            // no busy share: the load per core alone
            (4, 2.0, None, Some(0.2), Some(0.4), 0.5, 0.38),
            // unknown memory and disk count as half used
            (4, 0.0, Some(0.0), None, None, 0.0, 0.3),
        ];
        for &(cpus, load1, busy, mem, disk, cpu, total) in rows {
            let score = Score::of(&load(cpus, load1, busy, mem, disk));
            let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
            assert!(
                close(score.cpu, cpu) && close(score.total, total),
                "{cpus} cpus, load {load1}, busy {busy:?}, mem {mem:?}, disk {disk:?}: {score:?}"
            );
        }
    }

    #[test]
    fn hosts_short_of_memory_or_disk_are_unfit() {
        assert_eq!(
            Score::unfit(&load(2, 0.0, None, Some(0.5), Some(0.5))),
            None
        );
        assert_eq!(
            Score::unfit(&load(2, 0.0, None, Some(0.97), Some(0.5))).as_deref(),
            Some("memory 97% used")
        );
        assert_eq!(
            Score::unfit(&load(2, 0.0, None, None, Some(0.99))).as_deref(),
            Some("disk 99% used")
        );
    }
}
