//! How far a cancellation has gone, and why: `No < Graceful < Forced`.

use super::event::CancelReason;

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
