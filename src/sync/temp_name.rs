//! The names files are written under before they are renamed into place:
//! `.<name>.tsync-tmp-<8 hex>`, beside the target, so the rename stays on one file system.
//! An interrupted sync may leave one behind; the next sync of that directory removes it.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use crate::shell::quote_word;

const MARK: &[u8] = b".tsync-tmp-";

/// A fresh temp path beside `target`.
pub fn temp_beside(target: &Path) -> PathBuf {
    let name = target.file_name().unwrap_or(OsStr::new("file"));
    let mut temp = temp_prefix(name).into_vec();
    temp.extend_from_slice(format!("{:08x}", random()).as_bytes());
    target.with_file_name(OsString::from_vec(temp))
}

/// What every temp name of `name` starts with; eight lowercase hex digits follow.
pub fn temp_prefix(name: &OsStr) -> OsString {
    let mut prefix = Vec::with_capacity(name.len() + MARK.len() + 9);
    prefix.push(b'.');
    prefix.extend_from_slice(name.as_bytes());
    prefix.extend_from_slice(MARK);
    OsString::from_vec(prefix)
}

/// A shell pattern for every temp name of `name`, as a host's shell expands it: the prefix
/// quoted, eight hex digits after it. None for a name a script cannot carry (not UTF-8).
pub fn temp_glob(name: &OsStr) -> Option<String> {
    Some(format!(
        "{}{}",
        quote_word(temp_prefix(name).to_str()?),
        "[0-9a-f]".repeat(8)
    ))
}

/// Whether `name` is one of tsync's temp names.
pub fn is_temp(name: &OsStr) -> bool {
    let bytes = name.as_bytes();
    bytes.first() == Some(&b'.')
        && bytes.len() > MARK.len() + 8
        && bytes[bytes.len() - 8..].iter().all(u8::is_ascii_hexdigit)
        && &bytes[bytes.len() - 8 - MARK.len()..bytes.len() - 8] == MARK
}

/// Distinct enough for temp names that live a few seconds: the clock's nanoseconds mixed
/// with a counter, so two files started in the same instant differ.
fn random() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32).rotate_left(13))
        .unwrap_or(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    (nanos ^ std::process::id().rotate_left(7)).wrapping_add(count.wrapping_mul(0x9e37_79b9))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_are_recognised_and_nothing_else() {
        let temp = temp_beside(Path::new("/srv/app/main.py"));
        assert_eq!(temp.parent(), Some(Path::new("/srv/app")));
        assert!(is_temp(temp.file_name().unwrap()));
        assert!(!is_temp(OsStr::new("main.py")));
        assert!(!is_temp(OsStr::new(".main.py.tsync-tmp-xyz")));
        assert!(!is_temp(OsStr::new("x.tsync-tmp-0123abcd")));
        assert_ne!(temp, temp_beside(Path::new("/srv/app/main.py")));
    }
}
