//! What a sync did (or, in a dry run, would do) on one host.

use serde::Serialize;

/// One change to the destination, as rsync's `-i` itemizes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    pub change: Change,
    /// Relative to the synced directory, `/`-separated.
    pub path: String,
    /// Bytes sent for a file (0 for anything else).
    pub bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// A file the destination did not have.
    Create,
    /// A file whose content differed.
    Replace,
    /// Same content, new mode or mtime.
    Attributes,
    /// A directory made.
    Mkdir,
    /// A symlink made or repointed.
    Symlink,
    /// Removed (with `delete`).
    Delete,
}

impl Change {
    /// The one-character mark of the itemized list: `+` new, `~` replaced or updated,
    /// `-` deleted.
    pub fn mark(self) -> char {
        match self {
            Change::Create | Change::Mkdir | Change::Symlink => '+',
            Change::Replace | Change::Attributes => '~',
            Change::Delete => '-',
        }
    }
}

/// Totals of one host's sync, and its itemized changes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    /// Files sent (created or replaced) and their bytes.
    pub files_sent: u64,
    pub bytes_sent: u64,
    /// Entries removed by `delete`.
    pub deleted: u64,
    /// Source files the destination already had.
    pub unchanged: u64,
    /// Every change, in path order.
    pub items: Vec<Item>,
    /// Things the user should know that did not fail the sync (delete skipped after a
    /// scan error, say).
    pub warnings: Vec<String>,
}

impl SyncReport {
    /// The destination was changed (or would be, in a dry run).
    pub fn changed(&self) -> bool {
        !self.items.is_empty()
    }
}

/// How far one host's sync has got, reported as files land.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    pub files_done: u64,
    pub files_total: u64,
    pub bytes_done: u64,
    pub bytes_total: u64,
}
