//! How far a cancellation has gone, and why: `No < Graceful < Forced`.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancel {
    No,
    /// Start nothing new; let running steps finish.
    Graceful(CancelReason),
    /// Stop running steps now.
    Forced(CancelReason),
}

impl Cancel {
    /// Nothing new may start.
    pub fn graceful(self) -> bool {
        self != Cancel::No
    }

    /// Running steps must stop.
    pub fn forced(self) -> bool {
        matches!(self, Cancel::Forced(_))
    }

    pub fn reason(self) -> Option<CancelReason> {
        match self {
            Cancel::No => None,
            Cancel::Graceful(reason) | Cancel::Forced(reason) => Some(reason),
        }
    }
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
