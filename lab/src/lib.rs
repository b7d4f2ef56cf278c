//! A lab of real OpenSSH servers on loopback addresses, for the tests, demo
//! and benchmarks of tsync.
//!
//! [`Lab::start`] creates keys, a client `ssh_config` and one `sshd` per host
//! in a fresh directory, and returns once every host accepts connections:
//!
//! ```no_run
//! use tsync_lab::{Lab, LabOptions};
//!
//! let lab = Lab::start(LabOptions { hosts: 3, ..LabOptions::default() })?;
//! let status = std::process::Command::new("ssh")
//!     .arg("-F")
//!     .arg(lab.ssh_config())
//!     .args(["lab-1", "true"])
//!     .status()?;
//! assert!(status.success());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! As root the lab is complete: every host has an address of its own
//! (`127.A.B.n`, port 22), logins are as the unprivileged user `tsync-lab`,
//! and each `sshd` runs in its own mount namespace with a private writable
//! `/srv` and a `/proc/loadavg` and `/proc/meminfo` whose values the test
//! chooses; a host may also get a small disk to fill up (a tmpfs at
//! `/srv/small`, see [`HostOptions::small_disk`]). `nproc` on every host
//! reports the real core count: with the few cores of a test machine,
//! pinning hosts to fake CPU counts would only slow them down. Without root the lab is reduced and [`Lab::lacks`] says how.
//!
//! Dropping the [`Lab`] kills every `sshd` and every process it spawned, then
//! removes the directory.

mod addresses;
mod claim;
mod client_config;
mod error;
mod host;
mod host_options;
mod host_setup;
mod http_service;
mod keys;
mod lab;
mod lab_options;
mod mount;
mod proc_files;
mod process_tree;
mod sshd;
mod sshd_config;
mod user;

pub use error::LabError;
pub use host::LabHost;
pub use host_options::HostOptions;
pub use http_service::HttpService;
pub use lab::Lab;
pub use lab_options::LabOptions;
