//! How big a lab to start and what its hosts look like.

use crate::HostOptions;

/// Options for [`crate::Lab::start`].
#[derive(Debug, Clone, PartialEq)]
pub struct LabOptions {
    /// How many hosts, 1 to 1000.
    pub hosts: usize,
    /// Hosts are named `PREFIX-1`, `PREFIX-2`, ….
    pub prefix: String,
    /// Options of the first hosts; hosts past its end get the defaults, and
    /// entries past the last host are ignored.
    pub per_host: Vec<HostOptions>,
}

impl Default for LabOptions {
    /// Three hosts named `lab-1` to `lab-3`, all with default options.
    fn default() -> Self {
        LabOptions {
            hosts: 3,
            prefix: "lab".to_string(),
            per_host: Vec::new(),
        }
    }
}
