//! The built-in variables of one host in one stage: `{{host}}`, `{{address}}`, `{{user}}`,
//! `{{port}}` and `{{stage}}`.

use std::collections::HashMap;

use crate::inventory::Host;
use crate::inventory::ssh_config::Resolved;

pub(super) struct HostVars {
    host: String,
    address: String,
    user: String,
    port: String,
    stage: String,
}

impl HostVars {
    /// `facts` is what `ssh -G` said about the host, when the playbook needed it looked up;
    /// without it, the address is where tsync connects and the port is ssh's default.
    pub(super) fn new(host: &Host, facts: Option<&Resolved>, stage: &str) -> HostVars {
        HostVars {
            host: host.name.clone(),
            address: facts
                .map(|r| r.hostname.clone())
                .unwrap_or_else(|| host.destination().to_string()),
            user: facts.map(|r| r.user.clone()).unwrap_or_default(),
            port: facts
                .map(|r| r.port.to_string())
                .unwrap_or_else(|| "22".into()),
            stage: stage.to_string(),
        }
    }

    /// The host's name, which a pull's directory on the controller is named after.
    pub(super) fn host(&self) -> &str {
        &self.host
    }

    /// The value of variable `name` for this host: a built-in one, or else one of `vars`.
    pub(super) fn get<'a>(&'a self, name: &str, vars: &HashMap<&str, &'a str>) -> Option<&'a str> {
        match name {
            "host" => Some(&self.host),
            "address" => Some(&self.address),
            "user" => Some(&self.user),
            "port" => Some(&self.port),
            "stage" => Some(&self.stage),
            _ => vars.get(name).copied(),
        }
    }
}
