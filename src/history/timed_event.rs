//! One event of a run as history keeps it: the JSON event and when it happened.

/// A JSON event of `--output json` (schema/events.schema.json), stamped with the seconds
/// since its run started.
pub struct TimedEvent {
    pub at_secs: f64,
    pub event: serde_json::Value,
}
