//! The error type of every fallible lab operation.

use std::fmt;
use std::io;
use std::process::ExitStatus;

/// What went wrong while starting or steering a lab.
#[derive(Debug)]
#[non_exhaustive]
pub enum LabError {
    /// A file-system or process operation failed; `what` names it.
    Io { what: String, source: io::Error },
    /// A helper program such as `ssh-keygen` or `useradd` failed.
    Command {
        what: String,
        status: ExitStatus,
        stderr: String,
    },
    /// The lab cannot hold this many hosts.
    HostCount { requested: usize, max: usize },
    /// The host name prefix is unusable in `ssh_config` or as a directory name.
    Prefix(String),
    /// A host index past the end of the lab.
    NoSuchHost { index: usize, hosts: usize },
    /// Every candidate block of loopback addresses was taken.
    NoFreeAddresses { tries: u32, last: String },
    /// An `sshd` exited before it accepted connections.
    SshdExited {
        host: String,
        status: ExitStatus,
        log: String,
    },
    /// An `sshd` did not accept connections before its deadline.
    SshdNotReady {
        host: String,
        address: String,
        log: String,
    },
}

impl LabError {
    /// A `map_err` adapter that names the failed operation.
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(io::Error) -> LabError {
        let what = what.into();
        move |source| LabError::Io { what, source }
    }
}

impl fmt::Display for LabError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LabError::Io { what, source } => write!(f, "{what}: {source}"),
            LabError::Command {
                what,
                status,
                stderr,
            } => {
                write!(f, "{what} failed ({status})")?;
                match stderr.trim() {
                    "" => Ok(()),
                    stderr => write!(f, ": {stderr}"),
                }
            }
            LabError::HostCount { requested, max } => {
                write!(f, "a lab holds 1 to {max} hosts, not {requested}")
            }
            LabError::Prefix(prefix) => write!(
                f,
                "host name prefix {prefix:?} must be non-empty and use only \
                 letters, digits, '.', '_' and '-'"
            ),
            LabError::NoSuchHost { index, hosts } => {
                write!(f, "no host {index} in a lab of {hosts} hosts")
            }
            LabError::NoFreeAddresses { tries, last } => write!(
                f,
                "found no free block of loopback addresses in {tries} tries \
                 (last one: {last})"
            ),
            LabError::SshdExited { host, status, log } => write!(
                f,
                "sshd for {host} exited during start-up ({status}); its log ends with:\n{log}"
            ),
            LabError::SshdNotReady { host, address, log } => write!(
                f,
                "sshd for {host} did not accept connections on {address} in time; \
                 its log ends with:\n{log}"
            ),
        }
    }
}

impl std::error::Error for LabError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LabError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
