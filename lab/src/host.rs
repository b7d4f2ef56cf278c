//! One host of a lab, as a client sees it.

/// A lab host: the alias in the lab's `ssh_config` and where its `sshd` listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabHost {
    /// The `Host` alias, e.g. `lab-1`.
    pub name: String,
    /// The IPv4 loopback address the `sshd` listens on.
    pub address: String,
    /// The TCP port the `sshd` listens on.
    pub port: u16,
}

impl LabHost {
    /// `ADDR:PORT`, the form `ssh` and the lab's output use.
    pub fn endpoint(&self) -> String {
        format!("{}:{}", self.address, self.port)
    }
}
