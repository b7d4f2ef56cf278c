//! How a stage rolls across its hosts: in batches, stopping when too many fail.

use std::time::Duration;

use miette::SourceSpan;

use super::amount::Amount;

#[derive(Debug, Clone)]
pub struct Rolling {
    /// Hosts per batch.
    pub batch: Amount,
    /// Failed hosts tolerated before the rollout stops.
    pub max_fail: Amount,
    /// Wait between batches.
    pub pause: Duration,
    pub span: SourceSpan,
}

impl Rolling {
    /// Splits `hosts` into batches of the configured size, in order.
    pub fn batches(&self, hosts: usize) -> Vec<std::ops::Range<usize>> {
        let size = self.batch.of(hosts).max(1);
        (0..hosts)
            .step_by(size)
            .map(|start| start..(start + size).min(hosts))
            .collect()
    }
}
