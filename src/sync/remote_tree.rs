//! The host's side of a sync: one `find` lists a whole tree (kind, size, mtime, mode, link
//! target of every entry) in one round trip, NUL-separated so any file name survives.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::entry::{Entry, Kind, Tree};
use super::temp_name::{is_temp, temp_glob};
use crate::shell::quote_word;

/// Six fields per entry, each ended by NUL: kind, size, mtime, mode, path below the
/// starting point, link target.
const FORMAT: &str = r"%y\0%s\0%T@\0%m\0%P\0%l\0";

/// What a remote path turned out to be.
#[derive(Debug)]
pub enum Listing {
    /// A directory (or a link to one) and everything under it.
    Dir(RemoteTree),
    /// Anything else: its one entry.
    File(Entry),
    /// Nothing there.
    Missing,
}

#[derive(Debug, Default)]
pub struct RemoteTree {
    pub tree: Tree,
    /// Temp files an interrupted sync left, to remove before this one writes.
    pub stale: Vec<PathBuf>,
}

/// A path as the host's shell and SFTP server both read it: `~` is the login's home
/// (where both start), and a relative path never begins with `-`.
pub fn host_path(path: &str) -> String {
    let path = match path {
        "~" | "" => ".",
        p => p.strip_prefix("~/").unwrap_or(p),
    };
    if path.starts_with('/') || path.starts_with("./") || path == "." {
        path.to_string()
    } else {
        format!("./{path}")
    }
}

/// The command that lists `root` (a [`host_path`]): a directory's whole tree, or the one
/// entry of anything else. With `sweep`, a directory that exists first loses the staging
/// directories that interrupted streams left beside it: a stream cleans up only when it
/// runs, and none runs once the target exists.
pub fn list_command(root: &str, sweep: bool) -> String {
    let r = quote_word(root);
    let path = Path::new(root);
    // A host path always has a parent (`/`, `.`) unless it is one of those.
    let staging = match (
        sweep,
        path.parent().and_then(Path::to_str),
        path.file_name(),
    ) {
        (true, Some(parent), Some(name)) => temp_glob(name).map(|glob| (parent, glob)),
        _ => None,
    };
    let sweep = match staging {
        Some((parent, glob)) => format!(
            "for s in {}/{glob}; do if [ -e \"$s\" ]; then rm -rf -- \"$s\"; fi; done; ",
            quote_word(parent)
        ),
        None => String::new(),
    };
    format!(
        "r={r}; if [ -d \"$r\" ]; then {sweep}printf 'dir\\0'; exec find \"$r/\" -mindepth 1 -printf '{FORMAT}'; \
         elif [ -e \"$r\" ] || [ -h \"$r\" ]; then printf 'file\\0'; exec find \"$r\" -maxdepth 0 -printf '{FORMAT}'; \
         else printf 'none\\0'; fi"
    )
}

/// The command that lists the one entry `name` in directory `dir` (both as given), for a
/// single file's sync: the directory may hold thousands of others.
pub fn list_one_command(dir: &str, name: &OsStr) -> String {
    // find's -name reads `*?[\` as pattern characters; escaped, they match themselves.
    let mut pattern = Vec::new();
    for &b in name.as_bytes() {
        if matches!(b, b'*' | b'?' | b'[' | b'\\') {
            pattern.push(b'\\');
        }
        pattern.push(b);
    }
    let pattern = String::from_utf8_lossy(&pattern).into_owned();
    format!(
        "d={}; [ -d \"$d\" ] || {{ printf 'dir\\0'; exit 0; }}; printf 'dir\\0'; \
         exec find \"$d/\" -mindepth 1 -maxdepth 1 -name {} -printf '{FORMAT}'",
        quote_word(dir),
        quote_word(&pattern)
    )
}

