//! Carrying out a change list on the controller, reading from the host over one SFTP
//! channel. Files land as on a host: a temp file in the target's directory, renamed over it.

use std::fs::{File, FileTimes, Permissions};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, SystemTime};

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

/// Of a file or a directory.
fn set_attributes(path: &Path, mode: u32, mtime: i64) -> std::io::Result<()> {
    // Times first: a read-only mode would stop the file being opened to set them. Opened
    // for reading, which a directory allows too: the owner may set times through any fd.
    let when = SystemTime::UNIX_EPOCH + Duration::from_secs(mtime.max(0) as u64);
    File::open(path)?.set_times(FileTimes::new().set_modified(when).set_accessed(when))?;
    std::fs::set_permissions(path, Permissions::from_mode(mode))
}

fn local_error(path: &Path, error: std::io::Error) -> ExecError {
    ExecError::Failed(format!("{}: {error}", path.display()))
}
