//! One host's SSH connection: runs commands over channels of the shared master.

use std::collections::HashMap;
use std::future::Future;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use openssh::{Session, Stdio};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{Mutex, Semaphore};

use super::pid_marker::{MarkerLine, PidMarker};
use super::remote_command::RemoteCommand;
use super::ssh_message::ssh_message;
use super::tunnel::Tunnel;

/// sshd allows 10 sessions per connection by default (MaxSessions); stay below it so a
/// command never fails for want of a channel.
const CHANNELS_PER_HOST: usize = 8;
/// Longer output lines are split into pieces of this size.
const MAX_LINE: u64 = 64 * 1024;
/// How much of a stream is read at once.
const READ_BUFFER: usize = 64 * 1024;
/// Keep this much of a command's stderr for the failure report.
const STDERR_TAIL: usize = 4096;

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
}

/// Where a command's output goes, line by line.
pub trait Output: Send {
    /// Takes one line (or a piece of a long one) of stdout, without its newline. Output is
    /// read from the host only as fast as this returns: a slow reader holds the host back
    /// instead of filling tsync's memory. It may keep lines back, to pass them on together.
    fn stdout_line(&mut self, line: String) -> impl Future<Output = ()> + Send;

    /// Takes one line of stderr, as [`stdout_line`](Self::stdout_line) does; the PID marker
    /// is never among them.
    fn stderr_line(&mut self, line: String) -> impl Future<Output = ()> + Send;

    /// Passes on every line kept back: no more output is at hand for now.
    fn flush(&mut self) -> impl Future<Output = ()> + Send;
}