/// Reads what [`list_command`] or [`list_one_command`] printed.
pub fn parse(output: &[u8]) -> Result<Listing, String> {
    let mut fields = output.split(|b| *b == 0);
    let marker = fields.next().unwrap_or_default();
    let mut entries = Vec::new();
    // The piece after the last NUL is empty.
    while let Some(kind) = fields.next().filter(|k| !k.is_empty()) {
        let mut next = || fields.next().ok_or("the host's file list ends mid-entry");
        let (size, mtime, mode, path, target) = (next()?, next()?, next()?, next()?, next()?);
        entries.push((
            PathBuf::from(OsStr::from_bytes(path)),
            Entry {
                kind: match kind {
                    b"f" => Kind::File,
                    b"d" => Kind::Dir,
                    b"l" => Kind::Symlink(PathBuf::from(OsStr::from_bytes(target))),
                    _ => Kind::Other,
                },
                size: number(size)?,
                mtime: seconds(mtime)?,
                mode: u32::from_str_radix(text(mode)?, 8)
                    .map_err(|_| "the host's file list has a bad mode")?,
            },
        ));
    }
    match marker {
        b"none" => Ok(Listing::Missing),
        b"file" => match entries.pop() {
            Some((_, entry)) => Ok(Listing::File(entry)),
            None => Err("the host listed no entry for a file".into()),
        },
        b"dir" => {
            let mut tree = RemoteTree::default();
            for (path, entry) in entries {
                if path.file_name().is_some_and(is_temp) {
                    tree.stale.push(path);
                } else {
                    tree.tree.insert(path, entry);
                }
            }
            Ok(Listing::Dir(tree))
        }
        _ => Err("the host did not list the directory (is `find` GNU find?)".into()),
    }
}

fn text(field: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(field).map_err(|_| "the host's file list is garbled".to_string())
}

fn number(field: &[u8]) -> Result<u64, String> {
    text(field)?
        .parse()
        .map_err(|_| "the host's file list has a bad size".to_string())
}

/// `%T@` prints seconds with a fraction; the quick check compares whole seconds.
fn seconds(field: &[u8]) -> Result<i64, String> {
    let whole = text(field)?.split('.').next().unwrap_or_default();
    whole
        .parse()
        .map_err(|_| "the host's file list has a bad mtime".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_never_start_with_a_dash_and_home_is_the_start() {
        assert_eq!(host_path("~"), ".");
        assert_eq!(host_path("~/app"), "./app");
        assert_eq!(host_path("-rf"), "./-rf");
        assert_eq!(host_path("/srv/app/"), "/srv/app/");
    }

    #[test]
    fn reads_every_kind_and_odd_names() {
        // Fields as `find -printf` writes them, NUL-separated; built from pieces so that
        // no `\0` runs into a digit.
        let fields: &[&[u8]] = &[
            b"dir",
            b"f",
            b"3",
            b"1700000000.5",
            b"644",
            b"a b\n\xff",
            b"",
            b"d",
            b"4096",
            b"1700000001.0",
            b"755",
            b"sub",
            b"",
            b"l",
            b"5",
            b"1700000002.0",
            b"777",
            b"sub/link",
            b"../x",
            b"f",
            b"1",
            b"1.0",
            b"600",
            b"sub/.a.tsync-tmp-0123abcd",
            b"",
        ];
        let out = &fields
            .iter()
            .flat_map(|f| [*f, b"\0"])
            .collect::<Vec<_>>()
            .concat();
        let Listing::Dir(tree) = parse(out).unwrap() else {
            panic!("a directory")
        };
        assert_eq!(tree.tree.len(), 3);
        let odd = PathBuf::from(OsStr::from_bytes(b"a b\n\xff"));
        assert_eq!(tree.tree[&odd].mtime, 1_700_000_000);
        assert_eq!(tree.tree[&odd].mode, 0o644);
        assert_eq!(
            tree.tree[&PathBuf::from("sub/link")].kind,
            Kind::Symlink(PathBuf::from("../x"))
        );
        assert_eq!(tree.stale, [PathBuf::from("sub/.a.tsync-tmp-0123abcd")]);
        assert!(matches!(parse(b"none\0").unwrap(), Listing::Missing));
        assert!(parse(b"dir\0f\x003\0").is_err());
    }
}
