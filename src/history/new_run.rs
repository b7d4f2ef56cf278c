//! A run about to be recorded: what it is, who started it, when.

use std::time::SystemTime;

use serde::Serialize;

/// The row id of a run in the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct RunId(pub i64);

impl std::fmt::Display for RunId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The command that made a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    Apply,
    Run,
    Push,
    Pull,
    Status,
}

impl RunKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Apply => "apply",
            RunKind::Run => "run",
            RunKind::Push => "push",
            RunKind::Pull => "pull",
            RunKind::Status => "status",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRun {
    pub kind: RunKind,
    /// The playbook path, or the selector and command as typed.
    pub target: String,
    /// `$USER`, or the uid when it is not set.
    pub user: String,
    pub started: SystemTime,
    /// The failed run this one finishes (`tsync apply --retry`).
    pub retry_of: Option<RunId>,
}

impl NewRun {
    /// A run of `kind` on `target`, started now by the current user.
    pub fn new(kind: RunKind, target: String) -> NewRun {
        let user = std::env::var("USER")
            .ok()
            .filter(|u| !u.is_empty())
            // SAFETY: getuid has no preconditions and cannot fail.
            .unwrap_or_else(|| unsafe { libc::getuid() }.to_string());
        NewRun {
            kind,
            target,
            user,
            started: SystemTime::now(),
            retry_of: None,
        }
    }
}
