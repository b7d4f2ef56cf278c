//! A push into a directory the host does not have yet, as one tar stream. The host's `tar`
//! unpacks it into a staging directory beside the target, which is renamed into place
//! whole: the tree appears at once or not at all, and the host does one process's work
//! where the SFTP engine costs several requests and a rename per file. The benchmark that
//! chose this is in docs/sync.md.
//!
//! A stream cut between two members looks like a finished archive to GNU tar (it exits 0),
//! so the last member is a marker file: without it, nothing is renamed.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncBufRead, AsyncRead, ReadBuf};
use tokio::sync::mpsc;

use super::changes::{Changes, Op};
use super::layout::Layout;
use super::temp_name::{temp_beside, temp_glob};
use super::tracker::Tracker;
use crate::shell::quote_word;
use crate::transport::{Connection, ExecError};

/// The stream goes to the connection in pieces of this size.
const CHUNK: usize = 128 * 1024;
/// Pieces waiting between the thread that reads the files and the connection: with the one
/// being filled and the one being sent, what a host's stream holds is bounded (512 KiB).
const QUEUED: usize = 1;
/// What the host prints besides the two words below is an error message.
const ANSWER_LIMIT: usize = 64 * 1024;

/// How a stream ended when it did not fail.
pub enum Streamed {
    Landed,
    /// The host cannot take a stream: it has no `tar`, or the target's parent could not be
    /// made. Nothing was changed; the SFTP engine takes over and says what it finds.
    Unavailable,
}

/// Whether `changes` can go as one stream: a whole directory's tree to a host that lacks the
/// directory, so there is nothing to remove, replace or adjust, only entries to create.
pub fn fits(layout: &Layout, changes: &Changes) -> bool {
    layout.single.is_none()
        && !changes.ops.is_empty()
        && changes.ops.iter().all(|op| match op {
            Op::Link { .. } => true,
            // A tar header holds no time before 1970.
            Op::Mkdir { mtime, .. } => *mtime >= 0,
            Op::Send { entry, .. } => entry.mtime >= 0,
            _ => false,
        })
}

/// Sends `changes` to the host as one tar stream and lands it at `layout.remote_dir`.
pub async fn stream(
    connection: &Connection,
    layout: &Layout,
    changes: &Changes,
    tracker: &Tracker<'_>,
) -> Result<Streamed, ExecError> {
    let Some(script) = Script::new(&layout.remote_dir) else {
        return Ok(Streamed::Unavailable);
    };
    let mut members: Vec<Member> = changes
        .ops
        .iter()
        .map(|op| match op {
            Op::Mkdir { path, mode, mtime } => Member::Dir(path.clone(), *mode, *mtime),
            Op::Send { path, entry } => Member::File(
                path.clone(),
                layout.local(path),
                entry.size,
                entry.mode,
                entry.mtime,
            ),
            Op::Link { path, target } => Member::Link(path.clone(), target.clone()),
            _ => unreachable!("fits() admits only these"),
        })
        .collect();
    // In tree order, each directory followed by what it holds, as tar itself writes them:
    // GNU tar sets a directory's mtime when the first entry outside it comes, and an entry
    // put in it after that would move the mtime again.
    members.sort_by(|a, b| a.path().cmp(b.path()));
    let (chunks, received) = mpsc::channel(QUEUED);
    let (staging, marker) = (script.staging.clone(), script.marker.clone());
    let writer =
        tokio::task::spawn_blocking(move || write_archive(members, &staging, &marker, chunks));
    let mut feed = Feed {
        chunks: received,
        current: Chunk::default(),
        at: 0,
        tracker,
    };
    let answer = connection
        .capture_from(&script.command, &mut feed, ANSWER_LIMIT)
        .await;
    // The host may have stopped reading: the writer's next piece finds no one to take it.
    drop(feed);
    let written = writer
        .await
        .unwrap_or_else(|e| Err(Failure::Local(format!("reading the files: {e}"))));
    let answer = answer?;
    // A file that could not be read cut the stream short; that is the error to report.
    if let Err(Failure::Local(message)) = written {
        return Err(ExecError::Failed(message));
    }
    match (answer.exit_code, answer.stdout.as_slice()) {
        (Some(0), b"parent\n" | b"tar\n") => Ok(Streamed::Unavailable),
        (Some(0), _) => Ok(Streamed::Landed),
        (code, _) => {
            // tar says only "Wrote only 4608 of 10240 bytes" of a full disk: the free
            // space beside the target says why.
            let (_, bytes) = changes.to_send();
            if let Some(free) = free_space(connection, &layout.remote_dir).await
                && free < bytes
            {
                return Err(ExecError::Failed(format!(
                    "{}: no space left on the host's disk ({free} bytes free, the files take {bytes})",
                    layout.remote_dir.display()
                )));
            }
            let first = answer.stderr.lines().find(|l| !l.trim().is_empty());
            Err(ExecError::Failed(format!(
                "unpacking on the host failed ({}): {}",
                match code {
                    Some(code) => format!("exit code {code}"),
                    None => "killed".into(),
                },
                first.unwrap_or("no message")
            )))
        }
    }
}

