//! Reading what tsync is given (playbooks, inventory files, ssh and sshsync configs,
//! Tailscale's status) with a size limit, so that a wrong path such as `/dev/zero`, or a
//! runaway generated file, fails at once instead of filling memory.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Why a file could not be read within its limit.
#[derive(Debug, thiserror::Error)]
pub enum LimitedReadError {
    #[error(transparent)]
    Io(#[from] io::Error),
    #[error("it is larger than {}", size(*.limit))]
    TooLarge { limit: u64 },
}

/// The whole of `path`, or an error when it holds more than `limit` bytes.
pub fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, LimitedReadError> {
    read_to_limit(File::open(path)?, limit)
}

/// Everything `reader` gives, or an error as soon as it gives more than `limit` bytes (the
/// rest is left unread).
pub fn read_to_limit(reader: impl Read, limit: u64) -> Result<Vec<u8>, LimitedReadError> {
    let mut bytes = Vec::new();
    reader.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(LimitedReadError::TooLarge { limit });
    }
    Ok(bytes)
}

/// `limit` for people: "8 MiB", "64 KiB", "100 bytes".
pub fn size(limit: u64) -> String {
    match limit {
        l if l >= 1 << 20 && l % (1 << 20) == 0 => format!("{} MiB", l >> 20),
        l if l >= 1 << 10 && l % (1 << 10) == 0 => format!("{} KiB", l >> 10),
        l => format!("{l} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endless_input_stops_at_the_limit() {
        // Regression: /dev/zero as a playbook (or config) was read until memory ran out.
        let err = read_limited(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert!(matches!(err, LimitedReadError::TooLarge { limit } if limit == 1 << 20));
        assert_eq!(err.to_string(), "it is larger than 1 MiB");
        assert_eq!(read_to_limit(&b"abc"[..], 3).unwrap(), b"abc");
        assert!(read_to_limit(&b"abcd"[..], 3).is_err());
    }
}
