//! An SFTP channel on a host's master, with the few file operations a sync needs. Every
//! write goes through a temp name chosen by the caller and a rename, so this module never
//! leaves a half-written file under a name anyone reads.

use std::collections::VecDeque;
use std::io::SeekFrom;
use std::num::{NonZeroU16, NonZeroUsize};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::pin::{Pin, pin};
use std::sync::Arc;

use bytes::Bytes;
use futures_core::Stream;
use openssh::{Child, Session};
use openssh_sftp_client::error::SftpErrorKind;
use openssh_sftp_client::file::TokioCompatFile;
use openssh_sftp_client::metadata::{MetaData, MetaDataBuilder, Permissions};
use openssh_sftp_client::{Error, Sftp, SftpOptions, UnixTimeStamp};
use tokio::io::{AsyncReadExt, AsyncSeek, AsyncWrite, AsyncWriteExt};
use tokio::sync::SemaphorePermit;

use super::connection::{Connection, ExecError, widen_pipe};

/// How far ahead of the host's acknowledgements one file's writes may run, in chunks.
/// OpenSSH's channel window is 2 MiB; two chunks keep loopback and LAN links busy while 50
/// hosts' buffers stay well under 100 MiB together.
const WRITES_AHEAD: usize = 2;
/// The read-ahead of a download.
const CHUNK: usize = 256 * 1024;
/// One write request: OpenSSH's server takes at most 255 KiB of data in one (a larger
/// write would be split, its tail sent as a request of its own).
const WRITE_CHUNK: usize = 255 * 1024;

/// What an entry on the host is, as `lstat` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteKind {
    File,
    Dir,
    Symlink,
    Other,
}

/// One entry of a directory as the SFTP server describes it (`lstat`, so a symlink is
/// itself).
#[derive(Debug, Clone)]
pub struct RemoteStat {
    pub name: PathBuf,
    pub kind: RemoteKind,
    pub size: u64,
    /// Whole seconds.
    pub mtime: i64,
    /// Permission bits (`0o7777`).
    pub mode: u32,
    /// For a symlink, where it points, as written.
    pub target: Option<PathBuf>,
}

/// An open SFTP session on one host's master; closed by [`SftpChannel::close`].
pub struct SftpChannel<'c> {
    sftp: Sftp,
    child: Child<&'c Session>,
    connection: &'c Connection,
    _permit: SemaphorePermit<'c>,
}

