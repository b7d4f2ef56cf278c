//! A recorded run, as `tsync history` lists it.

use serde::Serialize;

use super::{HostRecord, RunId};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRecord {
    pub id: RunId,
    /// `apply`, `run`, `push`, `pull` or `status` (a word, so that a kind a newer tsync
    /// recorded still lists).
    pub kind: String,
    pub target: String,
    pub user: String,
    /// Milliseconds since the Unix epoch.
    pub started_ms: i64,
    /// None while the run goes on, or when tsync died before recording its end.
    pub ended_ms: Option<i64>,
    pub exit_code: Option<i32>,
    /// The failed run this one finished (`tsync apply --retry`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_of: Option<RunId>,
    pub hosts: Vec<HostRecord>,
}

impl RunRecord {
    pub fn hosts_with(&self, outcome: &str) -> usize {
        self.hosts.iter().filter(|h| h.outcome == outcome).count()
    }
}
