//! How tsync learns which remote process group runs a command, so that it can stop it.
//!
//! Every command first writes a marker line with its shell's PID to stderr. Whatever the
//! login writes before it (rc files, a ForceCommand wrapper, a motd script) comes first, so
//! the marker is recognised on any line of stderr until it is seen, not only on the first;
//! a nonce drawn for each run keeps what a host prints from passing for it. The marker
//! starts with a newline, which ends a partial line the login may have left, so the marker
//! always arrives as a line of its own (and never straddles a 64 KiB output piece).

use std::io::Read;

/// The record separator starts the marker: no text a login prints by accident begins so.
const PREFIX: &str = "\u{1e}tsync-pid ";

pub(super) struct PidMarker {
    /// `PREFIX NONCE ` (with the trailing space): what a marker line starts with.
    start: String,
}

/// What one line of stderr is, as far as the marker goes.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum MarkerLine {
    /// Not the marker: output to show.
    Other,
    /// The marker, with the PID of the command's shell.
    Pid(u32),
    /// The marker, but its PID is unusable: the group stays unknown rather than becoming
    /// 0 (which `kill` reads as "my own group").
    Garbled,
}

impl PidMarker {
    /// A marker with a fresh random nonce.
    pub(super) fn new() -> PidMarker {
        let mut bytes = [0u8; 8];
        // Uniqueness is what matters: with no /dev/urandom, the clock still tells runs apart.
        let drawn = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
        let nonce = match drawn {
            Ok(()) => u64::from_le_bytes(bytes),
            Err(_) => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64),
        };
        PidMarker::with_nonce(nonce)
    }

    fn with_nonce(nonce: u64) -> PidMarker {
        PidMarker {
            start: format!("{PREFIX}{nonce:016x} "),
        }
    }

    /// The shell code that writes the marker; `$$` is the PID of the shell running the
    /// command.
    pub(super) fn announce(&self) -> String {
        // printf's format turns \036 into the record separator; the rest has no % or \.
        let start = self.start.replace('\u{1e}', "\\036");
        format!("printf '\\n{start}%s\\n' \"$$\" >&2")
    }

    pub(super) fn recognise(&self, line: &[u8]) -> MarkerLine {
        let Some(rest) = line.strip_prefix(self.start.as_bytes()) else {
            return MarkerLine::Other;
        };
        let pid = std::str::from_utf8(rest)
            .ok()
            .and_then(|r| r.trim_end_matches(['\n', '\r']).parse::<u32>().ok());
        match pid {
            // 0 and 1 never name a command's group: kill(-1) would signal every process.
            Some(pid) if pid > 1 => MarkerLine::Pid(pid),
            _ => MarkerLine::Garbled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_only_its_own_marker() {
        let marker = PidMarker::with_nonce(0xabc);
        let line = "\u{1e}tsync-pid 0000000000000abc 4242\n";
        assert_eq!(marker.recognise(line.as_bytes()), MarkerLine::Pid(4242));
        let other_run = "\u{1e}tsync-pid 0000000000000abd 4242\n";
        assert_eq!(marker.recognise(other_run.as_bytes()), MarkerLine::Other);
        assert_eq!(marker.recognise(b"Welcome to web-1\n"), MarkerLine::Other);
    }

    /// Regression: an unparsable PID in the marker became PID 0.
    #[test]
    fn an_unparsable_pid_is_unknown_not_zero() {
        let marker = PidMarker::with_nonce(1);
        for pid in ["", "x12", "0", "1", "-5", "99999999999"] {
            let line = format!("\u{1e}tsync-pid 0000000000000001 {pid}\n");
            assert_eq!(
                marker.recognise(line.as_bytes()),
                MarkerLine::Garbled,
                "{pid}"
            );
        }
    }

    #[test]
    fn the_shell_writes_what_is_recognised() {
        let marker = PidMarker::new();
        let out = std::process::Command::new("sh")
            .args(["-c", &format!("{}; echo $$ >&2", marker.announce())])
            .output()
            .unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        let mut lines = stderr.split_inclusive('\n');
        assert_eq!(lines.next(), Some("\n"));
        let MarkerLine::Pid(pid) = marker.recognise(lines.next().unwrap().as_bytes()) else {
            panic!("not recognised: {stderr:?}");
        };
        assert_eq!(lines.next().unwrap().trim(), pid.to_string());
    }
}
