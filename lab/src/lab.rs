//! A running lab: its directory, its hosts and their `sshd`s.

use std::fs::{self, Permissions};
use std::net::SocketAddrV4;
use std::os::unix::fs::{PermissionsExt, chown};
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::addresses::{Addresses, MAX_HOSTS};
use crate::claim::Claim;
use crate::client_config::{self, ClientConfig};
use crate::sshd::Sshd;
use crate::sshd_config::SshdConfig;
use crate::user::LoginUser;
use crate::{
    HostOptions, HttpService, LabError, LabHost, LabOptions, keys, proc_files, process_tree,
};

/// `sshd`'s privilege separation directory on Debian; it refuses to start
/// as root without it.
const PRIVSEP_DIR: &str = "/run/sshd";

/// The host key's file name in each host's directory.
const HOST_KEY: &str = "ssh_host_ed25519_key";

/// The `ForceCommand` of a host with [`HostOptions::noisy_login`]. It runs the command in a
/// child shell rather than `exec`, as many wrappers do (to log its end, say).
const NOISY_LOGIN: &str = "#!/bin/sh\n\
# Written by tsync-lab: a login that talks on stderr before it runs the command.\n\
echo 'Welcome to a noisy lab host' >&2\n\
printf 'motd without a newline ' >&2\n\
if [ -z \"$SSH_ORIGINAL_COMMAND\" ]; then exec \"${SHELL:-/bin/sh}\" -l; fi\n\
/bin/sh -c \"$SSH_ORIGINAL_COMMAND\"\n";

/// N OpenSSH servers on loopback addresses, reachable with
/// `ssh -F lab.ssh_config() NAME`.
///
/// Dropping it kills every `sshd` and every process they spawned, then
/// removes its directory (a directory given to [`Lab::start_in`] is kept).
pub struct Lab {
    hosts: Vec<LabHost>,
    sshds: Vec<Sshd>,
    host_dirs: Vec<PathBuf>,
    lacks: Vec<String>,
    /// Whether this is a full (root) lab with private `/srv` and `/proc` files.
    full: bool,
    /// Claims on the lab's address block, held and never read; dropped
    /// after `Drop::drop` has killed the sshds.
    _claims: Vec<Claim>,
    dir: LabDir,
}

/// Where a lab keeps its files.
enum LabDir {
    /// A fresh temporary directory, removed with the lab.
    Temp(TempDir),
    /// A directory the caller chose, left in place.
    Kept(PathBuf),
}

impl Lab {
    /// Starts a lab in a fresh temporary directory and returns once every
    /// host accepts connections.
    pub fn start(options: LabOptions) -> Result<Lab, LabError> {
        let dir = tempfile::Builder::new()
            .prefix("tsync-lab-")
            .tempdir()
            .map_err(LabError::io("creating the lab's temporary directory"))?;
        Lab::start_at(options, LabDir::Temp(dir))
    }

    /// Starts a lab in `dir` (created if missing) and leaves the directory
    /// in place when dropped.
    pub fn start_in(options: LabOptions, dir: &Path) -> Result<Lab, LabError> {
        let what = || format!("preparing the lab directory {}", dir.display());
        fs::create_dir_all(dir).map_err(LabError::io(what()))?;
        // sshd_config and ssh_config need absolute paths.
        let dir = fs::canonicalize(dir).map_err(LabError::io(what()))?;
        Lab::start_at(options, LabDir::Kept(dir))
    }

