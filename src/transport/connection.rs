//! One host's SSH connection: runs commands over channels of the shared master.

use std::collections::HashMap;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU32;
use std::time::Duration;

use openssh::{Session, Stdio};
use tokio::io::AsyncWriteExt;
use tokio::sync::{Mutex, Semaphore};

use super::master::Master;
use super::output_lines::{Lines, Output};
use super::pid_marker::PidMarker;
use super::remote_command::RemoteCommand;
use super::ssh_message::ssh_message;
use super::tunnel::Tunnel;

/// sshd allows 10 sessions per connection by default (MaxSessions); stay below it so a
/// command never fails for want of a channel.
const CHANNELS_PER_HOST: usize = 8;

pub struct Connection {
    pub(super) session: Session,
    pub(super) channels: Semaphore,
    /// Shared by every connection of the run.
    marker: Arc<PidMarker>,
    /// Where forwards' sockets go: the run's private control directory.
    socket_dir: PathBuf,
    /// Forwards already set up, by target, reused by every later probe.
    tunnels: Mutex<HashMap<(String, u16), Tunnel>>,
    /// A master this connection does not own (a warm one kept by `--persist`, or one the
    /// deploy lock holds): left running when the connection closes.
    persistent: bool,
    /// The master this connection started and ends.
    master: Option<Master>,
}

/// How a command ended.
#[derive(Debug, Clone)]
pub struct Executed {
    /// None when the remote process was killed by a signal.
    pub exit_code: Option<i32>,
    /// The end of what it wrote to stderr.
    pub stderr_tail: String,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ExecError {
    /// The connection is gone: the host is unreachable from now on.
    #[error("connection lost: {0}")]
    Disconnected(String),
    /// The command could not be started or its output could not be read.
    #[error("{0}")]
    Failed(String),
}

impl Connection {
    pub(super) fn new(session: Session, marker: Arc<PidMarker>, socket_dir: PathBuf) -> Connection {
        Connection {
            session,
            channels: Semaphore::new(CHANNELS_PER_HOST),
            marker,
            socket_dir,
            tunnels: Mutex::new(HashMap::new()),
            persistent: false,
            master: None,
        }
    }

    /// A connection over `master`, which it stops when it closes.
    pub(super) fn over(master: Master, marker: Arc<PidMarker>, socket_dir: PathBuf) -> Connection {
        let session = Session::resume_mux(
            master.socket().into_boxed_path(),
            Some(master.log().into_boxed_path()),
        );
        Connection {
            master: Some(master),
            ..Connection::new(session, marker, socket_dir)
        }
    }

    /// The control socket of this connection's master, for another part of tsync to open
    /// its own connection over it ([`Connector::share`](super::Connector::share)).
    pub fn control_socket(&self) -> std::path::PathBuf {
        self.session.control_socket().to_path_buf()
    }

    /// Marks a connection over a master it does not own: closing it leaves the master
    /// running.
    pub(super) fn persistent(mut self) -> Connection {
        self.persistent = true;
        self
    }

    /// A way to `host:port` as this host sees it, set up on first use and kept for the
    /// connection's life.
    pub async fn tunnel(&self, host: &str, port: u16) -> Result<Tunnel, String> {
        let mut tunnels = self.tunnels.lock().await;
        let key = (host.to_string(), port);
        if let Some(tunnel) = tunnels.get(&key) {
            return Ok(tunnel.clone());
        }
        let tunnel = Tunnel::open(&self.session, &self.socket_dir, host, port).await?;
        tunnels.insert(key, tunnel.clone());
        Ok(tunnel)
    }

    /// Runs `command` with the login shell of the host (as `ssh host 'command'` does), feeding
    /// `stdin` to it and handing every line of output to `output` as it arrives. The remote
    /// process group is stored in `group` as soon as it is known, so that a caller who gives
    /// up on the command (a timeout, Ctrl-C) can [`stop`](Self::stop) it.
    pub async fn exec(
        &self,
        command: &str,
        stdin: Option<&[u8]>,
        group: &AtomicU32,
        output: &mut impl Output,
    ) -> Result<Executed, ExecError> {
        let _channel = self
            .channels
            .acquire()
            .await
            .map_err(|_| ExecError::Failed("closing".into()))?;
        let remote = RemoteCommand::new(&self.marker, command, stdin);
        let mut child = self.spawn(&remote.line, remote.stdin.is_some()).await?;
        let stdout = child.stdout().take();
        let stderr = child.stderr().take();
        let input = child.stdin().take();
        if let Some(pipe) = &stdout {
            widen_pipe(pipe.as_raw_fd());
        }

        let write = async {
            if let (Some(mut pipe), Some(bytes)) = (input, remote.stdin.as_deref()) {
                // A command that exits without reading its input closes the pipe: not an error.
                let _ = pipe.write_all(bytes).await;
                let _ = pipe.shutdown().await;
            }
        };
        let mut lines = Lines::new(Some((&self.marker, group)), output);
        let read = lines.read(stdout, stderr);
        let ((), read) = tokio::join!(write, read);
        read.map_err(|e| ExecError::Failed(format!("reading output: {e}")))?;
        let status = child.wait().await;
        let stderr_tail = lines.stderr_tail();
        match status {
            Ok(status) => Ok(Executed {
                exit_code: status.code(),
                stderr_tail,
            }),
            // The mux protocol cannot tell a killed process from a dropped connection; asking
            // the master whether it is still alive can.
            Err(openssh::Error::RemoteProcessTerminated) => match self.session.check().await {
                Ok(()) => Ok(Executed {
                    exit_code: None,
                    stderr_tail,
                }),
                Err(e) => Err(ExecError::Disconnected(ssh_message(&e))),
            },
            Err(e) => Err(self.classify(e).await),
        }
    }

