//! Opens one multiplexed OpenSSH connection per host (a ControlMaster driven through
//! openssh's native mux client), with strict host key checking, the user's ssh config, a
//! connect timeout, and a cap on how many handshakes run at once.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use openssh::{ControlPersist, KnownHosts, SessionBuilder};
use tokio::sync::Semaphore;

use super::connection::Connection;
use super::master::{Master, MasterOptions};
use super::masters::Masters;
use super::pid_marker::PidMarker;
use super::ssh_message::ssh_message;

pub struct Connector {
    /// For the masters of this run, which tsync starts itself.
    options: MasterOptions,
    /// For masters kept after the run (`--persist`), which openssh's launcher starts.
    builder: SessionBuilder,
    /// Holds every control socket of the run; removed when the run ends, whatever happens.
    control_dir: tempfile::TempDir,
    starts: Semaphore,
    connect_timeout: Duration,
    marker: Arc<PidMarker>,
    /// With `--persist`: where masters outlive the run, to be found again by the next one.
    masters: Option<Masters>,
    /// Masters another part of tsync holds open (the deploy lock's), by destination: used
    /// instead of a second handshake, and left running when this side closes.
    shared: HashMap<String, PathBuf>,
}

/// Why a host could not be reached, in ssh's own words.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ConnectError {
    pub message: String,
}

impl Connector {
    pub fn new(
        ssh_config: Option<&Path>,
        connect_timeout: Duration,
        max_starts: usize,
    ) -> std::io::Result<Connector> {
        // Control sockets live in a fresh directory with a short path: unix socket paths are
        // limited to 108 bytes, and a long $TMPDIR would break every connection.
        let base = if Path::new("/tmp").is_dir() {
            Path::new("/tmp").to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let control_dir = tempfile::Builder::new().prefix("tsync-").tempdir_in(base)?;
        let server_alive = Duration::from_secs(15);
        let mut builder = SessionBuilder::default();
        builder
            .known_hosts_check(KnownHosts::Strict)
            .connect_timeout(connect_timeout)
            .server_alive_interval(server_alive);
        if let Some(config) = ssh_config {
            builder.config_file(config);
        }
        Ok(Connector {
            options: MasterOptions {
                config: ssh_config.map(Path::to_path_buf),
                connect_timeout,
                server_alive,
            },
            builder,
            control_dir,
            starts: Semaphore::new(max_starts.max(1)),
            connect_timeout,
            marker: Arc::new(PidMarker::new()),
            masters: None,
            shared: HashMap::new(),
        })
    }

    /// Connects to each of `masters` (destination, control socket) over that master rather
    /// than by a new handshake.
    pub fn share(mut self, masters: impl IntoIterator<Item = (String, PathBuf)>) -> Connector {
        self.shared.extend(masters);
        self
    }

    /// Keeps masters alive after the run and reuses live ones (`--persist`).
    pub fn persist(mut self, masters: Masters) -> Connector {
        self.masters = Some(masters);
        self
    }

    /// Connects to `destination` (an ssh config alias or a host name), through its warm
    /// master when `--persist` keeps one. Waits for a free handshake slot first; the
    /// timeout counts from the handshake's start.
    pub async fn connect(&self, destination: &str) -> Result<Connection, ConnectError> {
        if let Some(socket) = self.shared.get(destination) {
            let session = openssh::Session::resume_mux(socket.clone().into(), None);
            return Ok(self.connection(session).persistent());
        }
        let Some(masters) = &self.masters else {
            return self.connect_new(destination).await;
        };
        refuse_option_like(destination)?;
        let entry = masters.entry(destination);
        if let Some(session) = Masters::resume(&entry).await {
            return Ok(self.connection(session).persistent());
        }
        let mut builder = self.builder.clone();
        let idle = NonZeroUsize::new(masters.idle.as_secs().max(1) as usize).expect("non-zero");
        builder
            .control_directory(&entry)
            .control_persist(ControlPersist::IdleFor(idle));
        if let Err(e) = std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&entry)
        {
            return Err(ConnectError {
                message: format!("cannot keep the connection in {}: {e}", entry.display()),
            });
        }
        let session = self
            .handshake(destination, async {
                builder
                    .connect_mux(destination)
                    .await
                    .map_err(|e| ssh_message(&e))
            })
            .await?;
        // Unremembered, the master still serves this run and exits when idle.
        let _ = Masters::remember(&entry, &session);
        Ok(self.connection(session).persistent())
    }

