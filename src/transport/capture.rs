//! A short command whose whole output is wanted as bytes (a file manifest, a list of
//! hashes), where [`Connection::exec`]'s line-by-line text would lose what file names may
//! hold: newlines, invalid UTF-8.

use std::os::fd::AsRawFd;

use openssh::Stdio;
use tokio::io::{AsyncBufRead, AsyncReadExt, AsyncWriteExt};

use super::connection::{Connection, ExecError, widen_pipe};
use super::ssh_message::ssh_message;

/// How a captured command ended.
#[derive(Debug)]
pub struct Captured {
    /// None when the remote process was killed by a signal.
    pub exit_code: Option<i32>,
    pub stdout: Vec<u8>,
    /// The end of what it wrote to stderr.
    pub stderr: String,
}

/// stderr beyond this is dropped from the front: its end says what went wrong.
const STDERR_KEPT: usize = 4096;

impl Connection {
    /// Runs `command` with the host's login shell, feeding it `stdin`, and returns its whole
    /// stdout; more than `limit` bytes of it is an error, so a host cannot fill tsync's memory.
    pub async fn capture(
        &self,
        command: &str,
        stdin: Option<&[u8]>,
        limit: usize,
    ) -> Result<Captured, ExecError> {
        match stdin {
            Some(mut bytes) => self.captured(command, Some(&mut bytes), limit).await,
            None => self.captured(command, None, limit).await,
        }
    }

    /// [`capture`](Self::capture) with stdin fed from `input` as it yields data, for input
    /// too large to hold: a stream of files.
    pub async fn capture_from(
        &self,
        command: &str,
        input: &mut (dyn AsyncBufRead + Unpin + Send),
        limit: usize,
    ) -> Result<Captured, ExecError> {
        self.captured(command, Some(input), limit).await
    }

    async fn captured(
        &self,
        command: &str,
        stdin: Option<&mut (dyn AsyncBufRead + Unpin + Send)>,
        limit: usize,
    ) -> Result<Captured, ExecError> {
        let _channel = self
            .channels
            .acquire()
            .await
            .map_err(|_| ExecError::Failed("closing".into()))?;
        let mut child = self.spawn(command, stdin.is_some()).await?;
        let input = child.stdin().take();
        if let Some(pipe) = &input {
            widen_pipe(pipe.as_raw_fd());
        }
        let stdout = child.stdout().take();
        let stderr = child.stderr().take();
        let write = async {
            if let (Some(mut pipe), Some(from)) = (input, stdin) {
                // A command that exits without reading all its input closes the pipe.
                let _ = tokio::io::copy_buf(from, &mut pipe).await;
                let _ = pipe.shutdown().await;
            }
        };
        let read_out = async {
            let mut buffer = Vec::new();
            if let Some(pipe) = stdout {
                let mut limited = pipe.take(limit as u64 + 1);
                limited.read_to_end(&mut buffer).await?;
            }
            Ok::<_, std::io::Error>(buffer)
        };
        let read_err = async {
            let mut buffer = Vec::new();
            if let Some(mut pipe) = stderr {
                pipe.read_to_end(&mut buffer).await?;
            }
            Ok::<_, std::io::Error>(buffer)
        };
        let ((), out, err) = tokio::join!(write, read_out, read_err);
        let out = out.map_err(|e| ExecError::Failed(format!("reading output: {e}")))?;
        let err = err.map_err(|e| ExecError::Failed(format!("reading output: {e}")))?;
        if out.len() > limit {
            return Err(ExecError::Failed(format!(
                "the host's answer is larger than {} MiB",
                limit >> 20
            )));
        }
        let status = child.wait().await;
        let start = err.len().saturating_sub(STDERR_KEPT);
        let stderr = String::from_utf8_lossy(&err[start..])
            .trim_end()
            .to_string();
        match status {
            Ok(status) => Ok(Captured {
                exit_code: status.code(),
                stdout: out,
                stderr,
            }),
            Err(openssh::Error::RemoteProcessTerminated) => match self.session.check().await {
                Ok(()) => Ok(Captured {
                    exit_code: None,
                    stdout: out,
                    stderr,
                }),
                Err(e) => Err(ExecError::Disconnected(ssh_message(&e))),
            },
            Err(e) => Err(self.classify(e).await),
        }
    }

    /// Opens an SFTP channel on this host's master: file transfers share the connection
    /// the commands use, so they cost no new handshake.
    pub async fn sftp(&self) -> Result<super::SftpChannel<'_>, ExecError> {
        let permit = self
            .channels
            .acquire()
            .await
            .map_err(|_| ExecError::Failed("closing".into()))?;
        let mut command = self.session.subsystem("sftp");
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let child = match command.spawn().await {
            Ok(child) => child,
            Err(e) => return Err(self.classify(e).await),
        };
        super::SftpChannel::start(self, child, permit).await
    }
}
