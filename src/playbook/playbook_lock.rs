//! The playbook's `lock` node: where `apply` holds its deploy lock, under which name, and
//! how long a silent holder keeps it.

use std::time::Duration;

use miette::SourceSpan;

use super::spanned::Spanned;
use crate::selector::Selector;

#[derive(Debug, Clone)]
pub struct PlaybookLock {
    /// The node, for diagnostics about it as a whole.
    pub span: SourceSpan,
    /// `lock #false`: `apply` takes no lock.
    pub off: bool,
    /// `on="db-1"`: the hosts that hold the lock, whatever `--limit` says; None for every
    /// host of the run.
    pub on: Option<Selector>,
    /// `name="web"`: shared by playbooks that must not run at once; None for the playbook's
    /// name.
    pub name: Option<Spanned<String>>,
    /// `expiry="10m"`: a heartbeat older than this makes the lock stale.
    pub expiry: Option<Spanned<Duration>>,
}

/// Whether `name` may name a lock: one path component on every host, so letters, digits,
/// `.`, `_` and `-`, at most 100, not starting with `.` (tsync's own temporary entries do).
pub fn is_lock_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}
