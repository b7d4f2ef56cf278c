//! A short command that, besides its output, measures one round trip over the connection:
//! the time from a line tsync writes to the command's stdin to the answer it prints. Unlike
//! timing `ssh host true`, no process starts and no shell reads its startup files inside
//! the measurement, and unlike the mux's "check" message, the bytes cross the network.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::capture::Captured;
use super::connection::{Connection, ExecError};

/// The line a command prints when it is ready to be timed; it then reads one line from
/// stdin and answers at once with any output.
const READY: &[u8] = b"tsync-ready\n";

impl Connection {
    /// Runs `command` with `input` on its stdin (a script for `sh -s`, or nothing); the
    /// command must print [`READY`] once, read a line and print something more. The line
    /// is written `pause` after the ready line came, which gives the command a pause
    /// without a `sleep` of its own. Returns its output up to `limit` bytes, without the
    /// ready line, and the round trip, if the command got that far. stdin is closed after
    /// the round trip, so a shell reading its script from it ends.
    pub async fn capture_timed(
        &self,
        command: &str,
        input: &[u8],
        pause: Duration,
        limit: usize,
    ) -> Result<(Captured, Option<Duration>), ExecError> {
        let _channel = self
            .channels
            .acquire()
            .await
            .map_err(|_| ExecError::Failed("closing".into()))?;
        let mut child = self.spawn(command, true).await?;
        let (Some(mut stdin), Some(mut stdout), Some(mut stderr)) = (
            child.stdin().take(),
            child.stdout().take(),
            child.stderr().take(),
        ) else {
            return Err(ExecError::Failed("the command's pipes are missing".into()));
        };
        let read_out = async {
            if !input.is_empty() {
                stdin.write_all(input).await?;
                stdin.flush().await?;
            }
            let mut stdin = Some(stdin);
            let mut out = Vec::new();
            let mut sent: Option<Instant> = None;
            let mut round_trip = None;
            let mut chunk = [0u8; 4096];
            loop {
                let n = stdout.read(&mut chunk).await?;
                if n == 0 {
                    break;
                }
                if let Some(at) = sent.take() {
                    round_trip = Some(at.elapsed());
                    stdin = None;
                }
                out.extend_from_slice(&chunk[..n]);
                if out.len() > limit {
                    break;
                }
                if let Some(pipe) = stdin.as_mut().filter(|_| out.ends_with(READY)) {
                    out.truncate(out.len() - READY.len());
                    tokio::time::sleep(pause).await;
                    sent = Some(Instant::now());
                    pipe.write_all(b"\n").await?;
                    pipe.flush().await?;
                }
            }
            Ok::<_, std::io::Error>((out, round_trip))
        };
        let read_err = async {
            let mut buffer = Vec::new();
            (&mut stderr).take(4096).read_to_end(&mut buffer).await?;
            Ok::<_, std::io::Error>(buffer)
        };
        let (out, err) = tokio::join!(read_out, read_err);
        let (out, round_trip) =
            out.map_err(|e| ExecError::Failed(format!("reading output: {e}")))?;
        let err = err.map_err(|e| ExecError::Failed(format!("reading output: {e}")))?;
        if out.len() > limit {
            return Err(ExecError::Failed(format!(
                "the host's answer is larger than {limit} bytes"
            )));
        }
        let status = match child.wait().await {
            Ok(status) => status.code(),
            Err(openssh::Error::RemoteProcessTerminated) => None,
            Err(e) => return Err(self.classify(e).await),
        };
        Ok((
            Captured {
                exit_code: status,
                stdout: out,
                stderr: String::from_utf8_lossy(&err).trim_end().to_string(),
            },
            round_trip,
        ))
    }
}
