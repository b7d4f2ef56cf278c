//! The rules of the guard: each kind of command it blocks, with the name users see.

use std::fmt;

/// A kind of dangerous command. Its name is shown with every refusal and override.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// `rm -r` of `/`, `/*`, a home directory or a system directory.
    RecursiveDelete,
    /// `rm --no-preserve-root`: only ever given to delete `/`.
    NoPreserveRoot,
    /// Truncating, removing or moving `/etc/passwd` and its like.
    KeyFile,
    /// `mkfs*`, `mke2fs`, `mkswap` on a device, `wipefs`.
    Filesystem,
    /// `dd`, `shred`, `tee`, `blkdiscard` or a redirection onto a disk or memory device.
    DeviceWrite,
    /// `fdisk`, `sfdisk`, `parted`, `sgdisk` changing a disk's partition table.
    PartitionTable,
    /// A function that starts itself in a pipe or in the background.
    ForkBomb,
    /// `chmod -R`, `chown -R`, `chgrp -R` of `/` or a system directory.
    RecursivePermissions,
    /// `mv` of `/`, a home directory or a system directory.
    MoveSystem,
    /// `find` over `/`, a home or a system directory that deletes what it finds.
    FindDelete,
    /// `shutdown`, `reboot`, `poweroff`, `halt`, `init 0|6`, `systemctl poweroff|reboot|…`.
    PowerOff,
    /// `kill … -1` (every process), `killall5`.
    KillEverything,
    /// `crontab -r`: every job of the user, gone without a copy.
    CrontabRemove,
    /// Firewall rules flushed or reset, or a policy that drops everything.
    FirewallFlush,
    /// Stopping the SSH server: the host is out of reach until someone gets to it.
    SshLockout,
    /// A write to `/proc/sysrq-trigger`: crashes or reboots the kernel at once.
    Sysrq,
    /// Commands nested too deep to be read: the guard cannot say they are safe.
    TooDeep,
}

impl Rule {
    /// The name users see and search for.
    pub fn name(self) -> &'static str {
        match self {
            Rule::RecursiveDelete => "recursive-delete",
            Rule::NoPreserveRoot => "no-preserve-root",
            Rule::KeyFile => "key-file",
            Rule::Filesystem => "make-filesystem",
            Rule::DeviceWrite => "device-write",
            Rule::PartitionTable => "partition-table",
            Rule::ForkBomb => "fork-bomb",
            Rule::RecursivePermissions => "recursive-permissions",
            Rule::MoveSystem => "move-system",
            Rule::FindDelete => "find-delete",
            Rule::PowerOff => "power-off",
            Rule::KillEverything => "kill-everything",
            Rule::CrontabRemove => "crontab-remove",
            Rule::FirewallFlush => "firewall-flush",
            Rule::SshLockout => "ssh-lockout",
            Rule::Sysrq => "sysrq",
            Rule::TooDeep => "too-deep",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a command is dangerous: the rule it breaks, and what it would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Danger {
    pub rule: Rule,
    /// A lowercase fragment: "`rm -r` of `/` deletes every file of the host".
    pub reason: String,
}

impl Danger {
    pub fn new(rule: Rule, reason: impl Into<String>) -> Self {
        Danger {
            rule,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Danger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (rule `{}`)", self.reason, self.rule)
    }
}
