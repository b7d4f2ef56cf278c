//! What can go wrong with the run history, each saying where and what to do.

use std::path::PathBuf;

use super::RunId;

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error(
        "no place for the run history: none of TSYNC_HISTORY, XDG_STATE_HOME and HOME is set; \
         set TSYNC_HISTORY to a file path"
    )]
    NoPlace,
    #[error(
        "cannot create {dir}, the directory of the run history: {source}; \
         fix it or set TSYNC_HISTORY to another file path"
    )]
    CreateDir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "cannot use the run history {path}: {source}; if the file is damaged, move it away \
         with its -wal and -shm files (a new one is made on the next run), or set \
         TSYNC_HISTORY to another file path"
    )]
    Database {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "the run history {path} was written by a newer tsync (schema version {found}, this \
         one knows up to {known}); upgrade tsync or set TSYNC_HISTORY to another file path"
    )]
    Newer {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("no run {id} in the run history {path}; `tsync history` lists the runs it holds")]
    UnknownRun { path: PathBuf, id: RunId },
    #[error("cannot write the timeline to {path}: {source}")]
    Timeline {
        path: PathBuf,
        source: std::io::Error,
    },
}
