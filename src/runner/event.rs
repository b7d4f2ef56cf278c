//! What the runner tells the world. The runner never prints; reporters turn these into
//! terminal output or JSON lines. The JSON form is described in schema/events.schema.json
//! and is stable: fields may be added, never renamed or removed.

use serde::Serialize;

use crate::transport::Stream;

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    RunStarted {
        playbook: String,
        stages: usize,
        hosts: usize,
    },
    StageStarted {
        stage: String,
        hosts: Vec<String>,
    },
    /// A stage that will not run: a stage it needs failed, the run was cancelled, or it has
    /// no hosts.
    StageSkipped {
        stage: String,
        reason: String,
    },
    StepStarted {
        stage: String,
        host: String,
        step: usize,
        kind: String,
        command: String,
    },
    Output {
        stage: String,
        host: String,
        step: usize,
        stream: Stream,
        line: String,
    },
    StepFinished {
        stage: String,
        host: String,
        step: usize,
        command: String,
        /// None when the remote process was killed by a signal.
        exit_code: Option<i32>,
        ok: bool,
        duration_secs: f64,
        #[serde(skip_serializing_if = "String::is_empty")]
        stderr: String,
    },
    StepTimedOut {
        stage: String,
        host: String,
        step: usize,
        command: String,
        timeout_secs: f64,
    },
    HostUnreachable {
        stage: String,
        host: String,
        error: String,
    },
    HostFinished {
        stage: String,
        host: String,
        outcome: HostOutcome,
        duration_secs: f64,
    },
    StageFinished {
        stage: String,
        ok: bool,
        duration_secs: f64,
    },
    /// Ctrl-C: the first lets running steps finish (`forced` false), the second stops them.
    CancelRequested {
        forced: bool,
    },
    /// A connection that could not be closed cleanly (its process is gone either way).
    Warning {
        message: String,
    },
    RunFinished {
        summary: Summary,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HostOutcome {
    /// Every step succeeded.
    Ok,
    Failed,
    Unreachable,
    /// Not run: cancelled before it started.
    Skipped,
}

/// The run's totals: one row per host, and how it ended.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub ok: bool,
    pub interrupted: bool,
    pub duration_secs: f64,
    pub exit_code: i32,
    pub hosts: Vec<HostTotals>,
    pub stages: Vec<StageTotals>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct HostTotals {
    pub host: String,
    /// Steps that ran and succeeded.
    pub ok: usize,
    /// Steps that ran a command (every `run` and `script` step counts as a change, as
    /// nothing tells tsync otherwise).
    pub changed: usize,
    pub failed: usize,
    pub unreachable: usize,
    pub skipped: usize,
    pub duration_secs: f64,
    /// The first failure, for the recap: stage, step and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StageTotals {
    pub stage: String,
    /// ok, failed, skipped or cancelled.
    pub status: &'static str,
}
