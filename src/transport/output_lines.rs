//! A command's output on its way to an [`Output`], shared by commands on a host and on the
//! controller: both pipes read line by line in the order lines arrive, long lines cut into
//! pieces, the PID marker (for a remote command) taken out of stderr, and the end of stderr
//! kept for the failure report.

use std::sync::atomic::{AtomicU32, Ordering};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};

use super::pid_marker::{MarkerLine, PidMarker};

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

/// Longer output lines are split into pieces of this size.
const MAX_LINE: u64 = 64 * 1024;
/// How much of a stream is read at once.
const READ_BUFFER: usize = 64 * 1024;
/// Keep this much of a command's stderr for the failure report.
const STDERR_TAIL: usize = 4096;

/// Which of a command's pipes a line came from; the caller sees the two through
/// [`Output`]'s methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pipe {
    Stdout,
    Stderr,
}

/// A command's output on its way to an [`Output`].
pub(super) struct Lines<'a, O> {
    /// For a remote command: the marker that brings its process group's ID on stderr, and
    /// where that ID goes.
    marker: Option<(&'a PidMarker, &'a AtomicU32)>,
    marker_seen: bool,
    /// An empty stderr line seen before the marker: the marker's own leading newline when
    /// the marker follows, so it is shown only if something else does.
    held: bool,
    tail: Vec<u8>,
    output: &'a mut O,
}

impl<'a, O: Output> Lines<'a, O> {
    pub(super) fn new(marker: Option<(&'a PidMarker, &'a AtomicU32)>, output: &'a mut O) -> Self {
        Lines {
            marker,
            marker_seen: marker.is_none(),
            held: false,
            tail: Vec::new(),
            output,
        }
    }

    /// Reads both streams to their end, then passes on every line kept back.
    pub(super) async fn read(
        &mut self,
        stdout: Option<impl AsyncRead + Unpin>,
        stderr: Option<impl AsyncRead + Unpin>,
    ) -> std::io::Result<()> {
        let read = read_lines(stdout, stderr, self).await;
        self.finish().await;
        read
    }

    /// The end of what the command wrote to stderr.
    pub(super) fn stderr_tail(&self) -> String {
        let start = self.tail.len().saturating_sub(STDERR_TAIL);
        String::from_utf8_lossy(&self.tail[start..]).into_owned()
    }

    async fn piece(&mut self, pipe: Pipe, line: Vec<u8>) {
        if pipe == Pipe::Stderr {
            if let Some((marker, group)) = self.marker.filter(|_| !self.marker_seen) {
                match marker.recognise(&line) {
                    MarkerLine::Pid(pid) => {
                        group.store(pid, Ordering::SeqCst);
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
