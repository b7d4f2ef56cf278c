//! The client side of a lab: its `ssh_config` and `known_hosts`.

use std::path::Path;

use crate::LabHost;
use crate::sshd_config::quote;

/// Everything `ssh -F DIR/ssh_config ALIAS` needs, with no other file.
pub(crate) struct ClientConfig<'a> {
    pub(crate) hosts: &'a [LabHost],
    pub(crate) user: &'a str,
    pub(crate) identity: &'a Path,
    pub(crate) known_hosts: &'a Path,
}

impl ClientConfig<'_> {
    /// One `Host` block per lab host.
    pub(crate) fn render(&self) -> String {
        let identity = quote(self.identity.display());
        let known_hosts = quote(self.known_hosts.display());
        let mut config = String::from("# Written by tsync-lab; use with ssh -F.\n");
        for host in self.hosts {
            config.push_str(&format!(
                "\nHost {name}\n\
                 \x20 HostName {address}\n\
                 \x20 Port {port}\n\
                 \x20 User {user}\n\
                 \x20 IdentityFile {identity}\n\
                 \x20 IdentitiesOnly yes\n\
                 \x20 UserKnownHostsFile {known_hosts}\n\
                 \x20 GlobalKnownHostsFile /dev/null\n\
                 \x20 StrictHostKeyChecking yes\n\
                 \x20 BatchMode yes\n\
                 \x20 LogLevel ERROR\n\
                 \x20 ConnectTimeout 5\n",
                name = host.name,
                address = host.address,
                port = host.port,
                user = self.user,
            ));
        }
        config
    }
}

/// A `known_hosts` line per host, naming it by its alias, as `[ADDR]:PORT`,
/// and as plain `ADDR` on port 22, where `ssh` looks it up without brackets.
pub(crate) fn known_hosts(hosts: &[LabHost], host_keys: &[String]) -> String {
    hosts
        .iter()
        .zip(host_keys)
        .map(|(host, key)| {
            let plain = if host.port == 22 {
                format!(",{}", host.address)
            } else {
                String::new()
            };
            format!(
                "{},[{}]:{}{plain} {key}\n",
                host.name, host.address, host.port
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(port: u16) -> LabHost {
        LabHost {
            name: "lab-1".to_string(),
            address: "127.9.8.1".to_string(),
            port,
        }
    }

    #[test]
    fn known_hosts_names_every_spelling() {
        let key = vec!["ssh-ed25519 AAAA".to_string()];
        assert_eq!(
            known_hosts(&[host(22)], &key),
            "lab-1,[127.9.8.1]:22,127.9.8.1 ssh-ed25519 AAAA\n"
        );
        assert_eq!(
            known_hosts(&[host(2222)], &key),
            "lab-1,[127.9.8.1]:2222 ssh-ed25519 AAAA\n"
        );
    }

    #[test]
    fn ssh_config_has_a_block_per_host() {
        let hosts = [host(22)];
        let config = ClientConfig {
            hosts: &hosts,
            user: "tsync-lab",
            identity: Path::new("/lab/id_ed25519"),
            known_hosts: Path::new("/lab/known_hosts"),
        }
        .render();
        assert!(config.contains("\nHost lab-1\n  HostName 127.9.8.1\n  Port 22\n"));
        assert!(config.contains("  IdentityFile \"/lab/id_ed25519\"\n"));
        assert!(config.contains("  StrictHostKeyChecking yes\n"));
    }
}
