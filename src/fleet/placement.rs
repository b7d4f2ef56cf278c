//! `least-loaded(SELECTOR, N)`: the N candidates with the lowest load score, and why.
//!
//! Two tsync processes placing work at the same moment see the same loads; if each took the
//! single lowest score, both would pile onto one host. Scores this close to the best are
//! taken as equal, and the pick among them is random.

use std::hash::{BuildHasher, Hasher};

use serde::Serialize;

use super::load::Load;
use super::score::Score;

/// Scores closer than this to the best are a tie, broken at random.
pub const NEAR_TIE: f64 = 0.02;

/// The hosts picked, best first, and the candidates passed over with the reason.
#[derive(Debug, Clone, Serialize)]
pub struct Placement {
    pub picked: Vec<Pick>,
    pub passed_over: Vec<PassedOver>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Pick {
    pub host: String,
    pub score: Score,
    /// "lowest load score 0.28 (cpu 20% vs avg 45%, mem 35% vs avg 60%)"
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PassedOver {
    pub host: String,
    pub reason: String,
}

impl Placement {
    /// Picks `count` of `candidates` (a host and its load, or why it has none). An error
    /// says why no host could be picked.
    pub fn pick(
        candidates: &[(String, Result<Load, String>)],
        count: usize,
    ) -> Result<Placement, String> {
        Self::pick_with(candidates, count, &mut random)
    }

    fn pick_with(
        candidates: &[(String, Result<Load, String>)],
        count: usize,
        random: &mut dyn FnMut() -> u64,
    ) -> Result<Placement, String> {
        let mut fit: Vec<(&str, Score)> = Vec::new();
        let mut passed_over = Vec::new();
        for (host, load) in candidates {
            match load {
                Ok(load) => match Score::unfit(load) {
                    None => fit.push((host, Score::of(load))),
                    Some(why) => passed_over.push(PassedOver {
                        host: host.clone(),
                        reason: why,
                    }),
                },
                Err(why) => passed_over.push(PassedOver {
                    host: host.clone(),
                    reason: why.clone(),
                }),
            }
        }
        if fit.is_empty() {
            let why: Vec<String> = passed_over
                .iter()
                .map(|p| format!("{}: {}", p.host, p.reason))
                .collect();
            return Err(format!(
                "no candidate can take the work ({})",
                why.join("; ")
            ));
        }
        let n = fit.len() as f64;
        let average = |part: fn(&Score) -> f64| fit.iter().map(|(_, s)| part(s)).sum::<f64>() / n;
        let (avg_cpu, avg_mem) = (average(|s| s.cpu), average(|s| s.mem));
        let alone = fit.len() == 1;
        fit.sort_by(|a, b| a.1.total.total_cmp(&b.1.total));
        let mut picked = Vec::new();
        while picked.len() < count && !fit.is_empty() {
            let best = fit[0].1.total;
            let tied = fit
                .iter()
                .take_while(|(_, s)| s.total - best < NEAR_TIE)
                .count();
            let (host, score) = fit.remove((random() % tied as u64) as usize);
            let best = if picked.is_empty() {
                "lowest"
            } else {
                "next lowest"
            };
            let reason = if alone {
                format!("the only candidate left, load score {:.2}", score.total)
            } else {
                format!(
                    "{best} load score {:.2} (cpu {:.0}% vs avg {:.0}%, mem {:.0}% vs avg {:.0}%)",
                    score.total,
                    score.cpu * 100.0,
                    avg_cpu * 100.0,
                    score.mem * 100.0,
                    avg_mem * 100.0
                )
            };
            picked.push(Pick {
                host: host.to_string(),
                score,
                reason,
            });
        }
        passed_over.extend(fit.into_iter().map(|(host, score)| PassedOver {
            host: host.to_string(),
            reason: format!("load score {:.2}", score.total),
        }));
        Ok(Placement {
            picked,
            passed_over,
        })
    }
}

/// A random number from the hasher keys std seeds per process: enough to break ties
/// between processes without a dependency.
fn random() -> u64 {
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(load1: f64, mem: f64) -> Load {
        Load {
            os: "Linux".into(),
            cpus: 2,
            load: [load1, 0.0, 0.0],
            cpu_busy: None,
            mem_used: Some(mem),
            mem_total_bytes: None,
            disk_used: Some(0.5),
            disk_free_bytes: None,
            uptime_secs: None,
        }
    }

    fn candidates(loads: &[(&str, Result<Load, String>)]) -> Vec<(String, Result<Load, String>)> {
        loads
            .iter()
            .map(|(h, l)| (h.to_string(), l.clone()))
            .collect()
    }

    #[test]
    fn the_lowest_score_wins_and_says_why() {
        let c = candidates(&[
            ("web-1", Ok(load(1.8, 0.8))),
            ("web-2", Ok(load(0.2, 0.3))),
            ("web-3", Err("offline".into())),
            ("web-4", Ok(load(0.0, 0.99))),
        ]);
        let placement = Placement::pick_with(&c, 1, &mut || 0).unwrap();
        assert_eq!(placement.picked[0].host, "web-2");
        assert_eq!(
            placement.picked[0].reason,
            "lowest load score 0.28 (cpu 10% vs avg 50%, mem 30% vs avg 55%)"
        );
        let passed: Vec<(&str, &str)> = placement
            .passed_over
            .iter()
            .map(|p| (p.host.as_str(), p.reason.as_str()))
            .collect();
        assert_eq!(
            passed,
            [
                ("web-3", "offline"),
                ("web-4", "memory 99% used"),
                ("web-1", "load score 0.75")
            ]
        );
    }

    #[test]
    fn near_ties_are_broken_by_the_random_draw() {
        let c = candidates(&[
            ("a", Ok(load(0.50, 0.30))),
            ("b", Ok(load(0.52, 0.30))),
            ("c", Ok(load(1.50, 0.30))),
        ]);
        let first = Placement::pick_with(&c, 1, &mut || 0).unwrap();
        let second = Placement::pick_with(&c, 1, &mut || 1).unwrap();
        assert_eq!(first.picked[0].host, "a");
        assert_eq!(second.picked[0].host, "b");
        // `c` is not near the best: no draw picks it.
        let third = Placement::pick_with(&c, 1, &mut || 2).unwrap();
        assert_eq!(third.picked[0].host, "a");
    }

    #[test]
    fn several_picks_come_best_first_and_none_fit_is_an_error() {
        let c = candidates(&[
            ("a", Ok(load(1.0, 0.3))),
            ("b", Ok(load(0.0, 0.3))),
            ("c", Ok(load(2.0, 0.3))),
        ]);
        let two = Placement::pick_with(&c, 2, &mut || 0).unwrap();
        let hosts: Vec<&str> = two.picked.iter().map(|p| p.host.as_str()).collect();
        assert_eq!(hosts, ["b", "a"]);
        let none = candidates(&[("a", Err("offline".into())), ("b", Ok(load(0.0, 0.99)))]);
        assert_eq!(
            Placement::pick_with(&none, 1, &mut || 0).unwrap_err(),
            "no candidate can take the work (a: offline; b: memory 99% used)"
        );
    }
}