/// The free bytes of the file system that holds `target`'s parent, if the host says.
async fn free_space(connection: &Connection, target: &Path) -> Option<u64> {
    let parent = target.parent()?;
    let channel = connection.sftp().await.ok()?;
    let free = channel.free_bytes(parent).await;
    let _ = channel.close().await;
    free
}

/// The host's side: clear what an interrupted stream left, unpack, check the marker, rename.
struct Script {
    command: String,
    /// The staging directory's name, beside the target.
    staging: String,
    /// The marker's name inside it: a temp name, which no synced tree holds.
    marker: String,
}

impl Script {
    /// None for a target whose names the shell script cannot carry (not UTF-8) or that has
    /// no parent (`/`, `.`: they always exist).
    fn new(target: &Path) -> Option<Script> {
        let name = target.file_name()?;
        let parent = match target.parent()? {
            p if p.as_os_str().is_empty() => Path::new("."),
            p => p,
        };
        let staging = temp_beside(target).file_name()?.to_str()?.to_string();
        let marker = temp_beside(Path::new("end")).to_str()?.to_string();
        // Another stream's staging directory.
        let stale = temp_glob(name)?;
        let command = format!(
            "p={p} n={n} t={t} m={m}\n\
             {{ [ -d \"$p\" ] || mkdir -p -- \"$p\" 2>/dev/null; }} && cd -- \"$p\" || {{ echo parent; exit 0; }}\n\
             for s in {stale}; do if [ -e \"$s\" ]; then rm -rf -- \"$s\"; fi; done\n\
             tar -xopf -; s=$?\n\
             if [ $s = 127 ]; then echo tar; exit 0; fi\n\
             if [ $s = 0 ]; then\n\
             if ! [ -f \"$t/$m\" ]; then echo 'the stream from tsync ended early' >&2; s=1\n\
             elif [ -e \"$n\" ] || [ -h \"$n\" ]; then echo \"$n appeared during the sync; left as it is\" >&2; s=1\n\
             else rm -f -- \"$t/$m\" && mv -- \"$t\" \"$n\" && exit 0; s=$?; fi\n\
             fi\n\
             rm -rf -- \"$t\"; exit $s",
            p = quote_word(parent.to_str()?),
            n = quote_word(name.to_str()?),
            t = quote_word(&staging),
            m = quote_word(&marker),
        );
        Some(Script {
            command,
            staging,
            marker,
        })
    }
}

/// One entry of the archive, by its path in the tree.
enum Member {
    /// Path in the tree, mode, mtime (tar sets it after the directory's entries).
    Dir(PathBuf, u32, i64),
    /// Path in the tree, path here, size, mode, mtime.
    File(PathBuf, PathBuf, u64, u32, i64),
    Link(PathBuf, PathBuf),
}

impl Member {
    fn path(&self) -> &Path {
        match self {
            Member::Dir(path, ..) | Member::File(path, ..) | Member::Link(path, _) => path,
        }
    }
}

/// A piece of the stream, and the files and bytes of file data whose last byte it carries.
#[derive(Default)]
struct Chunk {
    bytes: Vec<u8>,
    files: u64,
    data: u64,
}

enum Failure {
    /// A file here could not be read.
    Local(String),
    /// The connection stopped taking the stream; the host's answer says why.
    Stopped,
}

