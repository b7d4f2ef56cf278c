//! Carrying out a change list on the controller, reading from the host over one SFTP
//! channel. Files land as on a host: a temp file in the target's directory, renamed over it.

use std::ffi::CString;
use std::fs::Permissions;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::changes::{Changes, Op};
use super::entry::Entry;
use super::layout::Layout;
use super::temp_name::temp_beside;
use super::tracker::Tracker;
use super::workers;
use crate::transport::{ExecError, SftpChannel};

const IN_FLIGHT: usize = 8;

pub async fn pull(
    channel: &SftpChannel<'_>,
    layout: &Layout,
    changes: &Changes,
    tracker: &Tracker<'_>,
) -> Result<(), ExecError> {
    let mut dirs = Vec::new();
    let mut transfers = Vec::new();
    for op in &changes.ops {
        match op {
            Op::Remove { path, dir } => {
                let target = layout.local(path);
                let removed = if *dir {
                    std::fs::remove_dir(&target)
                } else {
                    std::fs::remove_file(&target)
                };
                removed.map_err(|e| local_error(&target, e))?;
            }
            Op::Mkdir { path, mode, mtime } => {
                let target = layout.local(path);
                std::fs::create_dir(&target).map_err(|e| local_error(&target, e))?;
                dirs.push((target, *mode, *mtime));
            }
            Op::Send { .. } | Op::Link { .. } => transfers.push(op),
            Op::Touch { path, mode, mtime } => {
                let target = layout.local(path);
                set_attributes(&target, *mode, *mtime).map_err(|e| local_error(&target, e))?;
            }
            Op::DirAttrs { path, mode, mtime } => dirs.push((layout.local(path), *mode, *mtime)),
        }
    }
    let transfers = &transfers;
    workers::each(transfers.len(), IN_FLIGHT, |i| async move {
        match transfers[i] {
            Op::Send { path, entry } => {
                fetch(
                    channel,
                    &layout.remote(path),
                    &layout.local(path),
                    entry,
                    tracker,
                )
                .await
            }
            Op::Link { path, target } => {
                let link = layout.local(path);
                let temp = temp_beside(&link);
                std::os::unix::fs::symlink(target, &temp)
                    .and_then(|()| std::fs::rename(&temp, &link))
                    .map_err(|e| {
                        let _ = std::fs::remove_file(&temp);
                        local_error(&link, e)
                    })
            }
            _ => Ok(()),
        }
    })
    .await?;
    // Last, deepest first, as on a host (push.rs).
    dirs.sort_by(|a, b| b.0.cmp(&a.0));
    for (target, mode, mtime) in dirs {
        set_attributes(&target, mode, mtime).map_err(|e| local_error(&target, e))?;
    }
    Ok(())
}

async fn fetch(
    channel: &SftpChannel<'_>,
    source: &Path,
    target: &Path,
    entry: &Entry,
    tracker: &Tracker<'_>,
) -> Result<(), ExecError> {
    let temp = temp_beside(target);
    let file = tokio::fs::File::create(&temp)
        .await
        .map_err(|e| local_error(&temp, e))?;
    let landed = async {
        let read = channel.read_file(source, entry.size, file).await?;
        tracker.bytes(read);
        set_attributes(&temp, entry.mode, entry.mtime).map_err(|e| local_error(target, e))?;
        std::fs::rename(&temp, target).map_err(|e| local_error(target, e))
    }
    .await;
    if let Err(e) = landed {
        let _ = std::fs::remove_file(&temp);
        return Err(match e {
            ExecError::Failed(m) => ExecError::Failed(format!("{}: {m}", source.display())),
            lost => lost,
        });
    }
    tracker.file();
    Ok(())
}

/// Of a file or a directory, by path: no descriptor is opened, so no mode stops it (a
/// read-only file, a directory the owner cannot list); the owner may set times as such.
fn set_attributes(path: &Path, mode: u32, mtime: i64) -> std::io::Result<()> {
    let name = CString::new(path.as_os_str().as_bytes())?;
    let when = libc::timespec {
        tv_sec: mtime.max(0) as libc::time_t,
        tv_nsec: 0,
    };
    let times = [when, when];
    // SAFETY: `name` is a NUL-terminated path and `times` two valid timespecs, both alive
    // for the call.
    if unsafe { libc::utimensat(libc::AT_FDCWD, name.as_ptr(), times.as_ptr(), 0) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    std::fs::set_permissions(path, Permissions::from_mode(mode))
}

fn local_error(path: &Path, error: std::io::Error) -> ExecError {
    ExecError::Failed(format!("{}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn attributes_land_on_read_only_files_and_closed_directories() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        std::fs::set_permissions(&file, Permissions::from_mode(0o200)).unwrap();
        let sub = dir.path().join("d");
        std::fs::create_dir(&sub).unwrap();
        std::fs::set_permissions(&sub, Permissions::from_mode(0o300)).unwrap();
        for (path, mode) in [(&file, 0o444), (&sub, 0o555)] {
            set_attributes(path, mode, 1_600_000_000).unwrap();
            let meta = std::fs::metadata(path).unwrap();
            assert_eq!((meta.mtime(), meta.mode() & 0o7777), (1_600_000_000, mode));
        }
    }
}
