//! The ssh ControlMaster of one host for one run, started by tsync and kept as its child.
//!
//! openssh's own launcher runs `ssh -f` with ControlPersist, and ssh puts such a master in
//! the background with daemon(3): a session of its own. Linux's scheduler (autogroup) gives
//! each session an equal share of a busy CPU, so every master weighed as much as a whole
//! login and fifty of them outran the processes they feed, on a lab where hosts share the
//! controller's cores: the hosts' sshd then buffered each stream, at twice its CPU per byte.
//! A master started here stays in tsync's session and shares tsync's share, as the ssh
//! clients of a loop of rsyncs share their shell's. Masters kept after the run
//! (`--persist`) still go through openssh's launcher: they must outlive tsync.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// Where a master's control socket and log go: the layout openssh's launcher uses, so a
/// master looks the same whichever started it.
const DIR_PREFIX: &str = ".ssh-connection";

/// How often to look for the control socket while ssh authenticates, at most: a handshake
/// takes tens of milliseconds on a LAN, so the first looks come sooner.
const LONGEST_WAIT: Duration = Duration::from_millis(10);

/// How long a master may take to end once its socket stopped listening and its channels
/// closed, before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(3);

/// What every master of a run is started with.
#[derive(Clone)]
pub(super) struct MasterOptions {
    pub config: Option<PathBuf>,
    pub connect_timeout: Duration,
    pub server_alive: Duration,
}

pub(super) struct Master {
    child: tokio::process::Child,
    /// Holds the control socket and ssh's log; removed with the master.
    dir: tempfile::TempDir,
}

impl Master {
    /// Starts a master for `destination` with its socket in a new directory under `parent`
    /// and returns once ssh listens on it: authenticated and ready for channels. The error
    /// is ssh's own message.
    pub(super) async fn start(
        options: &MasterOptions,
        destination: &str,
        parent: &Path,
    ) -> Result<Master, String> {
        let dir = tempfile::Builder::new()
            .prefix(DIR_PREFIX)
            .tempdir_in(parent)
            .map_err(|e| format!("cannot make a control socket directory: {e}"))?;
        let socket = dir.path().join("master");
        let log = dir.path().join("log");
        let mut command = tokio::process::Command::new("ssh");
        command
            .arg("-E")
            .arg(&log)
            .arg("-S")
            .arg(&socket)
            .args(["-M", "-N"])
            // No ControlPersist, from a user's config either: that is what makes ssh fork
            // into a session of its own.
            .args(["-o", "ControlPersist=no", "-o", "BatchMode=yes"])
            .args(["-o", "StrictHostKeyChecking=yes"])
            .arg("-o")
            .arg(format!(
                "ConnectTimeout={}",
                options.connect_timeout.as_secs().max(1)
            ))
            .arg("-o")
            .arg(format!(
                "ServerAliveInterval={}",
                options.server_alive.as_secs().max(1)
            ));
        if let Some(config) = &options.config {
            command.arg("-F").arg(config);
        }
        command
            .arg(destination)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // A Ctrl-C at the terminal is tsync's to handle: it stops remote commands over
            // these masters before closing them.
            .process_group(0)
            // A master dropped without being closed (tsync failing on the way) is killed.
            .kill_on_drop(true);
        #[cfg(target_os = "linux")]
        // SAFETY: prctl(PR_SET_PDEATHSIG) is async-signal-safe and touches no memory of the
        // parent. It ends the master when tsync dies, even by SIGKILL, where ControlPersist's
        // idle timer did that for masters in the background.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot run ssh: {e}"))?;
        let mut wait = Duration::from_millis(1);
        loop {
            tokio::select! {
                status = child.wait() => {
                    let text = std::fs::read_to_string(&log).unwrap_or_default();
                    let message = log_message(&text).unwrap_or_else(|| match status {
                        Ok(status) => format!("ssh ended ({status}) before it was connected"),
                        Err(e) => format!("ssh: {e}"),
                    });
                    return Err(message);
                }
                () = tokio::time::sleep(wait) => {
                    // ssh binds a temporary name and links it to the socket's path once it
                    // listens, so the path never names a socket that is not ready.
                    if socket.exists() {
                        return Ok(Master { child, dir });
                    }
                    wait = (wait * 2).min(LONGEST_WAIT);
                }
            }
        }
    }

    pub(super) fn socket(&self) -> PathBuf {
        self.dir.path().join("master")
    }

    pub(super) fn log(&self) -> PathBuf {
        self.dir.path().join("log")
    }

    /// Waits for a master told to stop listening to end (it does once its channels are
    /// closed), and kills it if it does not. Says whether it had to be killed.
    pub(super) async fn finish(mut self) -> bool {
        if let Ok(Ok(_)) = tokio::time::timeout(STOP_TIMEOUT, self.child.wait()).await {
            return false;
        }
        let _ = self.child.kill().await;
        true
    }

    /// Kills the master at once: for one that did not answer the request to stop.
    pub(super) async fn kill(mut self) {
        let _ = self.child.kill().await;
    }
}

/// ssh's own words from its log, as a connect error: without the `ssh: ` it puts before
/// some, and without the notice of a host key it added.
fn log_message(log: &str) -> Option<String> {
    let lines: Vec<&str> = log
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("Warning: Permanently added "))
        .collect();
    if lines.is_empty() {
        return None;
    }
    let text = lines.join("\n");
    Some(text.strip_prefix("ssh: ").unwrap_or(&text).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_gives_sshs_own_words() {
        assert_eq!(
            log_message("ssh: connect to host 127.0.0.9 port 22: Connection refused\r\n"),
            Some("connect to host 127.0.0.9 port 22: Connection refused".to_string())
        );
        assert_eq!(
            log_message(
                "Warning: Permanently added 'h' (ED25519) to the list of known hosts.\nu@h: Permission denied (publickey).\n"
            ),
            Some("u@h: Permission denied (publickey).".to_string())
        );
        assert_eq!(log_message("\n"), None);
    }
}
