//! An exclusive claim on a name between processes, held as a lock on a file.
//!
//! The kernel drops the lock however the holder ends, so a crashed test
//! leaves nothing claimed; a holder that lets go normally also removes the
//! file.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use crate::LabError;

/// Where labs keep the files through which they coordinate.
pub(crate) const RUN_DIR: &str = "/run/tsync-lab";

/// A held claim; dropping it removes its file and releases the lock.
pub(crate) struct Claim {
    path: PathBuf,
    /// Open for the lock it carries; never read.
    _file: File,
}

impl Claim {
    /// Takes the claim at `path`, or returns `None` when another holder has it.
    pub(crate) fn try_take(path: PathBuf) -> Result<Option<Claim>, LabError> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(LabError::io(format!("opening {}", path.display())))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Ok(None),
            Err(TryLockError::Error(source)) => {
                return Err(LabError::Io {
                    what: format!("locking {}", path.display()),
                    source,
                });
            }
        }
        // A holder removes the file before it lets go, so the lock may have
        // been won on a file that is no longer at `path` and claims nothing.
        let locked = file
            .metadata()
            .map_err(LabError::io(format!("checking {}", path.display())))?;
        let current = fs::metadata(&path).ok();
        let same = current.is_some_and(|m| m.dev() == locked.dev() && m.ino() == locked.ino());
        Ok(same.then_some(Claim { path, _file: file }))
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        // Removed while still locked, so no one can win this file's lock and
        // believe it holds the claim. A file left behind claims nothing.
        let _ = fs::remove_file(&self.path);
    }
}
