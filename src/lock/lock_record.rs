//! What a lock says about its holder, stored as one line of JSON in `record.json` inside the
//! lock directory: enough for whoever finds it to know who to ask, and the id that releases
//! it.

use std::io::Read;
use std::path::Path;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockRecord {
    /// Random, and the nonce that releases the lock: only its holder, or someone who read
    /// it from the record, can remove the lock.
    pub id: String,
    pub user: String,
    /// The machine tsync runs on.
    pub controller: String,
    pub pid: u32,
    /// Unix seconds, by the holder's clock.
    pub started: u64,
    /// When the holder last said it is alive, in unix seconds by its clock.
    pub heartbeat: u64,
    /// A heartbeat older than this makes the lock stale.
    pub expiry_secs: u64,
    pub playbook: String,
    /// `git rev-parse --short HEAD` of the playbook's repository, if it is in one.
    #[serde(default)]
    pub revision: Option<String>,
    /// `--lock-message`.
    #[serde(default)]
    pub message: Option<String>,
}

/// The clock as unix seconds.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl LockRecord {
    /// A record for this process holding the lock of `playbook`, from now on.
    pub fn for_this_run(playbook: &Path, expiry: Duration, message: Option<String>) -> LockRecord {
        let now = unix_now();
        LockRecord {
            id: random_id(),
            user: std::env::var("USER")
                .or_else(|_| std::env::var("LOGNAME"))
                // SAFETY: getuid has no preconditions and cannot fail.
                .unwrap_or_else(|_| format!("uid {}", unsafe { libc::getuid() })),
            controller: hostname(),
            pid: std::process::id(),
            started: now,
            heartbeat: now,
            expiry_secs: expiry.as_secs().max(1),
            playbook: playbook.display().to_string(),
            revision: git_revision(playbook),
            message,
        }
    }

    /// The record as it is stored: one line, no spaces between fields, so the shell on the
    /// host can find `"id":"…"` in it with grep.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("a record always serialises")
    }

    pub fn from_line(line: &str) -> Option<LockRecord> {
        serde_json::from_str(line.trim()).ok()
    }

    /// The heartbeat is older than the expiry the holder chose.
    pub fn is_stale(&self, now: u64) -> bool {
        now.saturating_sub(self.heartbeat) > self.expiry_secs
    }

    /// Who holds it, where from, since when, why, and its id, in one paragraph.
    pub fn describe(&self, now: u64) -> String {
        let mut text = format!(
            "held by {}@{} (pid {}) since {} for {}",
            self.user,
            self.controller,
            self.pid,
            time(self.started),
            self.playbook
        );
        if let Some(revision) = &self.revision {
            text.push_str(&format!(" at {revision}"));
        }
        if let Some(message) = &self.message {
            text.push_str(&format!(": \"{message}\""));
        }
        let age = Duration::from_secs(now.saturating_sub(self.heartbeat));
        text.push_str(&format!(
            "; id {}, last heartbeat {} ago",
            self.id,
            humantime::format_duration(age)
        ));
        if self.is_stale(now) {
            text.push_str(&format!(
                " (stale: older than its expiry of {})",
                humantime::format_duration(Duration::from_secs(self.expiry_secs))
            ));
        }
        text
    }
}

/// A unix time as RFC 3339, to the second.
pub(super) fn time(secs: u64) -> String {
    humantime::format_rfc3339_seconds(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
        .to_string()
}

/// 64 random bits as hex, from the system's generator; the clock and pid mixed when it
/// cannot be read (the id must differ between runs, not resist an attacker).
fn random_id() -> String {
    let mut bytes = [0u8; 8];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if read.is_err() {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        bytes = (nanos ^ u64::from(std::process::id()).rotate_left(32)).to_be_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hostname() -> String {
    let mut buffer = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that much.
    let ok = unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) } == 0;
    let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
    match std::str::from_utf8(&buffer[..end]) {
        Ok(name) if ok && !name.is_empty() => name.to_string(),
        _ => "unknown".to_string(),
    }
}

/// The short revision of the repository holding `playbook`; None outside a repository or
/// without git.
fn git_revision(playbook: &Path) -> Option<String> {
    let dir = playbook
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "--short", "HEAD"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let revision = String::from_utf8(output.stdout).ok()?.trim().to_string();
    (output.status.success() && !revision.is_empty()).then_some(revision)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> LockRecord {
        LockRecord {
            id: "00ff".into(),
            user: "ana".into(),
            controller: "laptop".into(),
            pid: 42,
            started: 1_000,
            heartbeat: 1_100,
            expiry_secs: 300,
            playbook: "deploy.kdl".into(),
            revision: Some("abc1234".into()),
            message: Some("hotfix".into()),
        }
    }

    #[test]
    fn a_record_reads_back_and_its_id_is_greppable() {
        let line = record().to_line();
        assert!(line.contains(r#""id":"00ff""#), "{line}");
        assert!(!line.contains('\n'));
        assert_eq!(LockRecord::from_line(&line), Some(record()));
        assert_eq!(LockRecord::from_line("not json"), None);
    }

    #[test]
    fn stale_means_the_heartbeat_is_older_than_the_expiry() {
        assert!(!record().is_stale(1_400));
        assert!(record().is_stale(1_401));
        let described = record().describe(1_500);
        assert!(described.contains("ana@laptop (pid 42)"), "{described}");
        assert!(described.contains("\"hotfix\""), "{described}");
        assert!(described.contains("id 00ff"), "{described}");
        assert!(described.contains("stale"), "{described}");
    }

    #[test]
    fn every_id_differs() {
        assert_ne!(random_id(), random_id());
        assert_eq!(random_id().len(), 16);
    }
}