    fn start_at(options: LabOptions, dir: LabDir) -> Result<Lab, LabError> {
        check_options(&options)?;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let full = unsafe { libc::geteuid() } == 0;
        let user = if full {
            LoginUser::dedicated()?
        } else {
            LoginUser::current()?
        };
        let root = dir.path().to_path_buf();
        // sshd reads authorized_keys as the login user, who must be able to
        // reach it; everything secret in the directory is mode 0600.
        set_mode(&root, 0o755)?;
        let addresses = if full {
            Addresses::loopback_block(options.hosts)?
        } else {
            Addresses::free_ports(options.hosts)?
        };
        let hosts: Vec<LabHost> = addresses
            .endpoints
            .iter()
            .enumerate()
            .map(|(i, endpoint)| LabHost {
                name: format!("{}-{}", options.prefix, i + 1),
                address: endpoint.ip().to_string(),
                port: endpoint.port(),
            })
            .collect();
        let host_dirs: Vec<PathBuf> = hosts
            .iter()
            .map(|host| root.join("hosts").join(&host.name))
            .collect();
        for host_dir in &host_dirs {
            fs::create_dir_all(host_dir)
                .map_err(LabError::io(format!("creating {}", host_dir.display())))?;
            set_mode(host_dir, 0o755)?;
        }
        let authorized_keys = write_keys_and_client_files(&root, &hosts, &host_dirs, &user)?;
        if full {
            for dir in [Path::new(PRIVSEP_DIR), Path::new("/srv")] {
                fs::create_dir_all(dir)
                    .map_err(LabError::io(format!("creating {}", dir.display())))?;
            }
        }
        let sshds = hosts
            .iter()
            .zip(&host_dirs)
            .zip(&addresses.endpoints)
            .enumerate()
            .map(|(i, ((host, host_dir), &endpoint))| {
                let host_options = options.per_host.get(i).copied().unwrap_or_default();
                let setup = HostSetup {
                    host_dir,
                    endpoint,
                    user: &user,
                    authorized_keys: &authorized_keys,
                    full,
                };
                setup.prepare(&host.name, host_options)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let lacks = if full {
            Vec::new()
        } else {
            reduced_lab_lacks(&user.name)
        };

        // From here on an error drops the lab, which kills what has started.
        let mut lab = Lab {
            hosts,
            sshds,
            host_dirs,
            lacks,
            full,
            _claims: addresses.claims,
            dir,
        };
        for sshd in &mut lab.sshds {
            sshd.start()?;
        }
        // All sshds start at once, so waiting for them in turn takes about
        // as long as the slowest.
        for sshd in &mut lab.sshds {
            sshd.wait_ready()?;
        }
        Ok(lab)
    }

    /// The lab's directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `DIR/ssh_config`, all that `ssh -F` needs to reach every host by name.
    pub fn ssh_config(&self) -> PathBuf {
        self.dir().join("ssh_config")
    }

    /// The hosts, in order: host `i` is named `PREFIX-(i+1)`.
    pub fn hosts(&self) -> &[LabHost] {
        &self.hosts
    }

    /// What this lab lacks compared with a full (root) lab, in words; empty
    /// for a full lab.
    pub fn lacks(&self) -> &[String] {
        &self.lacks
    }

    /// Kills (SIGKILL) host `i`'s `sshd` and its sessions and waits for it:
    /// connections are refused until [`Lab::restart`]. Does nothing to a
    /// stopped host.
    pub fn stop(&mut self, i: usize) -> Result<(), LabError> {
        self.check(i)?;
        self.sshds[i].kill()
    }

    /// Stops (SIGSTOP) host `i`'s `sshd` and its sessions: its socket stays
    /// open, so connections are accepted by the kernel and then hang. Does
    /// nothing to a stopped host.
    pub fn freeze(&mut self, i: usize) -> Result<(), LabError> {
        self.check(i)?;
        self.sshds[i].freeze();
        Ok(())
    }

    /// Resumes (SIGCONT) what [`Lab::freeze`] stopped. Does nothing to a
    /// stopped host.
    pub fn thaw(&mut self, i: usize) -> Result<(), LabError> {
        self.check(i)?;
        self.sshds[i].thaw();
        Ok(())
    }

    /// Starts host `i` again, killing it first if it runs, on the same
    /// address with the same keys and `/srv`; returns once it accepts
    /// connections.
    pub fn restart(&mut self, i: usize) -> Result<(), LabError> {
        self.check(i)?;
        let sshd = &mut self.sshds[i];
        sshd.kill()?;
        sshd.start()?;
        sshd.wait_ready()
    }

    /// Sets what host `i`'s `/proc/loadavg` shows, at once.
    ///
    /// In a reduced lab only `DIR/hosts/NAME/loadavg` changes.
    pub fn set_load(&self, i: usize, load: (f64, f64, f64)) -> Result<(), LabError> {
        self.check(i)?;
        proc_files::rewrite(
            &self.host_dirs[i].join("loadavg"),
            &proc_files::loadavg(load),
        )
    }

    /// Sets what host `i`'s `/proc/meminfo` shows, at once.
    ///
    /// In a reduced lab only `DIR/hosts/NAME/meminfo` changes.
    pub fn set_mem(&self, i: usize, total_kb: u64, available_kb: u64) -> Result<(), LabError> {
        self.check(i)?;
        proc_files::rewrite(
            &self.host_dirs[i].join("meminfo"),
            &proc_files::meminfo(total_kb, available_kb),
        )
    }

    /// Where host `i`'s private `/srv` is on this side: `DIR/hosts/NAME/srv`,
    /// or in a reduced lab `DIR/hosts/NAME/home`.
    ///
    /// # Panics
    ///
    /// If `i` is not a host index.
    pub fn srv(&self, i: usize) -> PathBuf {
        srv_dir(&self.host_dirs[i], self.full)
    }

    /// Where host `i`'s private `/srv` is as the host sees it: `/srv`, or in a
    /// reduced lab the same directory as [`Lab::srv`], which is also the
    /// session's `HOME`.
    ///
    /// # Panics
    ///
    /// If `i` is not a host index.
    pub fn host_srv(&self, i: usize) -> PathBuf {
        if self.full {
            PathBuf::from("/srv")
        } else {
            self.srv(i)
        }
    }

    /// Starts an HTTP service on host `i`'s address (a free port), answering as the file
    /// `health` in the host's `/srv` says (see [`HttpService`]), so a step on the host can
    /// change its answers with `echo 500 > /srv/health`. It stops when dropped.
    pub fn http_service(&self, i: usize) -> Result<HttpService, LabError> {
        self.http_service_at(i, 0)
    }

    /// As [`Lab::http_service`], on `port` (0 for a free one): services of several hosts
    /// on one port number let a playbook write `http://{{address}}:PORT/`.
    pub fn http_service_at(&self, i: usize, port: u16) -> Result<HttpService, LabError> {
        self.check(i)?;
        let host = &self.hosts[i];
        let what = format!("starting an HTTP service on {}", host.name);
        let ip = host
            .address
            .parse()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
            .map_err(LabError::io(what.clone()))?;
        HttpService::start(ip, port, self.srv(i).join("health")).map_err(LabError::io(what))
    }

    /// Host `i`'s `sshd` log, `DIR/hosts/NAME/sshd.log`.
    ///
    /// # Panics
    ///
    /// If `i` is not a host index.
    pub fn sshd_log(&self, i: usize) -> PathBuf {
        self.host_dirs[i].join("sshd.log")
    }

    fn check(&self, i: usize) -> Result<(), LabError> {
        if i < self.hosts.len() {
            Ok(())
        } else {
            Err(LabError::NoSuchHost {
                index: i,
                hosts: self.hosts.len(),
            })
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        // One sweep over every sshd tree at once: a lab of many hosts would
        // otherwise scan /proc once per host.
        let pids: Vec<i32> = self.sshds.iter().filter_map(Sshd::pid).collect();
        process_tree::kill(&pids);
        for sshd in &mut self.sshds {
            // A failed wait leaves nothing to do in a destructor.
            let _ = sshd.reap();
        }
        if let LabDir::Kept(dir) = &self.dir {
            remove_sockets(dir);
        }
    }
}

impl LabDir {
    fn path(&self) -> &Path {
        match self {
            LabDir::Temp(dir) => dir.path(),
            LabDir::Kept(dir) => dir,
        }
    }
}

fn check_options(options: &LabOptions) -> Result<(), LabError> {
    if !(1..=MAX_HOSTS).contains(&options.hosts) {
        return Err(LabError::HostCount {
            requested: options.hosts,
            max: MAX_HOSTS,
        });
    }
    let prefix_ok = !options.prefix.is_empty()
        && options
            .prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if prefix_ok {
        Ok(())
    } else {
        Err(LabError::Prefix(options.prefix.clone()))
    }
}

/// Makes the user key and every host key, then writes `authorized_keys`,
/// `known_hosts` and `ssh_config`; returns the path of `authorized_keys`.
fn write_keys_and_client_files(
    root: &Path,
    hosts: &[LabHost],
    host_dirs: &[PathBuf],
    user: &LoginUser,
) -> Result<PathBuf, LabError> {
    let identity = root.join("id_ed25519");
    let mut all_keys = vec![identity.clone()];
    all_keys.extend(host_dirs.iter().map(|host_dir| host_dir.join(HOST_KEY)));
    keys::generate(&all_keys)?;
    let authorized_keys = root.join("authorized_keys");
    write_file(
        &authorized_keys,
        &format!("{}\n", keys::public_key(&identity)?),
    )?;
    let host_public_keys = all_keys[1..]
        .iter()
        .map(|key| keys::public_key(key))
        .collect::<Result<Vec<_>, _>>()?;
    let known_hosts = root.join("known_hosts");
    write_file(
        &known_hosts,
        &client_config::known_hosts(hosts, &host_public_keys),
    )?;
    let client = ClientConfig {
        hosts,
        user: &user.name,
        identity: &identity,
        known_hosts: &known_hosts,
    };
    write_file(&root.join("ssh_config"), &client.render())?;
    Ok(authorized_keys)
}

/// What preparing one host's files needs.
struct HostSetup<'a> {
    host_dir: &'a Path,
    endpoint: SocketAddrV4,
    user: &'a LoginUser,
    authorized_keys: &'a Path,
    full: bool,
}

impl HostSetup<'_> {
    /// Writes the host's `/proc` files, private directory and
    /// `sshd_config`, and returns its `sshd`, not yet started.
    fn prepare(&self, name: &str, options: HostOptions) -> Result<Sshd, LabError> {
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
            force_command: options.noisy_login.then_some(wrapper.as_path()),
        };
        write_file(&config, &sshd_config.render())?;
        let mounts = if self.full {
            vec![
                (srv, "/srv"),
                (loadavg, "/proc/loadavg"),
                (meminfo, "/proc/meminfo"),
            ]
        } else {
            Vec::new()
        };
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
fn srv_dir(host_dir: &Path, full: bool) -> PathBuf {
    host_dir.join(if full { "srv" } else { "home" })
}

fn reduced_lab_lacks(user: &str) -> Vec<String> {
    vec![
        "an address per host: all hosts listen on 127.0.0.1, each on its own port".to_string(),
        format!("the dedicated login user tsync-lab: logins are as {user}"),
        "a private /srv per host: use Lab::host_srv(i), which is also the host's HOME".to_string(),
        "a private /proc/loadavg per host: set_load does not change what hosts see".to_string(),
        "a private /proc/meminfo per host: set_mem does not change what hosts see".to_string(),
    ]
}

fn write_file(path: &Path, contents: &str) -> Result<(), LabError> {
    fs::write(path, contents).map_err(LabError::io(format!("writing {}", path.display())))?;
    set_mode(path, 0o644)
}

fn set_mode(path: &Path, mode: u32) -> Result<(), LabError> {
    fs::set_permissions(path, Permissions::from_mode(mode)).map_err(LabError::io(format!(
        "setting the mode of {}",
        path.display()
    )))
}

/// Removes the sockets under a kept lab directory, which would be stale once
/// the lab is gone; everything else stays for inspection.
fn remove_sockets(dir: &Path) {
    use std::os::unix::fs::FileTypeExt;
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        // DirEntry::file_type does not follow symlinks, so a link out of the
        // directory is never walked.
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => remove_sockets(&entry.path()),
            Ok(kind) if kind.is_socket() => {
                // A socket that cannot be removed is left as it is.
                let _ = fs::remove_file(entry.path());
            }
            _ => {}
        }
    }
}
