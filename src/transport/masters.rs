//! Warm connections (`--persist`): each host's ssh master outlives the run in a private
//! per-user directory, and a later run within the persist time reuses it instead of a new
//! handshake. A master that has died or stopped answering is removed and replaced without a
//! word; host keys were checked strictly when the master was made, as for every connection.
//!
//! Layout: `DIR/<key>/` per host, where `key` is a hash of the destination and of the ssh
//! config it was reached with (a changed config gets a new master), holding openssh's own
//! `.ssh-connection…/master` socket and a `socket` file naming it.

use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use openssh::Session;
use sha2::{Digest, Sha256};

/// How long a master may take to say it is alive before it counts as stale.
const ALIVE_CHECK: Duration = Duration::from_secs(2);

pub struct Masters {
    dir: PathBuf,
    /// Keep masters this long after their last channel closes (ssh's ControlPersist).
    pub idle: Duration,
    /// Part of every key: the ssh config's path and contents.
    config: String,
}

impl Masters {
    /// The private directory of warm masters, made if missing. Refused when someone else
    /// could reach into it: a socket planted there would see every command sent.
    pub fn open(idle: Duration, ssh_config: Option<&Path>) -> io::Result<Masters> {
        let dir = Self::dir();
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)?;
        let meta = std::fs::symlink_metadata(&dir)?;
        // SAFETY: getuid cannot fail and touches no memory.
        let uid = unsafe { libc::getuid() };
        if !meta.is_dir() || meta.uid() != uid || meta.permissions().mode() & 0o077 != 0 {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "{} must be a directory of yours that no one else can open (mode 700)",
                    dir.display()
                ),
            ));
        }
        let config = match ssh_config {
            Some(path) => format!(
                "{}\n{}",
                path.display(),
                String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default())
            ),
            None => String::new(),
        };
        Ok(Masters { dir, idle, config })
    }

    /// `$XDG_RUNTIME_DIR/tsync` (private, on tmpfs, removed at logout), else
    /// `/tmp/tsync-UID`. Short either way: unix socket paths are limited to 108 bytes.
    pub fn dir() -> PathBuf {
        match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
            Some(runtime) => Path::new(&runtime).join("tsync"),
            // SAFETY: getuid cannot fail and touches no memory.
            None => PathBuf::from(format!("/tmp/tsync-{}", unsafe { libc::getuid() })),
        }
    }

    /// Where `destination`'s master lives.
    pub fn entry(&self, destination: &str) -> PathBuf {
        let mut hash = Sha256::new();
        hash.update(destination.as_bytes());
        hash.update([0]);
        hash.update(self.config.as_bytes());
        let digest = hash.finalize();
        let key: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        self.dir.join(key)
    }

    /// The live master of `entry`, if there is one that answers; a stale one is removed.
    pub async fn resume(entry: &Path) -> Option<Session> {
        let socket = std::fs::read_to_string(entry.join("socket")).ok()?;
        let session = Session::resume_mux(PathBuf::from(socket.trim()).into(), None);
        match tokio::time::timeout(ALIVE_CHECK, session.check()).await {
            Ok(Ok(())) => Some(session),
            _ => {
                // Dropping a resumed session leaves its master alone; a master that does not
                // answer is asked to exit, and its files go either way.
                let _ = tokio::time::timeout(ALIVE_CHECK, session.close()).await;
                let _ = std::fs::remove_dir_all(entry);
                None
            }
        }
    }

    /// Notes where the master of `entry` listens, for the next run.
    pub fn remember(entry: &Path, session: &Session) -> io::Result<()> {
        let temp = entry.join("socket.new");
        std::fs::write(
            &temp,
            session.control_socket().as_os_str().as_encoded_bytes(),
        )?;
        std::fs::rename(temp, entry.join("socket"))
    }

    /// Closes the masters of `destinations`, or every one when `None`; returns how many
    /// were alive.
    pub async fn close(&self, destinations: Option<&[String]>) -> usize {
        let entries: Vec<PathBuf> = match destinations {
            Some(names) => names.iter().map(|d| self.entry(d)).collect(),
            None => match std::fs::read_dir(&self.dir) {
                Ok(list) => list.flatten().map(|e| e.path()).collect(),
                Err(_) => Vec::new(),
            },
        };
        let mut closed = 0;
        for entry in entries {
            if let Some(session) = Self::resume(&entry).await
                && tokio::time::timeout(ALIVE_CHECK, session.close())
                    .await
                    .is_ok_and(|r| r.is_ok())
            {
                closed += 1;
            }
            let _ = std::fs::remove_dir_all(&entry);
        }
        closed
    }
}
