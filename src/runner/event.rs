//! What the runner tells the world. The runner never prints; reporters turn these into
//! terminal output or JSON lines. The JSON form is described in schema/events.schema.json
//! and is stable: fields may be added, never renamed or removed.

use std::sync::Arc;

use serde::Serialize;

use crate::transport::Stream;

/// Stage and host names are shared with the runner (`Arc<str>`): an event per output line
/// must not copy them.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    RunStarted {
        playbook: String,
        stages: usize,
        hosts: usize,
    },
    StageStarted {
        stage: Arc<str>,
        hosts: Vec<Arc<str>>,
    },
    /// A stage that will not run: a stage it needs failed, the run was cancelled, or it has
    /// no hosts.
    StageSkipped {
        stage: Arc<str>,
        reason: String,
    },
    StepStarted {
        stage: Arc<str>,
        host: Arc<str>,
        step: usize,
        kind: String,
        command: String,
    },
    Output {
        stage: Arc<str>,
        host: Arc<str>,
        step: usize,
        stream: Stream,
        line: String,
    },
    /// Every `step_started` is followed by one `step_finished`, however the step ended.
    StepFinished {
        stage: Arc<str>,
        host: Arc<str>,
        step: usize,
        command: String,
        /// None when the command did not exit by itself (see `end`).
        exit_code: Option<i32>,
        ok: bool,
        duration_secs: f64,
        end: StepEnd,
        #[serde(skip_serializing_if = "String::is_empty")]
        stderr: String,
        /// Why the step ended without an exit code, when there is more to say than `end`.
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    StepTimedOut {
        stage: Arc<str>,
        host: Arc<str>,
        step: usize,
        command: String,
        timeout_secs: f64,
    },
    HostUnreachable {
        stage: Arc<str>,
        host: Arc<str>,
        error: String,
    },
    HostFinished {
        stage: Arc<str>,
        host: Arc<str>,
        outcome: HostOutcome,
        duration_secs: f64,
    },
    StageFinished {
        stage: Arc<str>,
        ok: bool,
        duration_secs: f64,
    },
    /// A signal asked the run to stop: the first Ctrl-C lets running steps finish (`forced`
    /// false); a second Ctrl-C, SIGTERM or SIGHUP stops them.
    CancelRequested {
        forced: bool,
        reason: CancelReason,
    },
    /// A connection that could not be closed cleanly (its process is gone either way).
    Warning {
        message: String,
    },
    RunFinished {
        summary: Summary,
    },
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepEnd {
    /// The command exited; `exit_code` says how.
    Exited,
    /// The remote process was killed by a signal.
    Signalled,
    /// The command could not be started, or its output could not be read.
    Error,
    /// Its timeout passed: the command was stopped and the host cut off.
    TimedOut,
    /// The connection to the host broke.
    ConnectionLost,
    /// The run was cancelled and the command stopped.
    Cancelled,
}

/// Why a run is being cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CancelReason {
    /// Ctrl-C.
    #[serde(rename = "SIGINT")]
    Interrupt,
    #[serde(rename = "SIGTERM")]
    Terminate,
    /// The terminal closed, or the ssh session to the controller dropped.
    #[serde(rename = "SIGHUP")]
    Hangup,
    /// Writing the report failed (a closed pipe, a full disk).
    #[serde(rename = "output_failed")]
    OutputFailed,
}

impl std::fmt::Display for CancelReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CancelReason::Interrupt => "Ctrl-C",
            CancelReason::Terminate => "SIGTERM",
            CancelReason::Hangup => "SIGHUP",
            CancelReason::OutputFailed => "a failed write to the output",
        })
    }
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
