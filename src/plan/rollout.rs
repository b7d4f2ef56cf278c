//! How a planned stage rolls across its hosts: the batches, in order, and how many failed
//! or unreachable hosts the whole stage tolerates before the rollout stops; and how it
//! rolls back.

use std::ops::Range;
use std::time::Duration;

use super::planned_step::PlannedStep;
use crate::playbook::{RollbackScope, Rolling};

#[derive(Debug, Clone, PartialEq)]
pub struct Rollout {
    /// Positions in the stage's host list, batch by batch; one batch of every host for a
    /// stage without `rolling`.
    pub batches: Vec<Range<usize>>,
    /// Failed and unreachable hosts tolerated across the stage: the rollout stops when
    /// there are more.
    pub max_fail: usize,
    /// Wait between batches.
    pub pause: Duration,
}

impl Rollout {
    /// The rollout of a stage on `hosts` hosts.
    pub fn new(rolling: Option<&Rolling>, hosts: usize) -> Rollout {
        match rolling {
            Some(rolling) => Rollout {
                batches: rolling.batches(hosts),
                max_fail: rolling.max_fail.of(hosts),
                pause: rolling.pause,
            },
            None => Rollout {
                batches: if hosts == 0 {
                    Vec::new()
                } else {
                    std::iter::once(0..hosts).collect()
                },
                max_fail: 0,
                pause: Duration::ZERO,
            },
        }
    }
}

/// A stage's `rollback`, its steps filled in for each of the stage's hosts.
#[derive(Debug)]
pub struct PlannedRollback {
    pub scope: RollbackScope,
    pub steps: Vec<PlannedStep>,
}
