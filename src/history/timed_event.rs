//! One stored event of a run, with when it arrived.

/// An event as `--output json` emits it, `at_secs` seconds after the run started.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedEvent {
    pub at_secs: f64,
    pub event: serde_json::Value,
}
