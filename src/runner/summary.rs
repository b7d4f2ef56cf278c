//! The run's totals, sent with `run_finished`: one row per host and per stage, and how the
//! run ended.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub ok: bool,
    /// A dry run: nothing ran; `ok` says a real run could start.
    pub dry_run: bool,
    pub interrupted: bool,
    pub duration_secs: f64,
    pub exit_code: i32,
    pub hosts: Vec<HostTotals>,
    pub stages: Vec<StageTotals>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct HostTotals {
    pub host: String,
    /// Steps that ran and succeeded, and checks that passed.
    pub ok: usize,
    /// Steps that ran and changed the host (`changed` in their `step_finished`).
    pub changed: usize,
    /// Steps and checks that failed.
    pub failed: usize,
    pub unreachable: usize,
    pub skipped: usize,
    /// Stages whose rollout stopped before reaching this host.
    pub not_started: usize,
    /// Stages whose `least-loaded(…)` measured this host and picked others.
    pub not_picked: usize,
    pub duration_secs: f64,
    /// Whether the host was rolled back, and whether that worked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rolled_back: Option<bool>,
    /// The first failure, for the recap: stage, step and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StageTotals {
    pub stage: String,
    pub status: StageStatus,
}

/// How a stage ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StageStatus {
    /// Every host succeeded, or it had no hosts.
    Ok,
    /// A host failed or was unreachable.
    Failed,
    /// A stage it needs failed or did not run.
    Skipped,
    /// The run was cancelled before it started.
    Cancelled,
}