/// Writes the archive of `members` under `staging/`, then the marker, into `chunks`. Runs on
/// a blocking thread: it reads the files.
fn write_archive(
    members: Vec<Member>,
    staging: &str,
    marker: &str,
    chunks: mpsc::Sender<Chunk>,
) -> Result<(), Failure> {
    let mut archive = tar::Builder::new(Sink {
        chunks,
        chunk: Chunk::default(),
        stopped: false,
    });
    let root = Path::new(staging);
    let mut buffer = vec![0; CHUNK];
    let stopped =
        |archive: &tar::Builder<Sink>, e: io::Error, what: &Path| match archive.get_ref().stopped {
            true => Failure::Stopped,
            false => Failure::Local(format!("{}: {e}", what.display())),
        };
    for member in members {
        let mut header = tar::Header::new_gnu();
        let appended = match &member {
            Member::Dir(path, mode, mtime) => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(*mode);
                header.set_mtime(*mtime as u64);
                header.set_size(0);
                archive.append_data(&mut header, root.join(path), io::empty())
            }
            Member::Link(path, target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_mode(0o777);
                header.set_mtime(now());
                header.set_size(0);
                archive.append_link(&mut header, root.join(path), target)
            }
            Member::File(path, local, size, mode, mtime) => {
                let file = File::open(local).map_err(|e| stopped(&archive, e, local))?;
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(*mode);
                header.set_mtime(*mtime as u64);
                header.set_size(*size);
                let reader = Exact {
                    file: &file,
                    at: 0,
                    size: *size,
                    buffer: &mut buffer,
                    start: 0,
                    end: 0,
                };
                let appended = archive.append_data(&mut header, root.join(path), reader);
                let sink = archive.get_mut();
                sink.chunk.files += 1;
                sink.chunk.data += size;
                appended
            }
        };
        if let Err(e) = appended {
            let what = match &member {
                Member::File(_, local, ..) => local,
                other => other.path(),
            };
            return Err(stopped(&archive, e, what));
        }
    }
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mode(0o600);
    header.set_mtime(now());
    header.set_size(0);
    let end = archive
        .append_data(&mut header, root.join(marker), io::empty())
        .and_then(|()| archive.finish());
    let mut sink = match end.and_then(|()| archive.into_inner()) {
        Ok(sink) => sink,
        Err(_) => return Err(Failure::Stopped),
    };
    sink.send().map_err(|_| Failure::Stopped)
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A file's `size` bytes, read in large pieces into a buffer kept from file to file (tar's
/// copy asks for 8 KiB at a time). A file that shrank since it was listed is an error:
/// the header already promised its size.
struct Exact<'a> {
    file: &'a File,
    at: u64,
    size: u64,
    buffer: &'a mut [u8],
    start: usize,
    end: usize,
}

impl Read for Exact<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.start == self.end {
            let left = self.size - self.at;
            if left == 0 {
                return Ok(0);
            }
            let want = (left as usize).min(self.buffer.len());
            let n = self.file.read_at(&mut self.buffer[..want], self.at)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the file shrank while it was being sent",
                ));
            }
            self.at += n as u64;
            (self.start, self.end) = (0, n);
        }
        let n = out.len().min(self.end - self.start);
        out[..n].copy_from_slice(&self.buffer[self.start..self.start + n]);
        self.start += n;
        Ok(n)
    }
}

/// Where the archive is written: pieces of [`CHUNK`] bytes handed to the connection.
struct Sink {
    chunks: mpsc::Sender<Chunk>,
    chunk: Chunk,
    stopped: bool,
}

impl Sink {
    fn send(&mut self) -> io::Result<()> {
        let full = std::mem::replace(
            &mut self.chunk,
            Chunk {
                bytes: Vec::with_capacity(CHUNK + 8192),
                ..Chunk::default()
            },
        );
        self.chunks.blocking_send(full).map_err(|_| {
            self.stopped = true;
            io::Error::new(io::ErrorKind::BrokenPipe, "the host stopped reading")
        })
    }
}

impl Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.chunk.bytes.extend_from_slice(bytes);
        if self.chunk.bytes.len() >= CHUNK {
            self.send()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The connection's side of the stream: the pieces as they come, each counted as sent once
/// the connection has taken all of it.
struct Feed<'a> {
    chunks: mpsc::Receiver<Chunk>,
    current: Chunk,
    at: usize,
    tracker: &'a Tracker<'a>,
}

impl AsyncBufRead for Feed<'_> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        while this.at == this.current.bytes.len() {
            if this.current.data > 0 {
                this.tracker.bytes(std::mem::take(&mut this.current.data));
            }
            for _ in 0..std::mem::take(&mut this.current.files) {
                this.tracker.file();
            }
            match ready!(this.chunks.poll_recv(cx)) {
                Some(chunk) => (this.current, this.at) = (chunk, 0),
                None => return Poll::Ready(Ok(&[])),
            }
        }
        Poll::Ready(Ok(&this.current.bytes[this.at..]))
    }

    fn consume(self: Pin<&mut Self>, n: usize) {
        self.get_mut().at += n;
    }
}

