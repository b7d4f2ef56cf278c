//! How a stage rolls across its hosts: in batches, stopping when too many fail.

use std::time::Duration;

use miette::SourceSpan;

use super::amount::Amount;

#[derive(Debug, Clone)]
pub struct Rolling {
    /// Hosts per batch, batch by batch; the last size repeats (`batch="1 25% 100%"`: a
    /// canary, then a quarter, then the rest). Never empty.
    pub batch: Vec<Amount>,
    /// Failed hosts tolerated before the rollout stops.
    pub max_fail: Amount,
    /// Wait between batches.
    pub pause: Duration,
    pub span: SourceSpan,
}

impl Rolling {
    /// Splits `hosts` into batches of the configured sizes, in order; a percentage is of
    /// all `hosts`, and a batch has at least one host.
    pub fn batches(&self, hosts: usize) -> Vec<std::ops::Range<usize>> {
        let mut batches = Vec::new();
        let mut start = 0;
        while start < hosts {
            let size = self.batch[batches.len().min(self.batch.len() - 1)].of(hosts);
            let end = (start + size.max(1)).min(hosts);
            batches.push(start..end);
            start = end;
        }
        batches
    }

    /// The sizes as written: `1, then 25%, then 100%`.
    pub fn sizes(&self) -> String {
        let sizes: Vec<String> = self.batch.iter().map(Amount::to_string).collect();
        sizes.join(", then ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rolling(batch: Vec<Amount>) -> Rolling {
        Rolling {
            batch,
            max_fail: Amount::Count(0),
            pause: Duration::ZERO,
            span: (0, 0).into(),
        }
    }

    #[test]
    fn sizes_grow_and_the_last_one_repeats() {
        let canary = rolling(vec![
            Amount::Count(1),
            Amount::Percent(25.0),
            Amount::Percent(100.0),
        ]);
        assert_eq!(canary.batches(10), [0..1, 1..3, 3..10]);
        assert_eq!(canary.batches(1).len(), 1);
        assert!(canary.batches(0).is_empty());
        let pairs = rolling(vec![Amount::Count(2)]);
        assert_eq!(pairs.batches(5), [0..2, 2..4, 4..5]);
        let grow = rolling(vec![Amount::Count(1), Amount::Count(2)]);
        assert_eq!(grow.batches(6), [0..1, 1..3, 3..5, 5..6]);
        assert_eq!(canary.sizes(), "1, then 25%, then 100%");
    }
}