    pub(super) async fn spawn(
        &self,
        command: &str,
        with_stdin: bool,
    ) -> Result<openssh::Child<&Session>, ExecError> {
        let mut delay = Duration::from_millis(20);
        for attempt in 0.. {
            let mut cmd = self.session.raw_command(command);
            cmd.stdin(if with_stdin {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
            match cmd.spawn().await {
                Ok(child) => return Ok(child),
                // sshd refuses channels beyond MaxSessions ("Session open refused by
                // peer", "open failed" from older servers); others may hold some, so wait and
                // try again a few times.
                Err(e) if attempt < 5 && is_refused_channel(&ssh_message(&e)) => {
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                Err(e) => return Err(self.classify(e).await),
            }
        }
        unreachable!("the loop returns on its last attempt")
    }

    pub(super) async fn classify(&self, error: openssh::Error) -> ExecError {
        let message = ssh_message(&error);
        match self.session.check().await {
            Ok(()) => ExecError::Failed(message),
            Err(_) => ExecError::Disconnected(message),
        }
    }

    /// Stops a command's whole process group on the host: TERM, then KILL a moment later
    /// for what ignored it. Best effort, bounded in time: the host may be the reason the
    /// command was given up on. `pid` is the command's shell; behind a ForceCommand wrapper
    /// that shell is not the session leader, so the group is looked up (`ps`, on Linux and
    /// BSD alike), and is the PID itself when `ps` cannot tell.
    pub async fn stop(&self, pid: u32) {
        if pid <= 1 {
            return;
        }
        let kill = format!(
            "g=$(ps -o pgid= -p {pid} 2>/dev/null); set -- $g; g=${{1:-{pid}}}; \
             [ \"$g\" -gt 1 ] 2>/dev/null || exit 0; \
             kill -TERM -\"$g\" 2>/dev/null || exit 0; sleep 1; kill -KILL -\"$g\" 2>/dev/null; exit 0"
        );
        let stop = async {
            let mut cmd = self.session.raw_command(&kill);
            cmd.stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            let _ = cmd.status().await;
        };
        let _ = tokio::time::timeout(Duration::from_secs(4), stop).await;
    }

    /// Closes `connections` all at once, each within 5 s, for a caller with nothing to
    /// report if one fails: closing waits for each master to end.
    pub async fn close_each(connections: impl IntoIterator<Item = Connection>) {
        let mut closing = tokio::task::JoinSet::new();
        for connection in connections {
            closing.spawn(tokio::time::timeout(
                Duration::from_secs(5),
                connection.close(),
            ));
        }
        while closing.join_next().await.is_some() {}
    }

    /// Ends the master connection and removes its socket. A master that does not stop
    /// politely (its host froze with a channel open) is killed, so no ssh process outlives
    /// the run.
    pub async fn close(self) -> Result<(), String> {
        if self.persistent {
            for tunnel in self.tunnels.lock().await.values() {
                tunnel.close(&self.session).await;
            }
            // Its own idle timer (ControlPersist) ends it if no run comes back.
            let _ = self.session.detach();
            return Ok(());
        }
        let Some(master) = self.master else {
            return Ok(());
        };
        // Told to stop listening, the master ends once its channels are closed.
        let polite = match tokio::time::timeout(Duration::from_secs(3), self.session.close()).await
        {
            Ok(Ok(())) => match master.finish().await {
                false => return Ok(()),
                true => return Err("it did not end within 3s; its ssh process was killed".into()),
            },
            Ok(Err(e)) => ssh_message(&e),
            Err(_) => "it did not stop within 3s".to_string(),
        };
        master.kill().await;
        Err(format!("{polite}; its ssh process was killed"))
    }
}

/// Lets the ssh master write up to 1 MiB ahead of tsync (Linux; elsewhere, or past the
/// system's limit, the pipe keeps its size). With the default 64 KiB the master often finds
/// the pipe full and buffers the channel's data itself, at several times the CPU cost of
/// passing it on.
pub(super) fn widen_pipe(fd: std::os::fd::RawFd) {
    #[cfg(target_os = "linux")]
    // SAFETY: F_SETPIPE_SZ only resizes the pipe behind a descriptor we hold open; on a
    // descriptor that is not a pipe it fails with EBADF, which is ignored.
    unsafe {
        libc::fcntl(fd, libc::F_SETPIPE_SZ, 1 << 20);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = fd;
}

fn is_refused_channel(message: &str) -> bool {
    message.contains("open refused") || message.contains("open failed")
}
