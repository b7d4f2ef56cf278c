//! Carrying out a change list on the host, over one SFTP channel. Every file and link is
//! written under a temp name in its own directory and renamed over its target, so a reader
//! (or an interrupted sync) only ever sees the old file or the new one.

use std::path::{Path, PathBuf};

use tokio::sync::Semaphore;

use super::changes::{Changes, Op};
use super::entry::Entry;
use super::layout::Layout;
use super::report::Change;
use super::temp_name::temp_beside;
use super::tracker::Tracker;
use super::workers;
use crate::transport::{ExecError, SftpChannel};

/// Files in flight at once on one host.
const IN_FLIGHT: usize = 16;
/// Of which this many may be large, so a host's buffers stay small whatever the tree.
const LARGE_IN_FLIGHT: usize = 2;
const LARGE: u64 = 1 << 20;
/// The data of files in flight on all hosts together, in KiB: what a sync holds in memory
/// is bounded by this, not by the number of hosts.
static IN_MEMORY: Semaphore = Semaphore::const_new(32 * 1024);
/// What one file in flight may hold: its read buffer and the writes not yet acknowledged.
const PER_FILE_KIB: u64 = 768;

pub async fn push(
    channel: &SftpChannel<'_>,
    layout: &Layout,
    changes: &Changes,
    stale: &[PathBuf],
    tracker: &Tracker<'_>,
) -> Result<(), ExecError> {
    if !channel.atomic_rename()
        && changes
            .items
            .iter()
            .any(|i| matches!(i.change, Change::Replace | Change::Symlink))
    {
        return Err(ExecError::Failed(
            "the host's SFTP server cannot replace a file atomically (it lacks \
             posix-rename@openssh.com); refusing to overwrite files rather than risk a \
             half-written one"
                .into(),
        ));
    }
    workers::each(stale.len(), IN_FLIGHT, |i| async move {
        // Another run's leftover: gone already is as good as removed.
        let _ = channel.remove_file(&layout.remote(&stale[i])).await;
        Ok(())
    })
    .await?;
    let mut dirs = Vec::new();
    let mut transfers = Vec::new();
    let mut touches = Vec::new();
    for op in &changes.ops {
        match op {
            Op::Remove { path, dir } => {
                let target = layout.remote(path);
                let removed = if *dir {
                    channel.remove_dir(&target).await
                } else {
                    channel.remove_file(&target).await
                };
                removed.map_err(|e| context(&target, e))?;
            }
            Op::Mkdir { path, mode, mtime } => {
                let target = layout.remote(path);
                channel
                    .mkdir(&target)
                    .await
                    .map_err(|e| context(&target, e))?;
                dirs.push((target, *mode, *mtime));
            }
            Op::Send { .. } | Op::Link { .. } => transfers.push(op),
            Op::Touch { .. } => touches.push(op),
            Op::DirAttrs { path, mode, mtime } => {
                dirs.push((layout.remote(path), *mode, *mtime));
            }
        }
    }
    let large = Semaphore::new(LARGE_IN_FLIGHT);
    let transfers = &transfers;
    workers::each(transfers.len(), IN_FLIGHT, |i| {
        let large = &large;
        async move {
            match transfers[i] {
                Op::Send { path, entry } => {
                    let _permit = match entry.size >= LARGE {
                        true => Some(large.acquire().await.expect("never closed")),
                        false => None,
                    };
                    let kib = (entry.size / 1024 * 2 + 1).min(PER_FILE_KIB) as u32;
                    let _memory = IN_MEMORY.acquire_many(kib).await.expect("never closed");
                    send(
                        channel,
                        &layout.local(path),
                        &layout.remote(path),
                        entry,
                        tracker,
                    )
                    .await
                }
                Op::Link { path, target } => link(channel, target, &layout.remote(path)).await,
                _ => Ok(()),
            }
        }
    })
    .await?;
    let touches = &touches;
    workers::each(touches.len(), IN_FLIGHT, |i| async move {
        match touches[i] {
            Op::Touch { path, mode, mtime } => {
                let target = layout.remote(path);
                channel
                    .set_attributes(&target, *mode, *mtime)
                    .await
                    .map_err(|e| context(&target, e))
            }
            _ => Ok(()),
        }
    })
    .await?;
    // Last, deepest first: a directory made read-only must not stop what goes into it,
    // and its mtime must not move again after it was set.
    dirs.sort_by(|a, b| b.0.cmp(&a.0));
    for (target, mode, mtime) in dirs {
        channel
            .set_attributes(&target, mode, mtime)
            .await
            .map_err(|e| context(&target, e))?;
    }
    Ok(())
}

async fn send(
    channel: &SftpChannel<'_>,
    local: &Path,
    target: &Path,
    entry: &Entry,
    tracker: &Tracker<'_>,
) -> Result<(), ExecError> {
    let file = match tokio::fs::File::open(local).await {
        Ok(file) => file.into_std().await,
        Err(e) => {
            return Err(ExecError::Failed(format!(
                "reading {}: {e}",
                local.display()
            )));
        }
    };
    let temp = temp_beside(target);
    let written = channel
        .write_file(&temp, file, entry.size, entry.mode, entry.mtime, &|n| {
            tracker.bytes(n)
        })
        .await;
    let landed = match written {
        Ok(_) => channel.rename(&temp, target).await,
        Err(e) => Err(e),
    };
    if let Err(e) = landed {
        // Best effort: on a lost connection the next sync removes it.
        if !matches!(e, ExecError::Disconnected(_)) {
            let _ = channel.remove_file(&temp).await;
        }
        return Err(explain(channel, target, entry.size, e).await);
    }
    tracker.file();
    Ok(())
}

async fn link(channel: &SftpChannel<'_>, to: &Path, target: &Path) -> Result<(), ExecError> {
    let temp = temp_beside(target);
    let made = channel.symlink(to, &temp).await;
    let landed = match made {
        Ok(()) => channel.rename(&temp, target).await,
        Err(e) => Err(e),
    };
    if let Err(e) = landed {
        let _ = channel.remove_file(&temp).await;
        return Err(context(target, e));
    }
    Ok(())
}

/// OpenSSH's server answers a full disk with a bare "Failure"; the free space says why.
async fn explain(
    channel: &SftpChannel<'_>,
    target: &Path,
    size: u64,
    error: ExecError,
) -> ExecError {
    if let ExecError::Failed(_) = &error
        && let Some(dir) = target.parent()
        && let Some(free) = channel.free_bytes(dir).await
        && free < size.max(64 * 1024)
    {
        return ExecError::Failed(format!(
            "{}: no space left on the host's disk ({free} bytes free, the file has {size})",
            target.display()
        ));
    }
    context(target, error)
}

/// The error with the path it happened on.
fn context(target: &Path, error: ExecError) -> ExecError {
    match error {
        ExecError::Failed(message) => ExecError::Failed(format!("{}: {message}", target.display())),
        lost => lost,
    }
}
