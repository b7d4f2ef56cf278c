//! Preparing one host: its `/proc` files, private `/srv`, `sshd_config` and
//! the mounts of its namespace.

use std::fs;
use std::net::SocketAddrV4;
use std::os::unix::fs::chown;
use std::path::{Path, PathBuf};

use crate::lab::{HOST_KEY, set_mode, write_file};
use crate::mount::Mount;
use crate::sshd::Sshd;
use crate::sshd_config::SshdConfig;
use crate::user::LoginUser;
use crate::{HostOptions, LabError, proc_files};

/// The `ForceCommand` of a host with [`HostOptions::noisy_login`]. It runs the command in a
/// child shell rather than `exec`, as many wrappers do (to log its end, say).
const NOISY_LOGIN: &str = "#!/bin/sh\n\
# Written by tsync-lab: a login that talks on stderr before it runs the command.\n\
echo 'Welcome to a noisy lab host' >&2\n\
printf 'motd without a newline ' >&2\n\
if [ -z \"$SSH_ORIGINAL_COMMAND\" ]; then exec \"${SHELL:-/bin/sh}\" -l; fi\n\
/bin/sh -c \"$SSH_ORIGINAL_COMMAND\"\n";

/// The `find` of a host with [`HostOptions::find_without_printf`]: BusyBox's answer to
/// `-printf`, the real `find` for everything else.
const FIND_WITHOUT_PRINTF: &str = "#!/bin/sh\n\
for arg; do\n\
    if [ \"$arg\" = -printf ]; then echo 'find: unrecognized: -printf' >&2; exit 1; fi\n\
done\n\
exec /usr/bin/find \"$@\"\n";

/// The `tar` of a host with [`HostOptions::without_tar`]: what sh says of a missing command.
const TAR_NOT_FOUND: &str = "#!/bin/sh\necho 'sh: 1: tar: not found' >&2\nexit 127\n";

/// Where a host with [`HostOptions::small_disk`] has it, as the host sees it.
pub(crate) const SMALL_DISK: &str = "/srv/small";

/// What preparing one host's files needs.
pub(crate) struct HostSetup<'a> {
    pub(crate) host_dir: &'a Path,
    pub(crate) endpoint: SocketAddrV4,
    pub(crate) user: &'a LoginUser,
    pub(crate) authorized_keys: &'a Path,
    pub(crate) full: bool,
}

impl HostSetup<'_> {
    /// Writes the host's `/proc` files, private directory and
    /// `sshd_config`, and returns its `sshd`, not yet started.
    pub(crate) fn prepare(&self, name: &str, options: HostOptions) -> Result<Sshd, LabError> {
        let loadavg = self.host_dir.join("loadavg");
        let meminfo = self.host_dir.join("meminfo");
        proc_files::rewrite(&loadavg, &proc_files::loadavg(options.load))?;
        proc_files::rewrite(
            &meminfo,
            &proc_files::meminfo(options.mem_total_kb, options.mem_available_kb),
        )?;
        let srv = srv_dir(self.host_dir, self.full);
        fs::create_dir_all(&srv).map_err(LabError::io(format!("creating {}", srv.display())))?;
        if self.full {
            // Logins write to /srv as the unprivileged lab user.
            let user = self.user;
            chown(&srv, Some(user.uid), Some(user.gid)).map_err(LabError::io(format!(
                "handing {} to {}",
                srv.display(),
                user.name
            )))?;
        }
        // Where sshd finds the login's key: the lab's file, or the host's own copy.
        let keys_in_srv = if self.full {
            PathBuf::from("/srv/.ssh/authorized_keys")
        } else {
            srv.join(".ssh/authorized_keys")
        };
        if options.keys_in_srv {
            let dir = srv.join(".ssh");
            fs::create_dir_all(&dir)
                .map_err(LabError::io(format!("creating {}", dir.display())))?;
            let copy = dir.join("authorized_keys");
            fs::copy(self.authorized_keys, &copy)
                .map_err(LabError::io(format!("writing {}", copy.display())))?;
            if self.full {
                let user = self.user;
                for path in [&dir, &copy] {
                    chown(path, Some(user.uid), Some(user.gid)).map_err(LabError::io(format!(
                        "handing {} to {}",
                        path.display(),
                        user.name
                    )))?;
                }
            }
        }
        let wrapper = self.host_dir.join("noisy-login");
        if options.noisy_login {
            write_file(&wrapper, NOISY_LOGIN)?;
            set_mode(&wrapper, 0o755)?;
        }
        let bin = self.host_dir.join("bin");
        let stand_ins = [
            (options.find_without_printf, "find", FIND_WITHOUT_PRINTF),
            (options.without_tar, "tar", TAR_NOT_FOUND),
        ];
        for (wanted, name, script) in stand_ins {
            if !wanted {
                continue;
            }
            fs::create_dir_all(&bin)
                .map_err(LabError::io(format!("creating {}", bin.display())))?;
            write_file(&bin.join(name), script)?;
            set_mode(&bin.join(name), 0o755)?;
        }
        let config = self.host_dir.join("sshd_config");
        let sshd_config = SshdConfig {
            listen: self.endpoint,
            host_key: &self.host_dir.join(HOST_KEY),
            authorized_keys: if options.keys_in_srv {
                &keys_in_srv
            } else {
                self.authorized_keys
            },
            user: &self.user.name,
            home: (!self.full).then_some(srv.as_path()),
            srv: if self.full {
                Path::new("/srv")
            } else {
                srv.as_path()
            },
            force_command: options.noisy_login.then_some(wrapper.as_path()),
            path_first: (options.find_without_printf || options.without_tar)
                .then_some(bin.as_path()),
        };
        write_file(&config, &sshd_config.render())?;
        let mut mounts = Vec::new();
        if self.full {
            mounts.push(Mount::Bind {
                source: srv.clone(),
                target: "/srv",
            });
            mounts.push(Mount::Bind {
                source: loadavg,
                target: "/proc/loadavg",
            });
            mounts.push(Mount::Bind {
                source: meminfo,
                target: "/proc/meminfo",
            });
            if let Some(bytes) = options.small_disk {
                // The mount point lives in the host's /srv, so the tmpfs
                // covers it only inside the host's namespace.
                let point = srv.join("small");
                fs::create_dir_all(&point)
                    .map_err(LabError::io(format!("creating {}", point.display())))?;
                mounts.push(Mount::Tmpfs {
                    target: SMALL_DISK,
                    bytes,
                    uid: self.user.uid,
                    gid: self.user.gid,
                });
            }
        }
        Ok(Sshd::new(
            name,
            self.endpoint,
            config,
            self.host_dir.join("sshd.log"),
            mounts,
        ))
    }
}

/// A host's private directory standing in for `/srv`.
pub(crate) fn srv_dir(host_dir: &Path, full: bool) -> PathBuf {
    host_dir.join(if full { "srv" } else { "home" })
}
