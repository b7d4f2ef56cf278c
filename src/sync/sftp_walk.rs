//! The listing of a host whose `find` cannot print one (BusyBox, the BSDs, macOS): the
//! same [`Listing`], read directory by directory over SFTP. Slower (a round trip per
//! directory, several at once) but it needs nothing on the host beyond the SFTP server.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::entry::{Entry, Kind, Tree};
use super::remote_tree::{Listing, RemoteTree};
use super::temp_name::is_temp;
use super::workers;
use crate::transport::{ExecError, RemoteKind, RemoteStat, SftpChannel};

/// Directories read at once.
const WIDTH: usize = 8;

/// Lists `root` as [`list_command`](super::remote_tree::list_command) would.
pub async fn walk(channel: &SftpChannel<'_>, root: &Path) -> Result<Listing, ExecError> {
    match channel.stat(root).await? {
        None => Ok(Listing::Missing),
        Some(stat) if stat.kind != RemoteKind::Dir => Ok(Listing::File(entry(&stat))),
        Some(_) => {
            let found = Mutex::new(RemoteTree::default());
            let mut level = vec![PathBuf::new()];
            while !level.is_empty() {
                let next = Mutex::new(Vec::new());
                workers::each(level.len(), WIDTH, |i| {
                    let (found, next, dir) = (&found, &next, &level[i]);
                    async move {
                        for stat in channel.list_dir(&root.join(dir)).await? {
                            let path = dir.join(&stat.name);
                            let mut tree = found.lock().expect("not poisoned");
                            if is_temp(stat.name.as_os_str()) {
                                tree.stale.push(path);
                                continue;
                            }
                            if stat.kind == RemoteKind::Dir {
                                next.lock().expect("not poisoned").push(path.clone());
                            }
                            tree.tree.insert(path, entry(&stat));
                        }
                        Ok(())
                    }
                })
                .await?;
                level = next.into_inner().expect("not poisoned");
            }
            Ok(Listing::Dir(found.into_inner().expect("not poisoned")))
        }
    }
}

/// The one entry `name` of directory `dir`, as
/// [`list_one_command`](super::remote_tree::list_one_command) would list it.
pub async fn walk_one(
    channel: &SftpChannel<'_>,
    dir: &Path,
    name: &Path,
) -> Result<Listing, ExecError> {
    let mut tree = RemoteTree::default();
    if channel.stat(dir).await?.is_some() {
        for stat in channel.list_dir(dir).await? {
            if stat.name == name {
                tree.tree = Tree::from([(stat.name.clone(), entry(&stat))]);
            }
        }
    }
    Ok(Listing::Dir(tree))
}

fn entry(stat: &RemoteStat) -> Entry {
    Entry {
        kind: match (stat.kind, &stat.target) {
            (RemoteKind::File, _) => Kind::File,
            (RemoteKind::Dir, _) => Kind::Dir,
            (RemoteKind::Symlink, Some(target)) => Kind::Symlink(target.clone()),
            _ => Kind::Other,
        },
        size: stat.size,
        mtime: stat.mtime,
        mode: stat.mode,
    }
}
