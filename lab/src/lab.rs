//! A running lab: its directory, its hosts and their `sshd`s.

use std::fs::{self, Permissions};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::addresses::{Addresses, MAX_HOSTS};
use crate::claim::Claim;
use crate::client_config::{self, ClientConfig};
use crate::host_setup::{HostSetup, SMALL_DISK, srv_dir};
use crate::sshd::Sshd;
use crate::user::LoginUser;
use crate::{HttpService, LabError, LabHost, LabOptions, keys, proc_files, process_tree};

/// `sshd`'s privilege separation directory on Debian; it refuses to start
/// as root without it.
const PRIVSEP_DIR: &str = "/run/sshd";

/// The host key's file name in each host's directory.
pub(crate) const HOST_KEY: &str = "ssh_host_ed25519_key";

/// N OpenSSH servers on loopback addresses, reachable with
/// `ssh -F lab.ssh_config() NAME`.
///
/// Dropping it kills every `sshd` and every process they spawned, then
/// removes its directory (a directory given to [`Lab::start_in`] is kept).
pub struct Lab {
    hosts: Vec<LabHost>,
    sshds: Vec<Sshd>,
    host_dirs: Vec<PathBuf>,
    /// Whether host `i` has a small disk mounted.
    small_disks: Vec<bool>,
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
        let small_disks = (0..hosts.len())
            .map(|i| {
                full && options
                    .per_host
                    .get(i)
                    .is_some_and(|o| o.small_disk.is_some())
            })
            .collect();
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
            small_disks,
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

    /// Where host `i`'s small disk ([`crate::HostOptions::small_disk`]) is as the host
    /// sees it, `/srv/small`; `None` if the host has none or the lab is reduced.
    ///
    /// # Panics
    ///
    /// If `i` is not a host index.
    pub fn small_disk(&self, i: usize) -> Option<PathBuf> {
        self.small_disks[i].then(|| PathBuf::from(SMALL_DISK))
    }

    /// Where host `i`'s small disk is on this side while its `sshd` runs:
    /// `/proc/PID/root/srv/small`, a path into the host's mount namespace
    /// (root can read and write the disk through it). `None` if the host has no small
    /// disk or its `sshd` is stopped.
    ///
    /// # Panics
    ///
    /// If `i` is not a host index.
    pub fn small_disk_here(&self, i: usize) -> Option<PathBuf> {
        let disk = self.small_disk(i)?;
        let pid = self.sshds[i].pid()?;
        Some(PathBuf::from(format!("/proc/{pid}/root")).join(disk.strip_prefix("/").ok()?))
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

fn reduced_lab_lacks(user: &str) -> Vec<String> {
    vec![
        "an address per host: all hosts listen on 127.0.0.1, each on its own port".to_string(),
        format!("the dedicated login user tsync-lab: logins are as {user}"),
        "a private /srv per host: use Lab::host_srv(i), which is also the host's HOME".to_string(),
        "a private /proc/loadavg per host: set_load does not change what hosts see".to_string(),
        "a private /proc/meminfo per host: set_mem does not change what hosts see".to_string(),
        "small disks: HostOptions::small_disk mounts nothing, Lab::small_disk is None".to_string(),
    ]
}

pub(crate) fn write_file(path: &Path, contents: &str) -> Result<(), LabError> {
    fs::write(path, contents).map_err(LabError::io(format!("writing {}", path.display())))?;
    set_mode(path, 0o644)
}

pub(crate) fn set_mode(path: &Path, mode: u32) -> Result<(), LabError> {
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
