//! How a `least-loaded(…)` pick is shown: the host picked and why, as users of the original
//! agent knew it, then the candidates passed over, dimmed.

use crate::fleet::{PassedOver, Pick};

/// Whether a line reports a pick or a host passed over.
pub(super) enum Line {
    Picked(String),
    PassedOver(String),
}

pub(super) fn lines(picked: &[Pick], passed_over: &[PassedOver]) -> Vec<Line> {
    let picks = picked
        .iter()
        .map(|p| Line::Picked(format!("✓ selected {}: {}", p.host, p.reason)));
    let others = passed_over
        .iter()
        .map(|p| Line::PassedOver(format!("  passed over {}: {}", p.host, p.reason)));
    picks.chain(others).collect()
}