    /// A connection of its own, never a warm master and never kept: for a confirmation,
    /// which must prove the host can be reached again from scratch.
    pub async fn connect_new(&self, destination: &str) -> Result<Connection, ConnectError> {
        refuse_option_like(destination)?;
        let parent = self.control_dir.path();
        let master = self
            .handshake(
                destination,
                Master::start(&self.options, destination, parent),
            )
            .await?;
        Ok(Connection::over(
            master,
            self.marker.clone(),
            parent.to_path_buf(),
        ))
    }

    /// Runs `start`, the handshake with `destination`, in a free handshake slot and within
    /// the connect timeout; its error is ssh's message.
    async fn handshake<T>(
        &self,
        destination: &str,
        start: impl std::future::Future<Output = Result<T, String>>,
    ) -> Result<T, ConnectError> {
        let _slot = self.starts.acquire().await.map_err(|_| ConnectError {
            message: "the run is shutting down".into(),
        })?;
        // ssh enforces ConnectTimeout for the TCP connection and banner; this outer limit
        // also covers a server that stalls later in the handshake.
        let limit = self.connect_timeout * 2 + Duration::from_secs(2);
        match tokio::time::timeout(limit, start).await {
            Ok(Ok(started)) => Ok(started),
            Ok(Err(message)) => Err(ConnectError {
                message: connect_message(destination, message),
            }),
            Err(_) => Err(ConnectError {
                message: format!(
                    "connection timed out after {}",
                    humantime::format_duration(limit)
                ),
            }),
        }
    }

    fn connection(&self, session: openssh::Session) -> Connection {
        Connection::new(
            session,
            self.marker.clone(),
            self.control_dir.path().to_path_buf(),
        )
    }

    pub fn control_dir(&self) -> &Path {
        self.control_dir.path()
    }
}

/// ssh would read such a name as an option (`-oProxyCommand=…` runs a command), and OpenSSH
/// refuses it as a host name even after `--`: say so instead of passing it.
fn refuse_option_like(destination: &str) -> Result<(), ConnectError> {
    if destination.starts_with('-') {
        return Err(ConnectError {
            message: format!(
                "ssh cannot connect to `{destination}`: a name starting with `-` is taken for an option; rename the host"
            ),
        });
    }
    Ok(())
}

/// Why ssh could not connect, reworded where ssh's own words are a wall of text.
fn connect_message(destination: &str, ssh: String) -> String {
    // A changed host key: ssh prints a 16-line banner of @ signs around one fact and the
    // place of the stale entry ("Offending ED25519 key in /home/u/.ssh/known_hosts:3").
    if !ssh.contains("REMOTE HOST IDENTIFICATION HAS CHANGED") {
        return ssh;
    }
    let entry = ssh.lines().find_map(|line| {
        let (_, place) = line
            .trim()
            .strip_prefix("Offending ")?
            .rsplit_once(" in ")?;
        Some(place.to_string())
    });
    match entry {
        Some(place) => format!(
            "host key of {destination} has changed (possible attack); its known_hosts entry is {place}"
        ),
        None => format!("host key of {destination} has changed (possible attack)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_host_key_is_one_line_naming_the_entry() {
        let ssh = "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @
@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!
Offending ED25519 key in /home/u/.ssh/known_hosts:3
  remove with:
  ssh-keygen -f \"/home/u/.ssh/known_hosts\" -R \"10.0.0.1\"
Host key verification failed.";
        assert_eq!(
            connect_message("web-1", ssh.to_string()),
            "host key of web-1 has changed (possible attack); its known_hosts entry is /home/u/.ssh/known_hosts:3"
        );
        assert_eq!(
            connect_message("web-1", "Connection refused".to_string()),
            "Connection refused"
        );
    }
}
