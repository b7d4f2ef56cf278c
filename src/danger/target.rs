//! What a path argument stands for, normalised as the kernel and the shell would read it:
//! `/`, `//`, `/.`, `/usr/..` are all the root; `~`, `~/`, `$HOME`, `${HOME}` the home
//! directory; `/*` everything under the root.
//!
//! A variable or substitution at the start of a path is judged as if it were empty, so
//! `"$DIR/"` is the root and `$DIR/etc` is `/etc`: an unset variable is how a cleanup
//! script becomes `rm -rf /` (Steam's `rm -rf "$STEAMROOT/"*`, 2015). `${DIR:?}` makes the
//! shell stop when it is empty, and is accepted.

use super::word::{Part, Word};

/// Top-level directories whose loss breaks the system or loses users' data.
const SYSTEM_DIRS: &[&str] = &[
    "bin", "boot", "dev", "etc", "home", "lib", "lib32", "lib64", "libx32", "media", "mnt", "opt",
    "proc", "root", "run", "sbin", "snap", "srv", "sys", "usr", "var",
];

/// Directories one level down that are as vital as the top-level ones.
const SYSTEM_SUBDIRS: &[&str] = &[
    "usr/bin",
    "usr/sbin",
    "usr/lib",
    "usr/lib64",
    "usr/local",
    "usr/share",
    "usr/include",
    "var/lib",
    "etc/ssh",
    "boot/efi",
];

/// Files whose truncation or removal leaves a host that nobody can log in to or boot.
const KEY_FILES: &[&str] = &[
    "etc/passwd",
    "etc/shadow",
    "etc/group",
    "etc/gshadow",
    "etc/sudoers",
    "etc/fstab",
    "etc/ssh/sshd_config",
];

/// A dangerous place a path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `/` itself.
    Root,
    /// A glob over the root's entries (`/*`, `/u*`).
    RootGlob,
    /// A home directory, or everything in it (`~`, `$HOME/*`, `~root`).
    Home,
    /// A system directory, or a glob over its entries: the path as normalised.
    System(String),
    /// A file the system cannot do without.
    KeyFile(String),
}

impl Target {
    /// How the target is shown in a reason.
    pub fn describe(&self) -> String {
        match self {
            Target::Root => "`/`".into(),
            Target::RootGlob => "everything under `/`".into(),
            Target::Home => "a home directory".into(),
            Target::System(path) => format!("the system directory `/{path}`"),
            Target::KeyFile(path) => format!("`/{path}`"),
        }
    }

    /// A directory the system cannot lose, as opposed to one key file.
    pub fn is_directory(&self) -> bool {
        !matches!(self, Target::KeyFile(_))
    }
}

/// The dangerous place `word` names, if it names one.
pub fn target(word: &Word) -> Option<Target> {
    let mut parts = word.parts.as_slice();
    // A leading value that could be empty is judged as empty (see the module's note).
    while let Some(Part::Param { set: false, .. } | Part::Subst) = parts.first() {
        if let Some(Part::Param { name, .. }) = parts.first()
            && is_home_var(name)
        {
            return home(&parts[1..]);
        }
        parts = &parts[1..];
    }
    match parts.first() {
        Some(Part::Tilde) => home(&parts[1..]),
        Some(Part::Param { name, set: true }) if is_home_var(name) => home(&parts[1..]),
        Some(Part::Lit(text)) if text.starts_with('/') => absolute(parts),
        // Nothing left at all: the whole word was a variable, which empty removes nothing.
        _ => None,
    }
}

fn is_home_var(name: &str) -> bool {
    name == "HOME"
}

/// After `~` or `$HOME`: the home itself, or a glob over all of it.
fn home(rest: &[Part]) -> Option<Target> {
    let components = components(rest)?;
    match components.as_slice() {
        [] => Some(Target::Home),
        [only] if only.glob && only.text.chars().all(|c| c == '*' || c == '.') => {
            Some(Target::Home)
        }
        // `~user`: another user's home.
        [first] if !first.glob && !first.after_slash => Some(Target::Home),
        _ => None,
    }
}

fn absolute(parts: &[Part]) -> Option<Target> {
    let mut components = components(parts)?;
    // `DIR/*` is everything in DIR: as dangerous as DIR itself.
    let all = components
        .last()
        .is_some_and(|last| last.glob && last.text == "*");
    if all {
        components.pop();
    }
    let path = components
        .iter()
        .map(|c| c.text.as_str())
        .collect::<Vec<_>>()
        .join("/");
    let dir = match components.as_slice() {
        [] if all => return Some(Target::RootGlob),
        [] => return Some(Target::Root),
        // `/u*`: a glob over the root's entries.
        [only] if only.glob && !all => return Some(Target::RootGlob),
        [only] if SYSTEM_DIRS.contains(&only.text.as_str()) => path,
        [_, _] if SYSTEM_SUBDIRS.contains(&path.as_str()) => path,
        _ if KEY_FILES.contains(&path.as_str()) && !all => return Some(Target::KeyFile(path)),
        _ => return None,
    };
    Some(Target::System(if all { format!("{dir}/*") } else { dir }))
}

/// One component of a path: its text (a glob written as `*`) and whether it has a glob.
struct Component {
    text: String,
    glob: bool,
    /// It came after a `/` (not glued to a `~`).
    after_slash: bool,
}

/// The path's components with `.`, empty ones and `..` resolved. None when a part of it
/// is only known at run time (then nothing certain can be said past it).
fn components(parts: &[Part]) -> Option<Vec<Component>> {
    let mut out: Vec<Component> = Vec::new();
    let mut current = Component {
        text: String::new(),
        glob: false,
        after_slash: false,
    };
    let push = |c: Component, out: &mut Vec<Component>| match c.text.as_str() {
        "" | "." => {}
        ".." if !c.glob => {
            out.pop();
        }
        _ => out.push(c),
    };
    for part in parts {
        match part {
            Part::Lit(text) => {
                for (i, piece) in text.split('/').enumerate() {
                    if i > 0 {
                        let done = std::mem::replace(
                            &mut current,
                            Component {
                                text: String::new(),
                                glob: false,
                                after_slash: true,
                            },
                        );
                        push(done, &mut out);
                    }
                    current.text.push_str(piece);
                }
            }
            Part::Glob => {
                current.text.push('*');
                current.glob = true;
            }
            Part::Tilde | Part::Param { .. } | Part::Subst => return None,
        }
    }
    push(current, &mut out);
    Some(out)
}

/// A block device, or memory: writing to it destroys a disk's data or crashes the host.
pub fn is_device(word: &Word) -> bool {
    let Some(path) = word.literal() else {
        return false;
    };
    let Some(name) = path.strip_prefix("/dev/") else {
        return false;
    };
    const DISKS: &[&str] = &[
        "sd", "hd", "vd", "xvd", "nvme", "mmcblk", "md", "dm-", "disk/", "mapper/", "root", "mem",
        "kmem", "port",
    ];
    DISKS.iter().any(|d| name.starts_with(d))
}
