//! A mount made in a host's own mount namespace before its `sshd` starts.

use std::path::PathBuf;

/// One mount in a host's namespace, in the order given; later mounts may sit
/// inside earlier ones (a small disk inside `/srv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Mount {
    /// A bind mount of a lab directory or file over `target`.
    Bind {
        source: PathBuf,
        target: &'static str,
    },
    /// A fresh tmpfs of `bytes` at `target`, an existing directory, owned by
    /// `uid:gid` with mode 0755 so that the lab login can fill it.
    Tmpfs {
        target: &'static str,
        bytes: u64,
        uid: u32,
        gid: u32,
    },
}

impl Mount {
    /// The shell command that makes this mount. A bind mount's source is not
    /// quoted but read from positional parameter `n` (1-based), so that no
    /// path needs quoting; a tmpfs has no source and ignores `n`, and its
    /// values are numbers and a fixed path.
    pub(crate) fn command(&self, n: usize) -> String {
        match self {
            Mount::Bind { target, .. } => format!("mount --bind \"${{{n}}}\" {target}"),
            Mount::Tmpfs {
                target,
                bytes,
                uid,
                gid,
            } => format!(
                "mount -t tmpfs -o size={bytes},uid={uid},gid={gid},mode=0755 tsync-lab-small {target}"
            ),
        }
    }

    /// The positional parameter this mount reads, if any.
    pub(crate) fn source(&self) -> Option<&PathBuf> {
        match self {
            Mount::Bind { source, .. } => Some(source),
            Mount::Tmpfs { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_name_their_parameter_and_sizes() {
        let bind = Mount::Bind {
            source: PathBuf::from("/tmp/a b"),
            target: "/srv",
        };
        assert_eq!(bind.command(2), "mount --bind \"${2}\" /srv");
        let tmpfs = Mount::Tmpfs {
            target: "/srv/small",
            bytes: 1 << 20,
            uid: 7,
            gid: 8,
        };
        assert_eq!(
            tmpfs.command(3),
            "mount -t tmpfs -o size=1048576,uid=7,gid=8,mode=0755 tsync-lab-small /srv/small"
        );
        assert_eq!(tmpfs.source(), None);
    }
}
