//! The `/proc/loadavg` and `/proc/meminfo` that the hosts of a root lab see.
//!
//! Each host's files are bind-mounted over the real ones inside its mount
//! namespace, so they must be rewritten in place: a new inode (write and
//! rename) would leave the mount showing the old one.

use std::fs::{self, OpenOptions, Permissions};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::LabError;

/// A `/proc/loadavg` line with the given 1, 5 and 15 minute averages.
pub(crate) fn loadavg((one, five, fifteen): (f64, f64, f64)) -> String {
    // The task counts and the last pid are not modelled; they only need to parse.
    format!("{one:.2} {five:.2} {fifteen:.2} 1/123 4567\n")
}

/// A `/proc/meminfo` in the kernel's format with the given total and
/// available memory.
pub(crate) fn meminfo(total_kb: u64, available_kb: u64) -> String {
    // The kernel counts free memory, buffers and page cache towards
    // MemAvailable, so the available memory is split among them.
    let buffers = available_kb / 32;
    let cached = available_kb / 4;
    let free = available_kb - buffers - cached;
    [
        ("MemTotal", total_kb),
        ("MemFree", free),
        ("MemAvailable", available_kb),
        ("Buffers", buffers),
        ("Cached", cached),
        ("SwapTotal", 0),
        ("SwapFree", 0),
    ]
    .iter()
    .map(|(field, kb)| format!("{:<16}{kb:>8} kB\n", format!("{field}:")))
    .collect()
}

/// Replaces the contents of `path` keeping its inode, and leaves it readable
/// by the login user.
pub(crate) fn rewrite(path: &Path, contents: &str) -> Result<(), LabError> {
    let what = || format!("writing {}", path.display());
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(LabError::io(what()))?;
    // Writing over the old text first and cutting it to length afterwards
    // means a reader on the host never sees an empty file.
    file.write_all(contents.as_bytes())
        .and_then(|()| file.set_len(contents.len() as u64))
        .map_err(LabError::io(what()))?;
    fs::set_permissions(path, Permissions::from_mode(0o644)).map_err(LabError::io(what()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loadavg_has_the_kernel_shape() {
        assert_eq!(loadavg((1.5, 0.25, 0.0)), "1.50 0.25 0.00 1/123 4567\n");
    }

    #[test]
    fn meminfo_has_the_kernel_shape() {
        let text = meminfo(8 * 1024 * 1024, 6 * 1024 * 1024);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "MemTotal:        8388608 kB");
        assert_eq!(lines[2], "MemAvailable:    6291456 kB");
        assert_eq!(lines.len(), 7);
        assert!(lines.iter().all(|line| line.ends_with(" kB")));
    }
}