impl<'c> SftpChannel<'c> {
    pub(super) async fn start(
        connection: &'c Connection,
        mut child: Child<&'c Session>,
        permit: SemaphorePermit<'c>,
    ) -> Result<SftpChannel<'c>, ExecError> {
        let (Some(stdin), Some(stdout)) = (child.stdin().take(), child.stdout().take()) else {
            return Err(ExecError::Failed("the sftp channel has no pipes".into()));
        };
        // Both ways carry whole files: with wide pipes the master moves them in large reads.
        widen_pipe(stdin.as_raw_fd());
        widen_pipe(stdout.as_raw_fd());
        let options =
            SftpOptions::new().max_pending_requests(NonZeroU16::new(64).expect("not zero"));
        let sftp = match Sftp::new(stdin, stdout, options).await {
            Ok(sftp) => sftp,
            Err(e) => {
                return Err(match connection.session.check().await {
                    Ok(()) => ExecError::Failed(format!(
                        "the host offers no SFTP subsystem (sshd's `Subsystem sftp`): {e}"
                    )),
                    Err(lost) => ExecError::Disconnected(super::ssh_message::ssh_message(&lost)),
                });
            }
        };
        Ok(SftpChannel {
            sftp,
            child,
            connection,
            _permit: permit,
        })
    }

    /// The server replaces an existing target atomically on rename (OpenSSH's
    /// `posix-rename@openssh.com`). Without it, a rename onto an existing file fails or, on
    /// some servers, is done as unlink + rename.
    pub fn atomic_rename(&self) -> bool {
        self.sftp.support_posix_rename()
    }

    /// Writes everything the local file `source` holds (about `size_hint` bytes) to `path`
    /// (created or truncated), then sets its mode and mtime, telling `read` each piece
    /// read. Returns the bytes written.
    pub async fn write_file(
        &self,
        path: &Path,
        source: std::fs::File,
        size_hint: u64,
        mode: u32,
        mtime: i64,
        read: &(dyn Fn(u64) + Sync),
    ) -> Result<u64, ExecError> {
        let file = self
            .sftp
            .options()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .await;
        let mut file = self.check(file).await?;
        let source = Arc::new(source);
        let mut pending = VecDeque::new();
        let mut written = 0u64;
        loop {
            // Sized to the file: most files of a tree are small, and many are in flight.
            let buffer =
                vec![0; (size_hint.saturating_sub(written) as usize).clamp(1, WRITE_CHUNK)];
            let (mut buffer, n) = read_at(source.clone(), buffer, written)
                .await
                .map_err(|e| ExecError::Failed(format!("reading the local file: {e}")))?;
            if n == 0 {
                break;
            }
            read(n as u64);
            buffer.truncate(n);
            // Each chunk is written at its own offset by a clone of the handle, so that
            // up to WRITES_AHEAD of them wait for the host at once; the data is handed
            // over, not copied again.
            let mut at = file.clone();
            Pin::new(&mut at)
                .start_seek(SeekFrom::Start(written))
                .map_err(|e| ExecError::Failed(format!("sftp: {e}")))?;
            pending.push_back(tokio::spawn(async move {
                at.write_all_zero_copy(&mut [Bytes::from(buffer)]).await
            }));
            written += n as u64;
            if pending.len() >= WRITES_AHEAD {
                self.wait_write(pending.pop_front()).await?;
            }
        }
        while let Some(write) = pending.pop_front() {
            self.wait_write(Some(write)).await?;
        }
        let set = file.set_metadata(attributes(mode, mtime)).await;
        self.check(set).await?;
        // Dropping the last reference sends the close without waiting for its answer: the
        // rename that follows is handled after it, and a close of a fully written local
        // file has nothing left to report.
        Ok(written)
    }

    async fn wait_write(
        &self,
        write: Option<tokio::task::JoinHandle<Result<(), Error>>>,
    ) -> Result<(), ExecError> {
        match write {
            Some(write) => match write.await {
                Ok(result) => self.check(result).await,
                Err(e) => Err(ExecError::Failed(format!("sftp: {e}"))),
            },
            None => Ok(()),
        }
    }

    /// Copies the whole of `path` on the host (about `size_hint` bytes) into `sink`;
    /// returns the bytes read.
    pub async fn read_file(
        &self,
        path: &Path,
        size_hint: u64,
        sink: impl AsyncWrite,
    ) -> Result<u64, ExecError> {
        let file = self.sftp.open(path).await;
        let file = self.check(file).await?;
        let capacity = (size_hint as usize).clamp(1, CHUNK);
        let remote =
            TokioCompatFile::with_capacity(file, NonZeroUsize::new(capacity).expect("not zero"));
        let mut remote = pin!(remote);
        let mut sink = pin!(sink);
        let mut buffer = vec![0; capacity];
        let mut read = 0u64;
        loop {
            let n = remote.read(&mut buffer).await;
            let n = self.check_io(n).await?;
            if n == 0 {
                break;
            }
            sink.write_all(&buffer[..n])
                .await
                .map_err(|e| ExecError::Failed(format!("writing the local file: {e}")))?;
            read += n as u64;
        }
        sink.flush()
            .await
            .map_err(|e| ExecError::Failed(format!("writing the local file: {e}")))?;
        Ok(read)
    }

    /// Sets the mode and mtime of `path` (following no symlink: the sync never asks this
    /// of a link).
    pub async fn set_attributes(
        &self,
        path: &Path,
        mode: u32,
        mtime: i64,
    ) -> Result<(), ExecError> {
        let set = self
            .sftp
            .fs()
            .set_metadata(path, attributes(mode, mtime))
            .await;
        self.check(set).await
    }

    pub async fn rename(&self, from: &Path, to: &Path) -> Result<(), ExecError> {
        let renamed = self.sftp.fs().rename(from, to).await;
        self.check(renamed).await
    }

    pub async fn mkdir(&self, path: &Path) -> Result<(), ExecError> {
        let made = self.sftp.fs().create_dir(path).await;
        self.check(made).await
    }

    /// Makes a symlink at `link` pointing to `target`, as written (never resolved).
    pub async fn symlink(&self, target: &Path, link: &Path) -> Result<(), ExecError> {
        // OpenSSH's server reads SSH_FXP_SYMLINK's two paths in the reverse of the draft's
        // order, and the client crate sends them in OpenSSH's order: target first.
        let made = self.sftp.fs().symlink(target, link).await;
        self.check(made).await
    }

    pub async fn remove_file(&self, path: &Path) -> Result<(), ExecError> {
        let removed = self.sftp.fs().remove_file(path).await;
        self.check(removed).await
    }

    pub async fn remove_dir(&self, path: &Path) -> Result<(), ExecError> {
        let removed = self.sftp.fs().remove_dir(path).await;
        self.check(removed).await
    }

    /// What `path` is, without following a symlink; None when nothing is there.
    pub async fn kind(&self, path: &Path) -> Result<Option<RemoteKind>, ExecError> {
        match self.sftp.fs().symlink_metadata(path).await {
            Ok(meta) => Ok(Some(kind_of(&meta))),
            Err(Error::SftpError(SftpErrorKind::NoSuchFile, _)) => Ok(None),
            Err(e) => Err(self.classify(e).await),
        }
    }

    /// What `path` is, following a symlink (a synced directory may be a link to one).
    pub async fn stat(&self, path: &Path) -> Result<Option<RemoteStat>, ExecError> {
        match self.sftp.fs().metadata(path).await {
            Ok(meta) => Ok(Some(remote_stat(PathBuf::new(), &meta, None))),
            Err(Error::SftpError(SftpErrorKind::NoSuchFile, _)) => Ok(None),
            Err(e) => Err(self.classify(e).await),
        }
    }

    /// Every entry of the directory `path` but `.` and `..`, symlinks with their targets.
    pub async fn list_dir(&self, path: &Path) -> Result<Vec<RemoteStat>, ExecError> {
        let dir = self.sftp.fs().open_dir(path).await;
        let dir = self.check(dir).await?;
        let mut entries = pin!(dir.read_dir());
        let mut found = Vec::new();
        while let Some(entry) = std::future::poll_fn(|cx| entries.as_mut().poll_next(cx)).await {
            let entry = self.check(entry).await?;
            let name = entry.filename().to_path_buf();
            if name.as_os_str() == "." || name.as_os_str() == ".." {
                continue;
            }
            let meta = entry.metadata();
            let target = match kind_of(&meta) {
                RemoteKind::Symlink => {
                    let read = self.sftp.fs().read_link(path.join(&name)).await;
                    Some(self.check(read).await?)
                }
                _ => None,
            };
            found.push(remote_stat(name, &meta, target));
        }
        Ok(found)
    }

    /// Free bytes for an unprivileged user on the file system holding `path`, where the
    /// server can tell (OpenSSH's `statvfs@openssh.com`).
    pub async fn free_bytes(&self, path: &Path) -> Option<u64> {
        if !self.sftp.support_statvfs() {
            return None;
        }
        let stat = self.sftp.fs().statvfs(path).await.ok()?;
        Some(stat.bavail.saturating_mul(stat.frsize))
    }

    /// Ends the SFTP session and its channel.
    pub async fn close(self) -> Result<(), ExecError> {
        let SftpChannel {
            sftp,
            child,
            connection,
            _permit,
        } = self;
        let closed = sftp.close().await;
        let _ = child.wait().await;
        match closed {
            Ok(()) => Ok(()),
            Err(e) => Err(match connection.session.check().await {
                Ok(()) => ExecError::Failed(format!("sftp: {e}")),
                Err(lost) => ExecError::Disconnected(super::ssh_message::ssh_message(&lost)),
            }),
        }
    }

    async fn check<T>(&self, result: Result<T, Error>) -> Result<T, ExecError> {
        match result {
            Ok(value) => Ok(value),
            Err(e) => Err(self.classify(e).await),
        }
    }

    async fn check_io<T>(&self, result: std::io::Result<T>) -> Result<T, ExecError> {
        match result {
            Ok(value) => Ok(value),
            Err(e) => match e.into_inner().map(|inner| inner.downcast::<Error>()) {
                Some(Ok(sftp)) => Err(self.classify(*sftp).await),
                Some(Err(other)) => Err(ExecError::Failed(other.to_string())),
                None => Err(ExecError::Failed("the sftp channel failed".into())),
            },
        }
    }

    /// The server's own message ("No such file", "Permission denied", "Failure") for what
    /// it refused; anything else is the channel or the connection failing.
    async fn classify(&self, error: Error) -> ExecError {
        match error {
            // The message alone: its Display adds the (always empty) language tag.
            Error::SftpError(_, message) => ExecError::Failed(message.get().0.to_string()),
            other => self.connection_error(other).await,
        }
    }

    async fn connection_error(&self, error: Error) -> ExecError {
        match self.connection.session.check().await {
            Ok(()) => ExecError::Failed(format!("sftp: {error}")),
            Err(lost) => ExecError::Disconnected(super::ssh_message::ssh_message(&lost)),
        }
    }
}

