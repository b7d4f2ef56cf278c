//! One host's `sshd`: starting it, waiting until it serves, freezing,
//! thawing and killing it.

use std::fs::{self, OpenOptions};
use std::net::{SocketAddrV4, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::mount::Mount;
use crate::{LabError, process_tree};

/// `sshd` re-executes itself per connection and so must be started by its
/// absolute path.
const SSHD: &str = "/usr/sbin/sshd";

/// How long a started `sshd` has to accept connections.
const READY_WITHIN: Duration = Duration::from_secs(10);

/// How many lines of `sshd.log` an error quotes.
const LOG_TAIL_LINES: usize = 20;

/// The `sshd` of one lab host, running or not.
pub(crate) struct Sshd {
    name: String,
    endpoint: SocketAddrV4,
    config: PathBuf,
    log: PathBuf,
    /// Mounts made in the `sshd`'s own mount namespace, in order; empty in
    /// a reduced lab, which runs `sshd` directly.
    mounts: Vec<Mount>,
    child: Option<Child>,
    started: Instant,
}

impl Sshd {
    pub(crate) fn new(
        name: &str,
        endpoint: SocketAddrV4,
        config: PathBuf,
        log: PathBuf,
        mounts: Vec<Mount>,
    ) -> Sshd {
        Sshd {
            name: name.to_string(),
            endpoint,
            config,
            log,
            mounts,
            child: None,
            started: Instant::now(),
        }
    }

    /// Starts the `sshd` without waiting for it to serve.
    pub(crate) fn start(&mut self) -> Result<(), LabError> {
        let what = || format!("starting sshd for {}", self.name);
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(LabError::io(format!("opening {}", self.log.display())))?;
        let stdout = log.try_clone().map_err(LabError::io(what()))?;
        let mut command = if self.mounts.is_empty() {
            Command::new(SSHD)
        } else {
            // The bind sources go in as positional parameters so that no
            // quoting is needed, followed by the sshd command line; `exec`
            // makes the sshd take over the child's pid.
            let sources: Vec<&PathBuf> = self.mounts.iter().filter_map(Mount::source).collect();
            let mut script = String::new();
            let mut parameter = 0;
            for mount in &self.mounts {
                if mount.source().is_some() {
                    parameter += 1;
                }
                script.push_str(&mount.command(parameter));
                script.push_str(" && ");
            }
            script.push_str(&format!("shift {} && exec \"$@\"", sources.len()));
            let mut command = Command::new("unshare");
            command
                .args(["--mount", "--propagation", "private", "sh", "-c"])
                .arg(script)
                .arg("sh")
                .args(sources)
                .arg(SSHD);
            command
        };
        command
            .args(["-D", "-e", "-f"])
            .arg(&self.config)
            // A terminal's Ctrl-C signals its whole foreground group; in a
            // group of its own the sshd is left for the lab to tear down.
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(log);
        self.child = Some(command.spawn().map_err(LabError::io(what()))?);
        self.started = Instant::now();
        Ok(())
    }

    /// Waits until the `sshd` accepts TCP connections, at most 10 s from its start.
    pub(crate) fn wait_ready(&mut self) -> Result<(), LabError> {
        let deadline = self.started + READY_WITHIN;
        loop {
            if let Some(child) = &mut self.child
                && let Some(status) = child
                    .try_wait()
                    .map_err(LabError::io(format!("checking on sshd for {}", self.name)))?
            {
                self.child = None;
                return Err(LabError::SshdExited {
                    host: self.name.clone(),
                    status,
                    log: log_tail(&self.log),
                });
            }
            if TcpStream::connect_timeout(&self.endpoint.into(), Duration::from_millis(500)).is_ok()
            {
                return Ok(());
            }
            if self.child.is_none() || Instant::now() >= deadline {
                return Err(LabError::SshdNotReady {
                    host: self.name.clone(),
                    address: self.endpoint.to_string(),
                    log: log_tail(&self.log),
                });
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// The pid of the running `sshd`.
    pub(crate) fn pid(&self) -> Option<i32> {
        self.child
            .as_ref()
            .and_then(|child| i32::try_from(child.id()).ok())
    }

    /// Stops the `sshd` and its connections' processes; its socket stays
    /// open, so new connections hang.
    pub(crate) fn freeze(&self) {
        if let Some(pid) = self.pid() {
            process_tree::stop(&[pid]);
        }
    }

    /// Resumes what [`Sshd::freeze`] stopped.
    pub(crate) fn thaw(&self) {
        if let Some(pid) = self.pid() {
            process_tree::resume(&[pid]);
        }
    }

    /// Kills the `sshd` and its connections' processes and waits for it.
    pub(crate) fn kill(&mut self) -> Result<(), LabError> {
        if let Some(pid) = self.pid() {
            process_tree::kill(&[pid]);
        }
        self.reap()
    }

    /// Waits for an `sshd` that has been killed.
    pub(crate) fn reap(&mut self) -> Result<(), LabError> {
        if let Some(mut child) = self.child.take() {
            child
                .wait()
                .map_err(LabError::io(format!("waiting for sshd for {}", self.name)))?;
        }
        Ok(())
    }
}

/// The last lines of an `sshd` log, for error messages.
fn log_tail(path: &Path) -> String {
    match fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let lines: Vec<&str> = text.lines().collect();
            let tail = lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n");
            if tail.is_empty() {
                format!("({} is empty)", path.display())
            } else {
                tail
            }
        }
        Err(err) => format!("(cannot read {}: {err})", path.display()),
    }
}