/// Which of a command's pipes a line came from; the caller sees the two through
/// [`Output`]'s methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pipe {
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
    pub(super) fn new(session: Session, marker: Arc<PidMarker>, socket_dir: PathBuf) -> Connection {
        Connection {
            session,
            channels: Semaphore::new(CHANNELS_PER_HOST),
            marker,
            socket_dir,
            tunnels: Mutex::new(HashMap::new()),
            persistent: false,
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
        let mut lines = Lines {
            marker: &self.marker,
            group,
            marker_seen: false,
            held: false,
            tail: Vec::new(),
            output,
        };
        let read = read_lines(stdout, stderr, &mut lines);
        let ((), read) = tokio::join!(write, read);
        lines.finish().await;
        read.map_err(|e| ExecError::Failed(format!("reading output: {e}")))?;
        let status = child.wait().await;
        let stderr_tail = {
            let tail = &lines.tail;
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

/// A command's output on its way to an [`Output`]: the PID marker is taken out of stderr,
/// and the end of stderr is kept for the failure report.
struct Lines<'a, O> {
    marker: &'a PidMarker,
    group: &'a AtomicU32,
    marker_seen: bool,
    /// An empty stderr line seen before the marker: the marker's own leading newline when
    /// the marker follows, so it is shown only if something else does.
    held: bool,
    tail: Vec<u8>,
    output: &'a mut O,
}

impl<O: Output> Lines<'_, O> {
    async fn piece(&mut self, pipe: Pipe, line: Vec<u8>) {
        if pipe == Pipe::Stderr {
            if !self.marker_seen {
                match self.marker.recognise(&line) {
                    MarkerLine::Pid(pid) => {
                        self.group.store(pid, Ordering::SeqCst);
                        self.marker_seen = true;
                        self.held = false;
                        return;
                    }
                    MarkerLine::Garbled => {
                        self.marker_seen = true;
                        self.held = false;
                        return;
                    }
                    MarkerLine::Other if line == b"\n" && !self.held => {
                        self.held = true;
                        return;
                    }
                    MarkerLine::Other => self.release().await,
                }
            }
            self.tail.extend_from_slice(&line);
            if self.tail.len() > STDERR_TAIL * 2 {
                self.tail.drain(..self.tail.len() - STDERR_TAIL);
            }
        }
        let text = match String::from_utf8(line) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        let text = match text.strip_suffix('\n') {
            Some(t) => t.strip_suffix('\r').unwrap_or(t).to_string(),
            None => text,
        };
        match pipe {
            Pipe::Stdout => self.output.stdout_line(text).await,
            Pipe::Stderr => self.output.stderr_line(text).await,
        }
    }

    /// Shows a held empty line: what followed it was not the marker.
    async fn release(&mut self) {
        if std::mem::take(&mut self.held) {
            self.tail.push(b'\n');
            self.output.stderr_line(String::new()).await;
        }
    }

    async fn finish(&mut self) {
        self.release().await;
        self.output.flush().await;
    }
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
async fn read_lines<O: Output>(
    stdout: Option<impl AsyncRead + Unpin>,
    stderr: Option<impl AsyncRead + Unpin>,
    lines: &mut Lines<'_, O>,
) -> std::io::Result<()> {
    // Reading in large gulps keeps ssh's pipe drained: when tsync falls behind, the ssh
    // master buffers the channel's data itself, at a high cost in copies and page faults.
    let mut out = stdout.map(|s| BufReader::with_capacity(READ_BUFFER, s));
    let mut err = stderr.map(|s| BufReader::with_capacity(READ_BUFFER, s));
    let (mut out_buf, mut err_buf) = (Vec::new(), Vec::new());
    // A read that completes has reached a newline, the length limit or the end: whatever it
    // gathered is a line. A read cancelled because the other stream won the race keeps its
    // bytes in the buffer, and the next read goes on from there.
    while out.is_some() || err.is_some() {
        tokio::select! {
            read = read_line(out.as_mut(), &mut out_buf), if out.is_some() => {
                let read = read?;
                if let Some(piece) = take_piece(&mut out_buf, read == 0) {
                    lines.piece(Pipe::Stdout, piece).await;
                }
                if out.as_ref().is_some_and(|r| r.buffer().is_empty()) {
                    lines.output.flush().await;
                }
                if read == 0 {
                    out = None;
                }
            }
            read = read_line(err.as_mut(), &mut err_buf), if err.is_some() => {
                let read = read?;
                if let Some(piece) = take_piece(&mut err_buf, read == 0) {
                    lines.piece(Pipe::Stderr, piece).await;
                }
                if err.as_ref().is_some_and(|r| r.buffer().is_empty()) {
                    lines.output.flush().await;
                }
                if read == 0 {
                    err = None;
                }
            }
        }
    }
    Ok(())
}

/// What a completed read gathered, as one piece of output. A piece cut at the length limit
/// ends on a character boundary: the bytes of a character it would split stay in `buf` and
/// begin the next piece.
fn take_piece(buf: &mut Vec<u8>, at_end: bool) -> Option<Vec<u8>> {
    if buf.is_empty() {
        return None;
    }
    let cut = if at_end || buf.ends_with(b"\n") {
        buf.len()
    } else {
        char_boundary(buf)
    };
    if cut == 0 {
        // Not even one whole character: malformed, shown as it is.
        return Some(std::mem::take(buf));
    }
    let rest = buf.split_off(cut);
    Some(std::mem::replace(buf, rest))
}

/// Where an incomplete UTF-8 sequence at the end of `bytes` starts (its length if there
/// is none). Only the last three bytes can belong to one.
fn char_boundary(bytes: &[u8]) -> usize {
    let len = bytes.len();
    for back in 1..=len.min(3) {
        let byte = bytes[len - back];
        if byte & 0b1100_0000 == 0b1000_0000 {
            continue; // a continuation byte: its lead is further back
        }
        let width = match byte {
            0xf0.. => 4,
            0xe0.. => 3,
            0xc0.. => 2,
            _ => 1,
        };
        return if width > back { len - back } else { len };
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: a multi-byte character split at the 64 KiB piece boundary was lost.
    #[test]
    fn pieces_end_on_character_boundaries() {
        for (bytes, boundary) in [
            (&b"ab"[..], 2),
            ("aé".as_bytes(), 3),
            (&"aé".as_bytes()[..2], 1),
            (&"a€".as_bytes()[..3], 1),
            (&"a€".as_bytes()[..2], 1),
            (&"a😀".as_bytes()[..4], 1),
            ("a😀".as_bytes(), 5),
        ] {
            assert_eq!(char_boundary(bytes), boundary, "{bytes:?}");
        }
        let mut buf = "abc€".as_bytes()[..5].to_vec();
        assert_eq!(take_piece(&mut buf, false), Some(b"abc".to_vec()));
        assert_eq!(buf, &"€".as_bytes()[..2]);
        assert_eq!(
            take_piece(&mut buf, true),
            Some("€".as_bytes()[..2].to_vec())
        );
    }
}
