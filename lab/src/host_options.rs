//! What a single host reports about itself.

/// The values a host shows in its `/proc/loadavg` and `/proc/meminfo`.
///
/// They take effect only in a full (root) lab; [`crate::Lab::lacks`] says so
/// otherwise. There is no CPU count: `nproc` on every host reports the
/// machine's real cores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HostOptions {
    /// The 1, 5 and 15 minute load averages.
    pub load: (f64, f64, f64),
    /// `MemTotal` in KiB.
    pub mem_total_kb: u64,
    /// `MemAvailable` in KiB.
    pub mem_available_kb: u64,
    /// Logins go through an sshd `ForceCommand` wrapper that writes to stderr (a welcome
    /// line, then a partial line with no newline) before it runs the requested command
    /// (`$SSH_ORIGINAL_COMMAND`) in a child shell, as rc files, motd scripts and audit
    /// wrappers do. The command's shell is then not the session leader.
    pub noisy_login: bool,
    /// The login's key is read from the host's own `/srv/.ssh/authorized_keys` (a copy of
    /// the lab's), which the login may move away: a step can then cut off new logins to
    /// this host, as a bad sshd or firewall change would, while open connections stay up.
    pub keys_in_srv: bool,
    /// A small disk: a tmpfs of this many bytes mounted at `/srv/small` in the host's own
    /// mount namespace, owned by the login, so that a test can fill it and see writes fail
    /// with "No space left on device" ([`crate::Lab::small_disk`] names it). A full (root)
    /// lab only; it starts empty again when the host restarts.
    pub small_disk: Option<u64>,
    /// The host's `find` lacks `-printf`, as BusyBox's and the BSDs' do: a `find` earlier in
    /// the login's `PATH` (sshd's `SetEnv`) refuses that option and runs the real one for
    /// anything else.
    pub find_without_printf: bool,
    /// The host has no `tar`, as a minimal image may not: a `tar` earlier in the login's
    /// `PATH` answers as the shell does for a command it cannot find.
    pub without_tar: bool,
}

impl Default for HostOptions {
    /// A quiet host: load 0.10 0.05 0.01, 8 GiB of memory of which 6 GiB available, a
    /// login that prints nothing, no small disk, GNU find and tar.
    fn default() -> Self {
        HostOptions {
            load: (0.10, 0.05, 0.01),
            mem_total_kb: 8 * 1024 * 1024,
            mem_available_kb: 6 * 1024 * 1024,
            noisy_login: false,
            keys_in_srv: false,
            small_disk: None,
            find_without_printf: false,
            without_tar: false,
        }
    }
}
