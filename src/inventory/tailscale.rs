//! Tailnet devices as a host source, read from `tailscale status --json` (live or from a file)
//! so hosts can be picked by MagicDNS name, OS, tag or online state.

use std::collections::{HashMap, HashSet};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::limited_read::{LimitedReadError, read_limited, size};

/// `tailscale status` answers from the local daemon in milliseconds; a wedged daemon must not
/// hang every tsync run.
const QUERY_TIMEOUT: Duration = Duration::from_secs(5);

/// The largest status read, from the command or a file: a tailnet of thousands of devices
/// is a few MiB.
const MAX_BYTES: u64 = 32 << 20;
/// The most of `tailscale`'s stderr kept for messages.
const MAX_STDERR: u64 = 64 << 10;

/// Go's zero `time.Time`, which tailscale reports as LastSeen for online or never-seen peers.
const ZERO_TIME: &str = "0001-01-01T00:00:00";

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum TailscaleError {
    #[error("could not run `tailscale status --json`")]
    Spawn {
        #[source]
        source: io::Error,
    },

    #[error("`tailscale status --json` did not finish within {after:?}{}", stderr_note(.stderr))]
    #[diagnostic(help("check that tailscaled is running and responsive"))]
    Timeout { after: Duration, stderr: String },

    #[error("`tailscale status --json` failed ({status}){}", stderr_note(.stderr))]
    #[diagnostic(help("check that tailscaled is running: `tailscale status`"))]
    Failed { status: ExitStatus, stderr: String },

    #[error("`tailscale status --json` printed output that is not a tailscale status{}", stderr_note(.stderr))]
    Output {
        #[source]
        source: serde_json::Error,
        stderr: String,
    },

    #[error("`tailscale status --json` printed more than {}", size(MAX_BYTES))]
    #[diagnostic(help("check that `tailscale` is Tailscale's own command"))]
    OutputTooLarge,

    #[error("tailscale status file {} is larger than {}", .path.display(), size(MAX_BYTES))]
    #[diagnostic(help("write the file with `tailscale status --json > FILE`"))]
    FileTooLarge { path: PathBuf },

    #[error("invalid tailscale status json")]
    Json {
        #[source]
        source: serde_json::Error,
    },

    #[error("could not read tailscale status file {}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("{} is not tailscale status json", .path.display())]
    #[diagnostic(help("write the file with `tailscale status --json > FILE`"))]
    File {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

fn stderr_note(stderr: &str) -> String {
    if stderr.is_empty() {
        String::new()
    } else {
        format!(": {stderr}")
    }
}

/// The local node's view of the tailnet.
#[derive(Debug, Clone)]
pub struct Status {
    pub backend_state: String,
    pub self_peer: Option<Peer>,
    pub peers: Vec<Peer>,
    pub magic_dns_suffix: Option<String>,
}

/// One tailnet device.
#[derive(Debug, Clone, PartialEq)]
pub struct Peer {
    /// Short MagicDNS name: first label of DNSName ("web-1"); falls back to HostName lowercased when DNSName is empty.
    pub name: String,
    /// DNSName without the trailing dot ("web-1.tailnet.ts.net"), or "" if none.
    pub dns_name: String,
    /// HostName as the OS reports it.
    pub host_name: String,
    /// Lowercased ("macos", "linux", "windows").
    pub os: String,
    pub online: bool,
    /// As given, e.g. "tag:prod".
    pub tags: Vec<String>,
    /// TailscaleIPs.
    pub ips: Vec<String>,
    /// RFC 3339 string as given, None for the zero time.
    pub last_seen: Option<String>,
    /// The node key has expired ("Expired": true), so the peer is unreachable until re-authenticated.
    pub key_expired: bool,
    /// When the node key expires (RFC 3339), if it does.
    pub key_expiry: Option<String>,
    /// How packets reach the peer: "direct 203.0.113.10:41641" or "relay fra" (a DERP
    /// region); None when Tailscale names neither.
    pub path: Option<String>,
}

// Go marshals nil slices and maps as null, so every collection is an Option.
#[derive(Deserialize)]
struct RawStatus {
    #[serde(rename = "BackendState")]
    backend_state: String,
    #[serde(rename = "Self")]
    self_node: Option<RawPeer>,
    #[serde(rename = "Peer")]
    peer: Option<HashMap<String, RawPeer>>,
    #[serde(rename = "MagicDNSSuffix")]
    magic_dns_suffix: Option<String>,
}

#[derive(Deserialize)]
struct RawPeer {
    #[serde(rename = "HostName")]
    host_name: Option<String>,
    #[serde(rename = "DNSName")]
    dns_name: Option<String>,
    #[serde(rename = "OS")]
    os: Option<String>,
    #[serde(rename = "Online")]
    online: Option<bool>,
    #[serde(rename = "Tags")]
    tags: Option<Vec<String>>,
    #[serde(rename = "TailscaleIPs")]
    tailscale_ips: Option<Vec<String>>,
    #[serde(rename = "LastSeen")]
    last_seen: Option<String>,
    #[serde(rename = "Expired")]
    expired: Option<bool>,
    #[serde(rename = "KeyExpiry")]
    key_expiry: Option<String>,
    #[serde(rename = "CurAddr")]
    cur_addr: Option<String>,
    #[serde(rename = "Relay")]
    relay: Option<String>,
}

impl From<RawPeer> for Peer {
    fn from(raw: RawPeer) -> Peer {
        let dns_name = raw
            .dns_name
            .unwrap_or_default()
            .trim_end_matches('.')
            .to_owned();
        let host_name = raw.host_name.unwrap_or_default();
        let name = match dns_name.split('.').next() {
            Some(label) if !label.is_empty() => label.to_owned(),
            _ => host_name.to_lowercase(),
        };
        Peer {
            name,
            dns_name,
            host_name,
            os: raw.os.unwrap_or_default().to_lowercase(),
            online: raw.online.unwrap_or(false),
            tags: raw.tags.unwrap_or_default(),
            ips: raw.tailscale_ips.unwrap_or_default(),
            last_seen: raw
                .last_seen
                .filter(|seen| !seen.is_empty() && !seen.starts_with(ZERO_TIME)),
            key_expired: raw.expired.unwrap_or(false),
            key_expiry: raw.key_expiry.filter(|at| !at.starts_with(ZERO_TIME)),
            // A current address means a direct path; otherwise the home DERP region relays.
            path: match (raw.cur_addr, raw.relay) {
                (Some(addr), _) if !addr.is_empty() => Some(format!("direct {addr}")),
                (_, Some(region)) if !region.is_empty() => Some(format!("relay {region}")),
                _ => None,
            },
        }
    }
}

impl From<RawStatus> for Status {
    fn from(raw: RawStatus) -> Status {
        let mut peers: Vec<Peer> = raw
            .peer
            .unwrap_or_default()
            .into_values()
            .map(Peer::from)
            .collect();
        // The JSON map is keyed by node key, which means nothing to a user; the tie-breakers
        // keep the order stable across runs when two devices share a short name.
        peers.sort_by(|a, b| {
            (&a.name, &a.dns_name, &a.host_name, &a.ips).cmp(&(
                &b.name,
                &b.dns_name,
                &b.host_name,
                &b.ips,
            ))
        });
        unique_names(&mut peers);
        Status {
            backend_state: raw.backend_state,
            self_peer: raw.self_node.map(Peer::from),
            peers,
            magic_dns_suffix: raw
                .magic_dns_suffix
                .map(|suffix| suffix.trim_end_matches('.').to_owned())
                .filter(|suffix| !suffix.is_empty()),
        }
    }
}

/// Gives every peer a name of its own. Without MagicDNS names, two devices may share a host
/// name (or have none) and were merged into one host, one's tags landing on the other; the
/// later ones get `-2`, `-3`, … (skipping names other peers have), and a nameless one its
/// first Tailscale address.
fn unique_names(peers: &mut [Peer]) {
    let mut taken: HashSet<String> = peers.iter().map(|p| p.name.clone()).collect();
    let mut seen: HashSet<String> = HashSet::new();
    for peer in peers.iter_mut() {
        if peer.name.is_empty()
            && let Some(ip) = peer.ips.first()
        {
            peer.name = ip.clone();
        }
        if !seen.insert(peer.name.clone()) || peer.name.is_empty() {
            let base = if peer.name.is_empty() {
                "peer"
            } else {
                peer.name.as_str()
            };
            let name = (2..)
                .map(|n| format!("{base}-{n}"))
                .find(|name| !taken.contains(name))
                .expect("an unused name");
            taken.insert(name.clone());
            seen.insert(name.clone());
            peer.name = name;
        }
    }
}

fn from_json(json: &str) -> Result<Status, serde_json::Error> {
    serde_json::from_str::<RawStatus>(json).map(Status::from)
}

impl Status {
    /// Parses `tailscale status --json` output; peers come out sorted by name.
    pub fn parse(json: &str) -> Result<Status, TailscaleError> {
        from_json(json).map_err(|source| TailscaleError::Json { source })
    }

    /// Whether the tailnet is up; `--json` succeeds in every state, so this must be checked.
    pub fn is_running(&self) -> bool {
        self.backend_state == "Running"
    }

    /// Runs `tailscale status --json` with a 5 s timeout. Ok(None) when the `tailscale` binary is not installed (not an error: Tailscale is optional). Any other failure (timeout, bad JSON, non-zero exit) is an error with the stderr included.
    pub fn query() -> Result<Option<Status>, TailscaleError> {
        run("tailscale", &["status", "--json"], QUERY_TIMEOUT)?
            .map(Finished::into_status)
            .transpose()
    }

    /// Reads a saved `tailscale status --json` output (the `--tailscale-status FILE` flag).
    pub fn load(path: &Path) -> Result<Status, TailscaleError> {
        let json = read_limited(path, MAX_BYTES).map_err(|error| match error {
            LimitedReadError::TooLarge { .. } => TailscaleError::FileTooLarge {
                path: path.to_path_buf(),
            },
            LimitedReadError::Io(source) => TailscaleError::Read {
                path: path.to_path_buf(),
                source,
            },
        })?;
        serde_json::from_slice::<RawStatus>(&json)
            .map(Status::from)
            .map_err(|source| TailscaleError::File {
                path: path.to_path_buf(),
                source,
            })
    }
}

struct Finished {
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: String,
}

impl Finished {
    fn into_status(self) -> Result<Status, TailscaleError> {
        // Checked first: the reader stopped reading, so the command may have died of it.
        if self.stdout.len() as u64 > MAX_BYTES {
            return Err(TailscaleError::OutputTooLarge);
        }
        if !self.status.success() {
            return Err(TailscaleError::Failed {
                status: self.status,
                stderr: self.stderr,
            });
        }
        serde_json::from_slice::<RawStatus>(&self.stdout)
            .map(Status::from)
            .map_err(|source| TailscaleError::Output {
                source,
                stderr: self.stderr,
            })
    }
}

/// Runs a program to completion or until `timeout`; `None` when the program is not installed.
fn run(
    program: &str,
    args: &[&str],
    timeout: Duration,
) -> Result<Option<Finished>, TailscaleError> {
    let mut child = match Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(TailscaleError::Spawn { source }),
    };
    // Both pipes are drained while waiting: a child that fills one would otherwise block
    // forever and look like a timeout.
    let readers = drain(child.stdout.take(), MAX_BYTES, false).and_then(|stdout| {
        let stderr = drain(child.stderr.take(), MAX_STDERR, true)?;
        Ok((stdout, stderr))
    });
    let waited = readers.and_then(|readers| {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok((readers, Some(status)));
            }
            if Instant::now() >= deadline {
                return Ok((readers, None));
            }
            thread::sleep(Duration::from_millis(20));
        }
    });
    let (readers, status) = match waited {
        Ok(done) => done,
        Err(source) => {
            stop(&mut child);
            return Err(TailscaleError::Spawn { source });
        }
    };
    if status.is_none() {
        stop(&mut child);
    }
    let (stdout, stderr) = readers;
    let stdout = collect(stdout).map_err(|source| TailscaleError::Spawn { source })?;
    let stderr = collect(stderr).map_err(|source| TailscaleError::Spawn { source })?;
    let stderr = String::from_utf8_lossy(&stderr).trim().to_owned();
    match status {
        Some(status) => Ok(Some(Finished {
            status,
            stdout,
            stderr,
        })),
        None => Err(TailscaleError::Timeout {
            after: timeout,
            stderr,
        }),
    }
}

fn stop(child: &mut std::process::Child) {
    // Either call fails only when the child has already exited and been reaped, which is
    // exactly the state being asked for.
    let _ = child.kill();
    let _ = child.wait();
}

/// Reads `pipe` on a thread: at most `limit` bytes are kept. Past that, `discard` reads the
/// rest into nothing (stderr: the command may finish); otherwise reading stops with one byte
/// more than the limit, to tell, and the closed pipe ends the command (stdout).
fn drain<R: Read + Send + 'static>(
    pipe: Option<R>,
    limit: u64,
    discard: bool,
) -> io::Result<JoinHandle<io::Result<Vec<u8>>>> {
    thread::Builder::new().spawn(move || {
        let mut buffer = Vec::new();
        if let Some(mut pipe) = pipe {
            (&mut pipe).take(limit + 1).read_to_end(&mut buffer)?;
            if discard {
                buffer.truncate(limit as usize);
                io::copy(&mut pipe, &mut io::sink())?;
            }
        }
        Ok(buffer)
    })
}

fn collect(reader: JoinHandle<io::Result<Vec<u8>>>) -> io::Result<Vec<u8>> {
    reader
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

#[cfg(test)]
mod tests;
