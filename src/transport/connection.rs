//! One host's SSH connection: runs commands over channels of the shared master.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use openssh::{Session, Stdio};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::Semaphore;

use super::connector::ssh_message;

/// sshd allows 10 sessions per connection by default (MaxSessions); stay below it so a
/// command never fails for want of a channel.
const CHANNELS_PER_HOST: usize = 8;
/// Longer output lines are split into pieces of this size.
const MAX_LINE: u64 = 64 * 1024;
/// Keep this much of a command's stderr for the failure report.
const STDERR_TAIL: usize = 4096;
/// The first line every command writes to stderr: the process group tsync may have to stop.
/// sshd starts each command's shell as a session leader, so its PID names the whole group.
const PID_MARKER: &str = "\u{1e}tsync-pid ";

pub struct Connection {
    session: Session,
    channels: Semaphore,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
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
    pub(super) fn new(session: Session) -> Connection {
        Connection {
            session,
            channels: Semaphore::new(CHANNELS_PER_HOST),
        }
    }

    /// Runs `command` with the login shell of the host (as `ssh host 'command'` does), feeding
    /// `stdin` to it and handing every line of output to `on_line` as it arrives. The remote
    /// process group is stored in `group` as soon as it is known, so that a caller who gives
    /// up on the command (a timeout, Ctrl-C) can [`stop`](Self::stop) it.
    pub async fn exec(
        &self,
        command: &str,
        stdin: Option<&[u8]>,
        group: &AtomicU32,
        on_line: &mut (dyn FnMut(Stream, String) + Send),
    ) -> Result<Executed, ExecError> {
        let _channel = self
            .channels
            .acquire()
            .await
            .map_err(|_| ExecError::Failed("closing".into()))?;
        let marked = format!("printf '{PID_MARKER}%s\\n' \"$$\" >&2; {command}");
        let mut child = self.spawn(&marked, stdin.is_some()).await?;
        let stdout = child.stdout().take();
        let stderr = child.stderr().take();
        let input = child.stdin().take();

        let write = async {
            if let (Some(mut pipe), Some(bytes)) = (input, stdin) {
                // A command that exits without reading its input closes the pipe: not an error.
                let _ = pipe.write_all(bytes).await;
                let _ = pipe.shutdown().await;
            }
        };
        let mut tail = Vec::new();
        let mut marker_seen = false;
        let mut collect = |stream, line: Vec<u8>| {
            if stream == Stream::Stderr && !marker_seen {
                marker_seen = true;
                let text = String::from_utf8_lossy(&line);
                if let Some(pid) = text.trim_end().strip_prefix(PID_MARKER) {
                    group.store(pid.parse().unwrap_or(0), Ordering::SeqCst);
                    return;
                }
            }
            if stream == Stream::Stderr {
                tail.extend_from_slice(&line);
                if tail.len() > STDERR_TAIL * 2 {
                    tail.drain(..tail.len() - STDERR_TAIL);
                }
            }
            on_line(
                stream,
                String::from_utf8_lossy(&line)
                    .trim_end_matches(['\n', '\r'])
                    .to_string(),
            );
        };
        let read = read_lines(stdout, stderr, &mut collect);
        let ((), read) = tokio::join!(write, read);
        read.map_err(|e| ExecError::Failed(format!("reading output: {e}")))?;
        let status = child.wait().await;
        let stderr_tail = {
            let start = tail.len().saturating_sub(STDERR_TAIL);
            String::from_utf8_lossy(&tail[start..]).into_owned()
        };
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

    async fn spawn(
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

    async fn classify(&self, error: openssh::Error) -> ExecError {
        let message = ssh_message(&error);
        match self.session.check().await {
            Ok(()) => ExecError::Failed(message),
            Err(_) => ExecError::Disconnected(message),
        }
    }

    /// Stops a command's whole process group on the host: TERM, then KILL a moment later
    /// for what ignored it. Best effort, bounded in time: the host may be the reason the
    /// command was given up on.
    pub async fn stop(&self, group: u32) {
        if group <= 1 {
            return;
        }
        let kill = format!(
            "kill -TERM -{group} 2>/dev/null || exit 0; sleep 1; kill -KILL -{group} 2>/dev/null; exit 0"
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

    /// Ends the master connection and removes its socket. A master that does not stop
    /// politely (its host froze with a channel open) is killed, so no ssh process outlives
    /// the run.
    pub async fn close(self) -> Result<(), String> {
        let socket = self.session.control_socket().to_string_lossy().into_owned();
        let polite = match tokio::time::timeout(Duration::from_secs(3), self.session.close()).await
        {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(e)) => ssh_message(&e),
            Err(_) => "it did not stop within 3s".to_string(),
        };
        if kill_master(&socket) {
            Err(format!("{polite}; its ssh process was killed"))
        } else {
            Err(format!("{polite}; its ssh process could not be found"))
        }
    }
}

/// Kills the ssh master serving `socket`, found by its command line (`ssh … -S SOCKET -M …`).
/// Only needed when a master ignores the request to stop, so a scan of /proc costs nothing on
/// the normal path.
fn kill_master(socket: &str) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    let mut killed = false;
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<libc::pid_t>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let mut args = cmdline.split(|b| *b == 0);
        let is_ssh = args.next().is_some_and(|a| a.ends_with(b"ssh"));
        if is_ssh && cmdline.split(|b| *b == 0).any(|a| a == socket.as_bytes()) {
            // SAFETY: kill(2) touches no memory; the process is an ssh master this connection
            // started (its command line names our private control socket).
            unsafe { libc::kill(pid, libc::SIGKILL) };
            killed = true;
        }
    }
    killed
}

fn is_refused_channel(message: &str) -> bool {
    message.contains("open refused") || message.contains("open failed")
}

/// One line of output, or the first [`MAX_LINE`] bytes of a longer one: a command that
/// writes without newlines must not make tsync buffer all of it.
async fn read_line(
    reader: Option<&mut BufReader<impl AsyncRead + Unpin>>,
    buf: &mut Vec<u8>,
) -> std::io::Result<usize> {
    match reader {
        // A cancelled earlier read may have left part of the line in `buf`.
        Some(reader) => {
            let room = MAX_LINE.saturating_sub(buf.len() as u64).max(1);
            reader.take(room).read_until(b'\n', buf).await
        }
        None => Ok(0),
    }
}

/// Reads both streams to their end, line by line, in the order lines arrive.
async fn read_lines(
    stdout: Option<impl AsyncRead + Unpin>,
    stderr: Option<impl AsyncRead + Unpin>,
    on_line: &mut (dyn FnMut(Stream, Vec<u8>) + Send),
) -> std::io::Result<()> {
    let mut out = stdout.map(BufReader::new);
    let mut err = stderr.map(BufReader::new);
    let (mut out_buf, mut err_buf) = (Vec::new(), Vec::new());
    // A read that completes has reached a newline, the length limit or the end: whatever it
    // gathered is a line. A read cancelled because the other stream won the race keeps its
    // bytes in the buffer, and the next read goes on from there.
    while out.is_some() || err.is_some() {
        tokio::select! {
            read = read_line(out.as_mut(), &mut out_buf), if out.is_some() => {
                let read = read?;
                if !out_buf.is_empty() {
                    on_line(Stream::Stdout, std::mem::take(&mut out_buf));
                }
                if read == 0 {
                    out = None;
                }
            }
            read = read_line(err.as_mut(), &mut err_buf), if err.is_some() => {
                let read = read?;
                if !err_buf.is_empty() {
                    on_line(Stream::Stderr, std::mem::take(&mut err_buf));
                }
                if read == 0 {
                    err = None;
                }
            }
        }
    }
    Ok(())
}
