//! How one host ended in one run.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostRecord {
    pub host: String,
    /// The outcome word of `host_finished` (`ok`, `failed`, `unreachable`, …).
    pub outcome: String,
    pub duration_secs: f64,
    /// The first line that says why it failed: the error of an unreachable host, or the exit
    /// code and last stderr line of a failed step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}