/// Fills `buffer` from `source` at `offset` as far as the file goes, in the blocking pool
/// and straight into `buffer` (an async file would read into its own buffer and copy);
/// returns it with the length read (less than its size only at the end).
async fn read_at(
    source: Arc<std::fs::File>,
    mut buffer: Vec<u8>,
    offset: u64,
) -> std::io::Result<(Vec<u8>, usize)> {
    tokio::task::spawn_blocking(move || {
        let mut filled = 0;
        while filled < buffer.len() {
            match source.read_at(&mut buffer[filled..], offset + filled as u64) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok((buffer, filled))
    })
    .await
    .map_err(std::io::Error::other)?
}

fn attributes(mode: u32, mtime: i64) -> MetaData {
    // SFTP version 3 carries times as unsigned 32-bit seconds.
    let seconds = u32::try_from(mtime.max(0)).unwrap_or(u32::MAX);
    let time = UnixTimeStamp::from_raw(seconds).expect("u32 seconds are a valid time");
    let mut builder = MetaDataBuilder::new();
    builder
        .permissions(Permissions::from(mode as u16))
        .time(time, time);
    builder.create()
}

fn remote_stat(name: PathBuf, meta: &MetaData, target: Option<PathBuf>) -> RemoteStat {
    RemoteStat {
        name,
        kind: kind_of(meta),
        size: meta.len().unwrap_or(0),
        mtime: meta.modified().map_or(0, |t| i64::from(t.into_raw())),
        mode: meta.permissions().map_or(0, |p| p.as_raw().bits() & 0o7777),
        target,
    }
}

fn kind_of(meta: &MetaData) -> RemoteKind {
    match meta.file_type() {
        Some(t) if t.is_symlink() => RemoteKind::Symlink,
        Some(t) if t.is_dir() => RemoteKind::Dir,
        Some(t) if t.is_file() => RemoteKind::File,
        _ => RemoteKind::Other,
    }
}
