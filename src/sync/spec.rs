//! What one host's sync is asked to do, every value filled in.

use std::path::PathBuf;

/// Which way files go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From the controller's `local` to the host's `remote`.
    Push,
    /// From the host's `remote` into the controller's `local` (already the per-host
    /// directory: `LOCAL_DIR/<host>`).
    Pull,
}

/// One host's sync. Directories are synced by content: `local`'s entries land in `remote`
/// (and the other way for a pull), with or without a trailing slash on either; a single
/// file lands at `remote`, or inside it when `remote` ends with `/`.
#[derive(Debug, Clone)]
pub struct SyncSpec {
    pub direction: Direction,
    /// A path on the controller (absolute, or relative to tsync's working directory).
    pub local: PathBuf,
    /// A path on the host; relative to the login's home unless absolute.
    pub remote: String,
    /// Remove what the destination has and the source does not (excluded paths are kept).
    pub delete: bool,
    /// Patterns in gitignore syntax, relative to the synced directory.
    pub excludes: Vec<String>,
    /// Compare files of equal size by content (SHA-256) instead of size and mtime.
    pub checksum: bool,
    /// Work out and report what would change; touch nothing.
    pub dry_run: bool,
}
