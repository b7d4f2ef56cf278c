//! The lock on this machine: an `flock` on `tsync/locks/NAME.lock` in the user's runtime
//! directory (`$XDG_RUNTIME_DIR`), else state directory. Overlapping cron runs of one
//! playbook exclude each other here before any of them connects. The kernel drops an
//! `flock` when its process dies, however it dies, so this lock is never stale.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::PathBuf;

use super::lock_name::LockName;
use super::lock_record::LockRecord;

/// Held while it lives.
#[derive(Debug)]
pub struct LocalLock {
    /// Closing the file releases the lock.
    _file: File,
}

/// Why the local lock was not taken.
#[derive(Debug)]
pub enum LocalRefusal {
    /// Another process on this machine holds it; its record, if it wrote one.
    Held(Option<LockRecord>),
    /// The lock file cannot be used.
    Failed(String),
}

impl LocalLock {
    /// Takes the lock `name` without waiting, and writes `record` into it so that the next
    /// run can say who holds it.
    pub fn try_take(name: &LockName, record: &LockRecord) -> Result<LocalLock, LocalRefusal> {
        let path = directory()
            .ok_or_else(|| {
                LocalRefusal::Failed(
                    "no place for the local lock: none of XDG_RUNTIME_DIR, XDG_STATE_HOME and HOME is set".into(),
                )
            })?
            .join(format!("{name}.lock"));
        let failed = |e: std::io::Error| LocalRefusal::Failed(format!("{}: {e}", path.display()));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(failed)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(failed)?;
        // SAFETY: flock only acts on a descriptor this function holds open.
        let taken = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
        if !taken {
            let error = std::io::Error::last_os_error();
            if error.raw_os_error() != Some(libc::EWOULDBLOCK) {
                return Err(failed(error));
            }
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            return Err(LocalRefusal::Held(LockRecord::from_line(&text)));
        }
        // The record is only for the next reader; the lock holds without it.
        let _ = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| writeln!(file, "{}", record.to_line()));
        Ok(LocalLock { _file: file })
    }
}

/// `$XDG_RUNTIME_DIR/tsync/locks`, else `$XDG_STATE_HOME/tsync/locks`, else
/// `~/.local/state/tsync/locks`.
fn directory() -> Option<PathBuf> {
    let set = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let base = set("XDG_RUNTIME_DIR")
        .or_else(|| set("XDG_STATE_HOME"))
        .map(PathBuf::from)
        .or_else(|| set("HOME").map(|home| PathBuf::from(home).join(".local/state")))?;
    Some(base.join("tsync/locks"))
}
