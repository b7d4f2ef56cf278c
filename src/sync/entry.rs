//! One side's view of a synced tree: what is at each relative path.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// What a path holds. Anything but these three (a FIFO, a socket, a device) is not synced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    /// The link's target, as written: it is recreated, never followed.
    Symlink(PathBuf),
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: Kind,
    pub size: u64,
    /// Whole seconds: what rsync's quick check compares, and all SFTP can set.
    pub mtime: i64,
    /// Permission bits, with setuid/setgid/sticky (`0o7777`).
    pub mode: u32,
}

/// Every entry under a synced directory, by path relative to it. Sorted, so a directory
/// comes before what it holds.
pub type Tree = BTreeMap<PathBuf, Entry>;
