//! How a step ended, as the timeline colours it.

use serde_json::Value;

/// The outcome of one step: the colour of its bar and its line in the legend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Changed,
    Failed,
    TimedOut,
    Skipped,
    Unreachable,
    Cancelled,
    /// The step started and the events end before it did (a run killed outright).
    Unfinished,
}

impl Outcome {
    /// Every outcome, in the legend's order.
    pub const ALL: [Outcome; 8] = [
        Outcome::Ok,
        Outcome::Changed,
        Outcome::Failed,
        Outcome::TimedOut,
        Outcome::Skipped,
        Outcome::Unreachable,
        Outcome::Cancelled,
        Outcome::Unfinished,
    ];

    /// The outcome a `step_finished` event tells: first how the step ended (`end`), then,
    /// for an end this version does not know, its `ok` and `changed`.
    pub fn of_step_finished(event: &Value) -> Outcome {
        let ok = event["ok"].as_bool().unwrap_or(false);
        let changed = event["changed"].as_bool().unwrap_or(false);
        match event["end"].as_str() {
            Some("skipped") => Outcome::Skipped,
            Some("timed_out") => Outcome::TimedOut,
            Some("connection_lost") => Outcome::Unreachable,
            Some("cancelled") => Outcome::Cancelled,
            _ if !ok => Outcome::Failed,
            _ if changed => Outcome::Changed,
            _ => Outcome::Ok,
        }
    }

    /// The bar's fill. Failure is red and the only red; the rest tell apart at a glance.
    pub fn colour(self) -> &'static str {
        match self {
            Outcome::Ok => "#59a14f",
            Outcome::Changed => "#edc948",
            Outcome::Failed => "#d62728",
            Outcome::TimedOut => "#f28e2b",
            Outcome::Skipped => "#c7c7c7",
            Outcome::Unreachable => "#404040",
            Outcome::Cancelled => "#9c755f",
            Outcome::Unfinished => "#ffffff",
        }
    }

    /// The word in the legend and in hover texts.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Changed => "changed",
            Outcome::Failed => "failed",
            Outcome::TimedOut => "timed out",
            Outcome::Skipped => "skipped",
            Outcome::Unreachable => "unreachable",
            Outcome::Cancelled => "cancelled",
            Outcome::Unfinished => "no end recorded",
        }
    }
}