impl AsyncRead for Feed<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let ready = ready!(self.as_mut().poll_fill_buf(cx))?;
        let n = ready.len().min(out.remaining());
        out.put_slice(&ready[..n]);
        self.consume(n);
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_quotes_every_name_and_clears_only_staging_directories() {
        let script = Script::new(Path::new("/srv/my app")).expect("a script");
        assert!(script.staging.starts_with(".my app.tsync-tmp-"));
        assert!(
            script
                .command
                .starts_with("p=/srv n='my app' t='.my app.tsync-tmp-")
        );
        assert!(
            script
                .command
                .contains("for s in '.my app.tsync-tmp-'[0-9a-f][0-9a-f]")
        );
        assert_eq!(
            Script::new(Path::new("./app")).expect("a script").command[..8],
            *"p=. n=ap"
        );
        assert!(Script::new(Path::new("/")).is_none());
    }

    #[tokio::test]
    async fn the_feed_passes_every_piece_on_and_counts_each_once_it_is_taken() {
        use std::sync::Mutex;
        use tokio::io::AsyncReadExt;
        let last = Mutex::new(None);
        let tell = |p: super::super::report::Progress| {
            *last.lock().unwrap() = Some((p.files_done, p.bytes_done));
        };
        let tracker = Tracker::new(&tell, 3, 700);
        let (chunks, received) = mpsc::channel(4);
        for (bytes, files, data) in [(&b"head"[..], 0, 0), (b"", 1, 100), (b"tail", 2, 600)] {
            let chunk = Chunk {
                bytes: bytes.to_vec(),
                files,
                data,
            };
            chunks.send(chunk).await.expect("room");
        }
        drop(chunks);
        let mut feed = Feed {
            chunks: received,
            current: Chunk::default(),
            at: 0,
            tracker: &tracker,
        };
        let mut out = Vec::new();
        feed.read_to_end(&mut out).await.expect("read");
        assert_eq!(out, b"headtail");
        assert_eq!(*last.lock().unwrap(), Some((3, 700)));
    }

    #[test]
    fn the_archive_holds_every_member_under_staging_and_ends_with_the_marker() {
        let dir = tempfile::tempdir().expect("temp dir");
        let local = dir.path().join("a.txt");
        std::fs::write(&local, vec![b'x'; 300_000]).expect("write");
        let members = vec![
            Member::Dir(PathBuf::from("sub"), 0o750, 1_600_000_000),
            Member::File(
                PathBuf::from("sub/a.txt"),
                local,
                300_000,
                0o640,
                1_600_000_000,
            ),
            Member::Link(PathBuf::from("link"), PathBuf::from("sub/a.txt")),
        ];
        let (chunks, mut received) = mpsc::channel(1);
        let writer = std::thread::spawn(move || {
            write_archive(members, ".t.tsync-tmp-0000abcd", "m", chunks).is_ok()
        });
        let mut bytes = Vec::new();
        let (mut files, mut data) = (0, 0);
        while let Some(chunk) = received.blocking_recv() {
            assert!(chunk.bytes.len() <= CHUNK + 8192);
            bytes.extend(chunk.bytes);
            (files, data) = (files + chunk.files, data + chunk.data);
        }
        assert!(writer.join().expect("no panic"));
        assert_eq!((files, data), (1, 300_000));
        let mut archive = tar::Archive::new(bytes.as_slice());
        let entries: Vec<(String, u32, u64)> = archive
            .entries()
            .expect("entries")
            .map(|e| {
                let e = e.expect("an entry");
                let h = e.header();
                (
                    e.path().expect("a path").display().to_string(),
                    h.mode().expect("a mode"),
                    h.size().expect("a size"),
                )
            })
            .collect();
        let names: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(
            names,
            [
                ".t.tsync-tmp-0000abcd/sub",
                ".t.tsync-tmp-0000abcd/sub/a.txt",
                ".t.tsync-tmp-0000abcd/link",
                ".t.tsync-tmp-0000abcd/m"
            ]
        );
        assert_eq!((entries[1].1, entries[1].2), (0o640, 300_000));
    }
}
