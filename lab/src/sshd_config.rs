//! The `sshd_config` of one lab host.

use std::fmt::Display;
use std::net::SocketAddrV4;
use std::path::Path;

const SFTP_SERVER: &str = "/usr/lib/openssh/sftp-server";

/// What differs between the hosts' `sshd_config` files.
pub(crate) struct SshdConfig<'a> {
    pub(crate) listen: SocketAddrV4,
    pub(crate) host_key: &'a Path,
    pub(crate) authorized_keys: &'a Path,
    pub(crate) user: &'a str,
    /// In a reduced lab, the host's private directory, which stands in for
    /// `/srv` and becomes the session's `HOME`.
    pub(crate) home: Option<&'a Path>,
    /// The host's private `/srv` as the host sees it: tsync's deploy locks go under it
    /// (`TSYNC_LOCK_DIR`), one directory per host, where the shared lab user's home would
    /// make every host of every lab one lock.
    pub(crate) srv: &'a Path,
    /// A `ForceCommand` every login runs instead of the requested command.
    pub(crate) force_command: Option<&'a Path>,
    /// A directory searched before the system's in the login's `PATH`.
    pub(crate) path_first: Option<&'a Path>,
}

impl SshdConfig<'_> {
    pub(crate) fn render(&self) -> String {
        let sftp = if Path::new(SFTP_SERVER).exists() {
            SFTP_SERVER
        } else {
            "internal-sftp"
        };
        let mut config = format!(
            "# Written by tsync-lab.\n\
             ListenAddress {listen}\n\
             HostKey {host_key}\n\
             PidFile none\n\
             AuthorizedKeysFile {authorized_keys}\n\
             PasswordAuthentication no\n\
             KbdInteractiveAuthentication no\n\
             UsePAM no\n\
             StrictModes no\n\
             UseDNS no\n\
             MaxStartups 100:30:200\n\
             MaxSessions 10\n\
             AllowUsers {user}\n\
             Subsystem sftp {sftp}\n",
            listen = self.listen,
            host_key = quote(self.host_key.display()),
            authorized_keys = quote(self.authorized_keys.display()),
            user = self.user,
        );
        // sshd takes the first `SetEnv` line only: every variable goes on it.
        let mut env = vec![quote(format_args!(
            "TSYNC_LOCK_DIR={}/.tsync/locks",
            self.srv.display()
        ))];
        if let Some(home) = self.home {
            env.push(quote(format_args!("HOME={}", home.display())));
        }
        if let Some(dir) = self.path_first {
            env.push(quote(format_args!(
                "PATH={}:/usr/local/bin:/usr/bin:/bin",
                dir.display()
            )));
        }
        config.push_str(&format!("SetEnv {}\n", env.join(" ")));
        if let Some(command) = self.force_command {
            config.push_str(&format!("ForceCommand {}\n", quote(command.display())));
        }
        config
    }
}

/// One double-quoted argument of `sshd_config` or `ssh_config`, so that
/// paths with spaces stay whole.
pub(crate) fn quote(arg: impl Display) -> String {
    let text = arg.to_string();
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_paths() {
        assert_eq!(quote(Path::new("/a b/c\"d").display()), r#""/a b/c\"d""#);
    }

    #[test]
    fn renders_listen_and_user() {
        let config = SshdConfig {
            listen: "127.9.8.1:22".parse().unwrap(),
            host_key: Path::new("/lab/hosts/lab-1/ssh_host_ed25519_key"),
            authorized_keys: Path::new("/lab/authorized_keys"),
            user: "tsync-lab",
            home: None,
            srv: Path::new("/srv"),
            force_command: None,
            path_first: None,
        }
        .render();
        assert!(config.contains("ListenAddress 127.9.8.1:22\n"));
        assert!(config.contains("AllowUsers tsync-lab\n"));
        assert!(config.contains("MaxSessions 10\n"));
        assert!(config.contains("SetEnv \"TSYNC_LOCK_DIR=/srv/.tsync/locks\"\n"));
        assert!(!config.contains("ForceCommand"));
    }
}
