//! What a sync must do to make the destination match the source, worked out from the two
//! trees alone: the same list drives the real run and the dry run's itemized report.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use super::entry::{Entry, Kind, Tree};
use super::excludes::Excludes;
use super::report::{Change, Item};

/// One operation on the destination, in the order [`Changes::ops`] lists them: removals
/// (deepest first), directories (parents first), files and links, then attributes.
/// A directory's mode and mtime are set after everything in it (see [`Op::DirAttrs`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Remove {
        path: PathBuf,
        dir: bool,
    },
    Mkdir {
        path: PathBuf,
        mode: u32,
        mtime: i64,
    },
    Send {
        path: PathBuf,
        entry: Entry,
    },
    Link {
        path: PathBuf,
        target: PathBuf,
    },
    /// A file with the right content and the wrong mode or mtime.
    Touch {
        path: PathBuf,
        mode: u32,
        mtime: i64,
    },
    /// An existing directory's mode and mtime, set last: its mode differs, its mtime does,
    /// or the sync adds or removes an entry in it, which moves its mtime on the host.
    DirAttrs {
        path: PathBuf,
        mode: u32,
        mtime: i64,
    },
}

/// How the two trees are compared.
pub struct Rules<'a> {
    pub excludes: &'a Excludes,
    /// Remove what only the destination has.
    pub delete: bool,
    /// With `--checksum`: the files of equal size whose contents are equal too. Without,
    /// files are equal when size and mtime are (rsync's quick check).
    pub equal_content: Option<&'a HashSet<PathBuf>>,
}

#[derive(Debug, Default)]
pub struct Changes {
    pub ops: Vec<Op>,
    pub items: Vec<Item>,
    /// Source files the destination already has.
    pub unchanged: u64,
    /// Source entries that are neither file, directory nor link.
    pub skipped_special: Vec<PathBuf>,
}

