//! How a step ended on one host, with what each ending carries. Its JSON form is the
//! `exit_code`, `ok`, `end`, `error` and `skipped` fields of `step_finished`.

use std::time::Duration;

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::cancel::CancelReason;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutcome {
    /// The command exited by itself; the step is ok when `code` is 0.
    Exited { code: i32 },
    /// The command exited with the step's `unchanged-exit` code: ok, and nothing changed.
    Unchanged { code: i32 },
    /// A guard skipped the step (`creates`, `unless`, `only-if`): ok, and nothing changed.
    Skipped { reason: String },
    /// A `sync` or `pull` step finished: ok; `changed` when it sent or deleted anything.
    Synced { changed: bool },
    /// The remote process was killed by a signal (ssh does not say which).
    Signalled,
    /// The command could not be started, or its output could not be read.
    FailedToRun { error: String },
    /// Its timeout passed: the command was stopped and the host cut off.
    TimedOut { after: Duration },
    /// The connection to the host broke: ssh's message.
    ConnectionLost { message: String },
    /// The run was cancelled and the command stopped.
    Cancelled { reason: CancelReason },
}

/// The `end` field: which [`StepOutcome`] it was, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepEnd {
    Exited,
    Skipped,
    Synced,
    Signalled,
    Error,
    TimedOut,
    ConnectionLost,
    Cancelled,
}

impl StepOutcome {
    pub fn ok(&self) -> bool {
        matches!(
            self,
            StepOutcome::Exited { code: 0 }
                | StepOutcome::Unchanged { .. }
                | StepOutcome::Skipped { .. }
                | StepOutcome::Synced { .. }
        )
    }

    /// Whether the step changed the host: its command exited 0, or its sync sent or
    /// deleted something. A skipped step or one that exited with its `unchanged-exit` code
    /// did not.
    pub fn changed(&self) -> bool {
        matches!(
            self,
            StepOutcome::Exited { code: 0 } | StepOutcome::Synced { changed: true }
        )
    }

    /// None when the command did not exit by itself (or did not run).
    pub fn exit_code(&self) -> Option<i32> {
        match self {
            StepOutcome::Exited { code } | StepOutcome::Unchanged { code } => Some(*code),
            _ => None,
        }
    }

    pub fn end(&self) -> StepEnd {
        match self {
            StepOutcome::Exited { .. } | StepOutcome::Unchanged { .. } => StepEnd::Exited,
            StepOutcome::Skipped { .. } => StepEnd::Skipped,
            StepOutcome::Synced { .. } => StepEnd::Synced,
            StepOutcome::Signalled => StepEnd::Signalled,
            StepOutcome::FailedToRun { .. } => StepEnd::Error,
            StepOutcome::TimedOut { .. } => StepEnd::TimedOut,
            StepOutcome::ConnectionLost { .. } => StepEnd::ConnectionLost,
            StepOutcome::Cancelled { .. } => StepEnd::Cancelled,
        }
    }

    /// Why the step ended without an exit code, when there is more to say than `end`.
    pub fn error(&self) -> Option<String> {
        match self {
            StepOutcome::Exited { .. }
            | StepOutcome::Unchanged { .. }
            | StepOutcome::Skipped { .. }
            | StepOutcome::Synced { .. }
            | StepOutcome::Signalled => None,
            StepOutcome::FailedToRun { error } => Some(error.clone()),
            StepOutcome::TimedOut { after } => Some(format!(
                "timed out after {}",
                humantime::format_duration(*after)
            )),
            StepOutcome::ConnectionLost { message } => Some(format!("connection lost: {message}")),
            StepOutcome::Cancelled { reason } => Some(format!("stopped by {reason}")),
        }
    }

    /// What the recap says about a failed step written as `written`, after "stage: step N";
    /// None for a step that did not fail (ok, or its host became unreachable).
    pub fn failure(&self, written: &str) -> Option<String> {
        match self {
            StepOutcome::Exited { code: 0 }
            | StepOutcome::Unchanged { .. }
            | StepOutcome::Skipped { .. }
            | StepOutcome::Synced { .. }
            | StepOutcome::ConnectionLost { .. } => None,
            StepOutcome::Exited { code } => Some(format!(" `{written}`: exit code {code}")),
            StepOutcome::Signalled => Some(format!(" `{written}`: killed by a signal")),
            StepOutcome::FailedToRun { error } => Some(format!(": {error}")),
            StepOutcome::TimedOut { after } => Some(format!(
                " `{written}` timed out after {}",
                humantime::format_duration(*after)
            )),
            StepOutcome::Cancelled { reason } => Some(format!(" `{written}` stopped by {reason}")),
        }
    }
}

/// The fields `step_finished` has always had: `exit_code`, `ok`, `end`, and `error` when
/// there is one; `skipped` (the guard's reason) for a skipped step.
impl Serialize for StepOutcome {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let error = self.error();
        let skipped = match self {
            StepOutcome::Skipped { reason } => Some(reason),
            _ => None,
        };
        let fields = 3 + usize::from(error.is_some()) + usize::from(skipped.is_some());
        let mut map = serializer.serialize_map(Some(fields))?;
        map.serialize_entry("exit_code", &self.exit_code())?;
        map.serialize_entry("ok", &self.ok())?;
        map.serialize_entry("end", &self.end())?;
        if let Some(error) = error {
            map.serialize_entry("error", &error)?;
        }
        if let Some(reason) = skipped {
            map.serialize_entry("skipped", reason)?;
        }
        map.end()
    }
}
