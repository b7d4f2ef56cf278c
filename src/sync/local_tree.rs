//! The controller's side of a sync: a directory walked into a [`Tree`], excluded paths left
//! out (an excluded directory is not entered).

use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::entry::{Entry, Kind, Tree};
use super::excludes::Excludes;
use super::temp_name::is_temp;

/// A walked directory, with what could not be read (which turns `delete` off).
pub struct LocalTree {
    pub tree: Tree,
    pub errors: Vec<String>,
    /// Temp files an interrupted pull left, to remove before this one writes.
    pub stale: Vec<PathBuf>,
}

impl LocalTree {
    /// Walks `root`'s entries; a missing `root` is an empty tree.
    pub fn scan(root: &Path, excludes: &Excludes) -> LocalTree {
        let mut scan = LocalTree {
            tree: Tree::new(),
            errors: Vec::new(),
            stale: Vec::new(),
        };
        if root.exists() {
            scan.walk(root, Path::new(""), excludes);
        }
        scan
    }

    /// The one entry at `path`, named `name` in the tree, if there is one.
    pub fn single(path: &Path, name: PathBuf) -> Result<LocalTree, String> {
        let mut tree = Tree::new();
        match std::fs::symlink_metadata(path) {
            Ok(meta) => {
                tree.insert(name, entry(path, &meta)?);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("{}: {e}", path.display())),
        }
        Ok(LocalTree {
            tree,
            errors: Vec::new(),
            stale: Vec::new(),
        })
    }

    fn walk(&mut self, dir: &Path, relative: &Path, excludes: &Excludes) {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => {
                self.errors.push(format!("{}: {e}", dir.display()));
                return;
            }
        };
        for item in entries {
            let item = match item {
                Ok(item) => item,
                Err(e) => {
                    self.errors.push(format!("{}: {e}", dir.display()));
                    continue;
                }
            };
            let name = item.file_name();
            let path = item.path();
            let rel = relative.join(&name);
            if is_temp(&name) {
                self.stale.push(path);
                continue;
            }
            let meta = match std::fs::symlink_metadata(&path) {
                Ok(meta) => meta,
                Err(e) => {
                    self.errors.push(format!("{}: {e}", path.display()));
                    continue;
                }
            };
            if excludes.excludes(&rel, meta.is_dir()) {
                continue;
            }
            match entry(&path, &meta) {
                Ok(found) => {
                    let is_dir = found.kind == Kind::Dir;
                    self.tree.insert(rel.clone(), found);
                    if is_dir {
                        self.walk(&path, &rel, excludes);
                    }
                }
                Err(e) => self.errors.push(e),
            }
        }
    }
}

/// The entry for `path`, whose `lstat` is `meta`.
pub fn entry(path: &Path, meta: &Metadata) -> Result<Entry, String> {
    let file_type = meta.file_type();
    let kind = if file_type.is_symlink() {
        let target = std::fs::read_link(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Kind::Symlink(target)
    } else if file_type.is_dir() {
        Kind::Dir
    } else if file_type.is_file() {
        Kind::File
    } else {
        Kind::Other
    };
    Ok(Entry {
        kind,
        size: meta.len(),
        mtime: meta.mtime(),
        mode: meta.mode() & 0o7777,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_files_dirs_and_links_leaving_out_excluded_and_temp_names() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("src/deep")).unwrap();
        std::fs::create_dir_all(root.join("target/debug")).unwrap();
        std::fs::write(root.join("src/deep/a.txt"), "abc").unwrap();
        std::fs::write(root.join("target/debug/app"), "bin").unwrap();
        std::fs::write(root.join("x.log"), "log").unwrap();
        std::fs::write(root.join(".a.txt.tsync-tmp-0123abcd"), "half").unwrap();
        std::os::unix::fs::symlink("src/deep/a.txt", root.join("link")).unwrap();
        let excludes = Excludes::new(&["target/".into(), "*.log".into()]).unwrap();
        let scan = LocalTree::scan(root, &excludes);
        let paths: Vec<_> = scan.tree.keys().map(|p| p.to_str().unwrap()).collect();
        assert_eq!(paths, ["link", "src", "src/deep", "src/deep/a.txt"]);
        assert_eq!(scan.tree[Path::new("src/deep/a.txt")].size, 3);
        assert_eq!(
            scan.tree[Path::new("link")].kind,
            Kind::Symlink(PathBuf::from("src/deep/a.txt"))
        );
        assert!(scan.errors.is_empty());
    }
}