impl Changes {
    pub fn between(source: &Tree, dest: &Tree, rules: &Rules) -> Changes {
        let mut removes = Vec::new();
        let mut mkdirs = Vec::new();
        let mut sends = Vec::new();
        let mut touches = Vec::new();
        let mut dir_attrs = Vec::new();
        let mut changes = Changes::default();
        // Destination directories a source file or link replaces: what they hold goes too.
        let mut replaced_dirs = Vec::new();
        for (path, s) in source {
            if rules.excludes.excludes(path, s.kind == Kind::Dir) {
                continue;
            }
            let d = dest.get(path);
            if let Some(d) = d
                && d.kind == Kind::Dir
                && s.kind != Kind::Dir
                && s.kind != Kind::Other
            {
                replaced_dirs.push(path.clone());
            }
            match &s.kind {
                Kind::Other => changes.skipped_special.push(path.clone()),
                Kind::Dir => match d {
                    Some(d) if d.kind == Kind::Dir => {
                        if d.mode != s.mode || d.mtime != s.mtime {
                            dir_attrs.push(Op::DirAttrs {
                                path: path.clone(),
                                mode: s.mode,
                                mtime: s.mtime,
                            });
                        }
                        // A directory's mtime alone is restored quietly: it moves whenever
                        // anything is made in it, excluded files included, and is not
                        // content the user would call a change.
                        if d.mode != s.mode {
                            changes.items.push(item(Change::Attributes, path, 0));
                        }
                    }
                    found => {
                        if found.is_some() {
                            removes.push(Op::Remove {
                                path: path.clone(),
                                dir: false,
                            });
                            changes.items.push(item(Change::Delete, path, 0));
                        }
                        mkdirs.push(Op::Mkdir {
                            path: path.clone(),
                            mode: s.mode,
                            mtime: s.mtime,
                        });
                        changes.items.push(item(Change::Mkdir, path, 0));
                    }
                },
                Kind::File => match d {
                    Some(d) if d.kind == Kind::File && same_content(path, s, d, rules) => {
                        changes.unchanged += 1;
                        if d.mode != s.mode || d.mtime != s.mtime {
                            touches.push(Op::Touch {
                                path: path.clone(),
                                mode: s.mode,
                                mtime: s.mtime,
                            });
                            changes.items.push(item(Change::Attributes, path, 0));
                        }
                    }
                    found => {
                        let change = if found.is_some() {
                            Change::Replace
                        } else {
                            Change::Create
                        };
                        sends.push(Op::Send {
                            path: path.clone(),
                            entry: s.clone(),
                        });
                        changes.items.push(item(change, path, s.size));
                    }
                },
                Kind::Symlink(target) => match d.map(|d| &d.kind) {
                    Some(Kind::Symlink(t)) if t == target => {}
                    _ => {
                        sends.push(Op::Link {
                            path: path.clone(),
                            target: target.clone(),
                        });
                        changes.items.push(item(Change::Symlink, path, 0));
                    }
                },
            }
        }
        // Everything under a replaced directory, and (with delete) what only the
        // destination has, deepest first, keeping excluded paths and the directories above
        // them.
        let mut doomed = BTreeSet::new();
        for dir in &replaced_dirs {
            for (path, _) in dest.range(dir.clone()..).skip(1) {
                if !path.starts_with(dir) {
                    break;
                }
                doomed.insert(path.clone());
            }
            doomed.insert(dir.clone());
        }
        if rules.delete {
            let mut kept: HashSet<&Path> = HashSet::new();
            for (path, d) in dest.iter().rev() {
                if source.contains_key(path) || doomed.contains(path) {
                    continue;
                }
                if rules.excludes.excludes(path, d.kind == Kind::Dir) || kept.contains(&**path) {
                    kept.extend(path.ancestors().skip(1));
                    continue;
                }
                doomed.insert(path.clone());
            }
        }
        for path in doomed.iter().rev() {
            let is_dir = dest.get(path).is_some_and(|d| d.kind == Kind::Dir);
            removes.push(Op::Remove {
                path: path.clone(),
                dir: is_dir,
            });
            if !replaced_dirs.contains(path) || is_dir {
                changes.items.push(item(Change::Delete, path, 0));
            }
        }
        // Deepest first, so a directory is empty when its turn comes: a replaced directory
        // is removed as a whole, after its entries.
        removes.sort_by(|a, b| op_path(b).cmp(op_path(a)));
        // Existing directories an entry is made in or removed from get their mtime back.
        let mut restored: HashSet<PathBuf> = dir_attrs.iter().map(op_path).cloned().collect();
        for op in removes.iter().chain(&mkdirs).chain(&sends) {
            let Some(parent) = op_path(op).parent() else {
                continue;
            };
            if let Some(s) = source.get(parent)
                && s.kind == Kind::Dir
                && dest.get(parent).is_some_and(|d| d.kind == Kind::Dir)
                && restored.insert(parent.to_path_buf())
            {
                dir_attrs.push(Op::DirAttrs {
                    path: parent.to_path_buf(),
                    mode: s.mode,
                    mtime: s.mtime,
                });
            }
        }
        // Deepest first, so no directory is touched after its own attributes were set.
        dir_attrs.sort_by(|a, b| op_path(b).cmp(op_path(a)));
        changes.items.sort_by(|a, b| {
            a.path
                .cmp(&b.path)
                .then(a.change.mark().cmp(&b.change.mark()))
        });
        changes.ops = [removes, mkdirs, sends, touches, dir_attrs].concat();
        changes
    }

    /// Files to send and their bytes.
    pub fn to_send(&self) -> (u64, u64) {
        self.ops.iter().fold((0, 0), |(n, bytes), op| match op {
            Op::Send { entry, .. } => (n + 1, bytes + entry.size),
            _ => (n, bytes),
        })
    }
}

fn op_path(op: &Op) -> &PathBuf {
    match op {
        Op::Remove { path, .. }
        | Op::Mkdir { path, .. }
        | Op::Send { path, .. }
        | Op::Link { path, .. }
        | Op::Touch { path, .. }
        | Op::DirAttrs { path, .. } => path,
    }
}

fn same_content(path: &Path, s: &Entry, d: &Entry, rules: &Rules) -> bool {
    s.size == d.size
        && match rules.equal_content {
            Some(equal) => equal.contains(path),
            None => s.mtime == d.mtime,
        }
}

fn item(change: Change, path: &Path, bytes: u64) -> Item {
    Item {
        change,
        path: path.to_string_lossy().into_owned(),
        bytes,
    }
}

#[cfg(test)]
mod tests;
