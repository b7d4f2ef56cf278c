//! One host's sync from start to end: list both sides, work out the changes, and (unless
//! it is a dry run) carry them out. Nothing is sent when nothing differs, and a sync with
//! nothing to do costs one round trip: the listing.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use super::changes::{Changes, Rules};
use super::checksum::equal_files;
use super::entry::Tree;
use super::excludes::Excludes;
use super::layout::{Layout, Single};
use super::local_tree::{LocalTree, entry};
use super::pull::pull;
use super::push::push;
use super::remote_tree::{Listing, host_path, list_command, list_one_command, parse};
use super::report::{Change, Item, Progress, SyncReport};
use super::sftp_walk::{walk, walk_one};
use super::spec::{Direction, SyncSpec};
use super::stream::{Streamed, fits, stream};
use super::tracker::Tracker;
use crate::transport::{Connection, ExecError, RemoteKind, SftpChannel};

/// A listing is a few dozen bytes per entry: this is millions of files.
const LISTING_LIMIT: usize = 512 << 20;

/// Carries out `spec` on the host behind `connection` (or, with `spec.dry_run`, only
/// works out what it would do), telling `progress` how far it got as files land.
pub async fn sync(
    connection: &Connection,
    spec: &SyncSpec,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<SyncReport, ExecError> {
    let excludes = Excludes::new(&spec.excludes).map_err(ExecError::Failed)?;
    match spec.direction {
        Direction::Push => sync_push(connection, spec, &excludes, progress).await,
        Direction::Pull => sync_pull(connection, spec, &excludes, progress).await,
    }
}

async fn sync_push(
    connection: &Connection,
    spec: &SyncSpec,
    excludes: &Excludes,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<SyncReport, ExecError> {
    let meta = std::fs::metadata(&spec.local).map_err(|e| {
        ExecError::Failed(match e.kind() {
            // Said plainly: in a dry run this is often a path an earlier step would make.
            std::io::ErrorKind::NotFound => format!("{} does not exist here", spec.local.display()),
            _ => format!("{}: {e}", spec.local.display()),
        })
    })?;
    let (layout, source, listing) = if meta.is_dir() {
        let remote_dir = host_path(&spec.remote);
        let listing = list(
            connection,
            &list_command(&remote_dir, !spec.dry_run),
            Where::Tree(&remote_dir),
        )
        .await?;
        let layout = Layout {
            local_dir: spec.local.clone(),
            remote_dir: PathBuf::from(remote_dir),
            single: None,
        };
        (layout, LocalTree::scan(&spec.local, excludes), listing)
    } else {
        // A file lands at REMOTE, or inside it when REMOTE ends with `/`.
        let remote = host_path(&spec.remote);
        let (remote_dir, name) = if spec.remote.ends_with('/') {
            let name = spec.local.file_name().unwrap_or(OsStr::new("file"));
            (PathBuf::from(&remote), PathBuf::from(name))
        } else {
            let path = Path::new(&remote);
            let name = path.file_name().unwrap_or(OsStr::new("file"));
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
            (
                dir.unwrap_or(Path::new(".")).to_path_buf(),
                PathBuf::from(name),
            )
        };
        let command = list_one_command(&remote_dir.to_string_lossy(), name.as_os_str());
        let listing = list(connection, &command, Where::One(&remote_dir, &name)).await?;
        let one = entry(&spec.local, &meta).map_err(ExecError::Failed)?;
        let source = LocalTree {
            tree: Tree::from([(name.clone(), one)]),
            errors: Vec::new(),
            stale: Vec::new(),
        };
        let layout = Layout {
            local_dir: spec.local.parent().unwrap_or(Path::new(".")).to_path_buf(),
            remote_dir: remote_dir.clone(),
            single: Some(Single {
                remote: remote_dir.join(&name),
                local: spec.local.clone(),
                name,
            }),
        };
        (layout, source, listing)
    };
    let (dest, stale, missing) = match listing {
        Listing::Dir(remote) => (remote.tree, remote.stale, false),
        Listing::Missing => (Tree::new(), Vec::new(), true),
        Listing::File(_) => {
            return Err(ExecError::Failed(format!(
                "{} on the host is not a directory",
                spec.remote
            )));
        }
    };
    let (changes, mut report) =
        compare(connection, spec, excludes, &source, &dest, &layout).await?;
    if missing {
        // The target is made too, even for an empty tree (rsync itemizes it as `./`).
        let root = Item {
            change: Change::Mkdir,
            path: "./".into(),
            bytes: 0,
        };
        report.items.insert(0, root);
    }
    if spec.dry_run || (changes.ops.is_empty() && stale.is_empty() && !missing) {
        return Ok(report);
    }
    let (files, bytes) = changes.to_send();
    let tracker = Tracker::new(progress, files, bytes);
    if missing
        && fits(&layout, &changes)
        && let Streamed::Landed = stream(connection, &layout, &changes, &tracker).await?
    {
        return Ok(report);
    }
    // A host that could not take the stream read none of it: count from nothing again.
    let tracker = Tracker::new(progress, files, bytes);
    let channel = connection.sftp().await?;
    let pushed = match missing {
        true => make_dirs(&channel, &layout.remote_dir).await,
        false => Ok(()),
    };
    let pushed = match pushed {
        Ok(()) => push(&channel, &layout, &changes, &stale, &tracker).await,
        Err(e) => Err(e),
    };
    // A close that fails after every file landed changes nothing the user cares about.
    let _ = channel.close().await;
    pushed.map(|()| report)
}

async fn sync_pull(
    connection: &Connection,
    spec: &SyncSpec,
    excludes: &Excludes,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<SyncReport, ExecError> {
    let remote = host_path(&spec.remote);
    let (layout, source, dest) = match list(
        connection,
        &list_command(&remote, false),
        Where::Tree(&remote),
    )
    .await?
    {
        Listing::Missing => {
            return Err(ExecError::Failed(format!(
                "{}: no such file or directory on the host",
                spec.remote
            )));
        }
        Listing::Dir(tree) => {
            let layout = Layout {
                local_dir: spec.local.clone(),
                remote_dir: PathBuf::from(&remote),
                single: None,
            };
            let source = LocalTree {
                tree: tree.tree,
                errors: Vec::new(),
                stale: Vec::new(),
            };
            (layout, source, LocalTree::scan(&spec.local, excludes))
        }
        Listing::File(one) => {
            let name = PathBuf::from(Path::new(&remote).file_name().unwrap_or(OsStr::new("file")));
            let local = spec.local.join(&name);
            let dest = LocalTree::single(&local, name.clone()).map_err(ExecError::Failed)?;
            let layout = Layout {
                local_dir: spec.local.clone(),
                remote_dir: Path::new(&remote)
                    .parent()
                    .unwrap_or(Path::new("."))
                    .to_path_buf(),
                single: Some(Single {
                    name: name.clone(),
                    local,
                    remote: PathBuf::from(&remote),
                }),
            };
            let source = LocalTree {
                tree: Tree::from([(name, one)]),
                errors: Vec::new(),
                stale: Vec::new(),
            };
            (layout, source, dest)
        }
    };
    let (changes, report) =
        compare(connection, spec, excludes, &source, &dest.tree, &layout).await?;
    if spec.dry_run {
        return Ok(report);
    }
    std::fs::create_dir_all(&spec.local)
        .map_err(|e| ExecError::Failed(format!("{}: {e}", spec.local.display())))?;
    for temp in &dest.stale {
        let _ = std::fs::remove_file(temp);
    }
    if changes.ops.is_empty() {
        return Ok(report);
    }
    let (files, bytes) = changes.to_send();
    let tracker = Tracker::new(progress, files, bytes);
    let channel = connection.sftp().await?;
    let pulled = pull(&channel, &layout, &changes, &tracker).await;
    let _ = channel.close().await;
    pulled.map(|()| report)
}

/// `mkdir -p` over the SFTP channel, which starts no process on the host: `dir` and the
/// parents it lacks. One that appears meanwhile (another run) is as good as made.
async fn make_dirs(channel: &SftpChannel<'_>, dir: &Path) -> Result<(), ExecError> {
    let is_dir = async |path: &Path| -> Result<Option<bool>, ExecError> {
        Ok(channel.stat(path).await?.map(|s| s.kind == RemoteKind::Dir))
    };
    let mut missing = vec![dir];
    while let Some(parent) = missing[missing.len() - 1]
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        match is_dir(parent).await? {
            Some(true) => break,
            Some(false) => {
                return Err(ExecError::Failed(format!(
                    "mkdir {}: {} is not a directory",
                    dir.display(),
                    parent.display()
                )));
            }
            None => missing.push(parent),
        }
    }
    for path in missing.into_iter().rev() {
        if let Err(e) = channel.mkdir(path).await
            && is_dir(path).await? != Some(true)
        {
            return Err(match e {
                ExecError::Failed(message) => {
                    ExecError::Failed(format!("mkdir {}: {message}", path.display()))
                }
                lost => lost,
            });
        }
    }
    Ok(())
}

/// The changes from `source` to `dest`, and the report they make.
async fn compare(
    connection: &Connection,
    spec: &SyncSpec,
    excludes: &Excludes,
    source: &LocalTree,
    dest: &Tree,
    layout: &Layout,
) -> Result<(Changes, SyncReport), ExecError> {
    let equal: Option<HashSet<PathBuf>> = match spec.checksum {
        true => Some(equal_files(connection, &source.tree, dest, layout).await?),
        false => None,
    };
    let mut warnings = Vec::new();
    // rsync's rule: after a read error on the sending side, a missing file may only be
    // unreadable, so nothing is deleted.
    let delete = spec.delete && source.errors.is_empty();
    if spec.delete && !delete {
        warnings.push(format!(
            "delete skipped: {} path(s) could not be read here (first: {})",
            source.errors.len(),
            source.errors[0]
        ));
    } else if let Some(first) = source.errors.first() {
        warnings.push(format!(
            "{} path(s) could not be read and were not sent (first: {first})",
            source.errors.len()
        ));
    }
    let rules = Rules {
        excludes,
        delete,
        equal_content: equal.as_ref(),
    };
    let changes = Changes::between(&source.tree, dest, &rules);
    for special in &changes.skipped_special {
        warnings.push(format!(
            "{}: not a file, directory or symlink; not synced",
            special.display()
        ));
    }
    let (files_sent, bytes_sent) = changes.to_send();
    let report = SyncReport {
        files_sent,
        bytes_sent,
        deleted: changes
            .items
            .iter()
            .filter(|i| i.change == Change::Delete)
            .count() as u64,
        unchanged: changes.unchanged,
        items: changes.items.clone(),
        warnings,
    };
    Ok((changes, report))
}

/// What a listing command lists, for the SFTP walk that stands in for it.
enum Where<'a> {
    Tree(&'a str),
    One(&'a Path, &'a Path),
}

/// Runs a listing command; where the host's `find` cannot run it, walks over SFTP instead.
async fn list(
    connection: &Connection,
    command: &str,
    what: Where<'_>,
) -> Result<Listing, ExecError> {
    let answer = connection.capture(command, None, LISTING_LIMIT).await?;
    // BusyBox: "unrecognized: -printf"; BSD: "-printf: unknown primary"; or no find at all.
    let no_find = answer.stderr.contains("printf") || answer.stderr.contains("not found");
    if answer.exit_code != Some(0) && no_find {
        let channel = connection.sftp().await?;
        let walked = match what {
            Where::Tree(root) => walk(&channel, Path::new(root)).await,
            Where::One(dir, name) => walk_one(&channel, dir, name).await,
        };
        let _ = channel.close().await;
        return walked;
    }
    if answer.exit_code != Some(0) {
        return Err(ExecError::Failed(format!(
            "listing files on the host: {}",
            if answer.stderr.is_empty() {
                format!("exit code {:?}", answer.exit_code)
            } else {
                answer.stderr
            }
        )));
    }
    parse(&answer.stdout).map_err(ExecError::Failed)
}
