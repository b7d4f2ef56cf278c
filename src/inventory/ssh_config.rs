//! The user's OpenSSH client config as a host source: the concrete `Host` aliases it defines
//! (following `Include` the way ssh does) and, through `ssh -G`, the address, user and port
//! that ssh would really use for each of them.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use crate::glob::glob_match;
use crate::limited_read::{LimitedReadError, read_limited, size};

/// OpenSSH's own limit (`READCONF_MAX_DEPTH`); deeper nesting is almost always a loop.
const MAX_INCLUDE_DEPTH: usize = 16;

/// The largest config file read (each Include counts on its own); real ones are a few KiB.
const MAX_BYTES: u64 = 4 << 20;

/// Bounds how many `ssh -G` processes run at once so a big config does not fork-bomb the machine.
const MAX_PARALLEL: usize = 16;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum SshConfigError {
    #[error("ssh config {} not found", .path.display())]
    Missing { path: PathBuf },

    #[error("could not read ssh config {}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("ssh config {} is larger than {}", .path.display(), size(MAX_BYTES))]
    #[diagnostic(help("is this the right file? ssh configs are a few KiB"))]
    TooLarge { path: PathBuf },

    #[error("ssh config {} is not valid utf-8", .path.display())]
    #[diagnostic(help("save the file as utf-8 text"))]
    NotUtf8 { path: PathBuf },

    #[error("{}:{line}: unterminated quote", .path.display())]
    #[diagnostic(help("close the quote; ssh rejects this line too"))]
    Quote { path: PathBuf, line: usize },

    #[error("{}:{line}: `Include` uses `~` but $HOME is not set", .path.display())]
    NoHome { path: PathBuf, line: usize },

    #[error("`Include` nested more than {MAX_INCLUDE_DEPTH} deep at {}", .path.display())]
    #[diagnostic(help("look for a config file that includes itself, directly or through another"))]
    IncludeDepth { path: PathBuf },
}

/// Where and as whom ssh connects for one alias, after applying the whole config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub hostname: String,
    pub user: String,
    pub port: u16,
}

/// Whether `ssh` reads `config` as the user's config without being told to: ssh reads
/// `.ssh/config` in the home directory of the passwd database, whatever $HOME says.
pub fn read_by_ssh(config: &Path) -> bool {
    let Some(home) = passwd_home() else {
        return false;
    };
    match (
        fs::canonicalize(config),
        fs::canonicalize(home.join(".ssh/config")),
    ) {
        (Ok(given), Ok(default)) => given == default,
        _ => false,
    }
}

/// The current user's home directory in the passwd database.
fn passwd_home() -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let mut buffer = vec![0 as libc::c_char; 16 << 10];
    // SAFETY: a zeroed passwd (integers and null pointers) is a valid value to be filled.
    let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is to a live local of the size given; on success `entry`'s
    // strings point into `buffer`, which outlives their use below.
    let status = unsafe {
        libc::getpwuid_r(
            libc::getuid(),
            &mut entry,
            buffer.as_mut_ptr(),
            buffer.len(),
            &mut found,
        )
    };
    if status != 0 || found.is_null() || entry.pw_dir.is_null() {
        return None;
    }
    // SAFETY: getpwuid_r succeeded, so pw_dir is a NUL-terminated string inside `buffer`.
    let dir = unsafe { std::ffi::CStr::from_ptr(entry.pw_dir) };
    Some(PathBuf::from(std::ffi::OsStr::from_bytes(dir.to_bytes())))
}

/// Every concrete `Host` alias of an OpenSSH client config, in file order, following `Include`.
pub fn aliases(path: &Path) -> Result<Vec<String>, SshConfigError> {
    let home = std::env::var_os("HOME")
        .filter(|home| !home.is_empty())
        .map(PathBuf::from);
    aliases_with_home(path, home)
}

fn aliases_with_home(path: &Path, home: Option<PathBuf>) -> Result<Vec<String>, SshConfigError> {
    let mut walker = Walker {
        // ssh resolves a relative `Include` of a user config against ~/.ssh, i.e. the directory
        // that config lives in; using the given file's directory keeps that true for any path.
        base: path.parent().map(Path::to_path_buf).unwrap_or_default(),
        home,
        seen: HashSet::new(),
        aliases: Vec::new(),
    };
    walker.read_file(path, 0)?;
    Ok(walker.aliases)
}

struct Walker {
    base: PathBuf,
    home: Option<PathBuf>,
    seen: HashSet<String>,
    aliases: Vec<String>,
}

impl Walker {
    fn read_file(&mut self, path: &Path, depth: usize) -> Result<(), SshConfigError> {
        if depth > MAX_INCLUDE_DEPTH {
            return Err(SshConfigError::IncludeDepth {
                path: path.to_path_buf(),
            });
        }
        let included = depth > 0;
        let bytes = match read_limited(path, MAX_BYTES) {
            Ok(bytes) => bytes,
            Err(LimitedReadError::TooLarge { .. }) => {
                return Err(SshConfigError::TooLarge {
                    path: path.to_path_buf(),
                });
            }
            Err(LimitedReadError::Io(err)) => return self.unreadable(path, included, err),
        };
        let text = String::from_utf8(bytes).map_err(|_| SshConfigError::NotUtf8 {
            path: path.to_path_buf(),
        })?;

        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let Some((keyword, args)) =
                split_line(raw).map_err(|UnterminatedQuote| SshConfigError::Quote {
                    path: path.to_path_buf(),
                    line,
                })?
            else {
                continue;
            };
            if keyword.eq_ignore_ascii_case("host") {
                for pattern in args {
                    if is_concrete(&pattern) && self.seen.insert(pattern.clone()) {
                        self.aliases.push(pattern);
                    }
                }
            } else if keyword.eq_ignore_ascii_case("include") {
                // Inside a Host/Match block ssh only reads the include when the block
                // matches; every alias it defines is still one the user can connect to.
                for arg in &args {
                    for file in self.include_targets(arg, path, line)? {
                        self.read_file(&file, depth + 1)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// A file that cannot be opened: fine for an Include (ssh skips it), an error at the top.
    fn unreadable(
        &self,
        path: &Path,
        included: bool,
        err: io::Error,
    ) -> Result<(), SshConfigError> {
        match err.kind() {
            // ssh silently skips included files it cannot open (a dangling symlink, a
            // directory matched by a glob); only the top-level file has to exist.
            io::ErrorKind::NotFound | io::ErrorKind::IsADirectory if included => Ok(()),
            io::ErrorKind::NotFound => Err(SshConfigError::Missing {
                path: path.to_path_buf(),
            }),
            _ => Err(SshConfigError::Read {
                path: path.to_path_buf(),
                source: err,
            }),
        }
    }

    fn include_targets(
        &self,
        arg: &str,
        file: &Path,
        line: usize,
    ) -> Result<Vec<PathBuf>, SshConfigError> {
        let pattern = match arg.strip_prefix('~') {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => {
                let home = self.home.as_ref().ok_or_else(|| SshConfigError::NoHome {
                    path: file.to_path_buf(),
                    line,
                })?;
                home.join(rest.trim_start_matches('/'))
            }
            _ => PathBuf::from(arg),
        };
        let pattern = if pattern.is_absolute() {
            pattern
        } else {
            self.base.join(pattern)
        };
        Ok(glob(&pattern))
    }
}

struct UnterminatedQuote;

/// Splits a config line into its keyword and arguments; `None` for blank and comment lines.
fn split_line(raw: &str) -> Result<Option<(&str, Vec<String>)>, UnterminatedQuote> {
    let line = raw.trim_start();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let end = line
        .find(|c: char| c.is_ascii_whitespace() || c == '=')
        .unwrap_or(line.len());
    let (keyword, rest) = line.split_at(end);
    let rest = rest.trim_start();
    let rest = rest.strip_prefix('=').unwrap_or(rest);
    Ok(Some((keyword, split_args(rest)?)))
}

/// Word splitting as OpenSSH's `argv_split` does it: single or double quotes group words,
/// a backslash escapes a quote, a backslash or (outside quotes) a space, and a word starting
/// with `#` begins a trailing comment.
fn split_args(text: &str) -> Result<Vec<String>, UnterminatedQuote> {
    let mut args = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(char::is_ascii_whitespace).is_some() {}
        match chars.peek() {
            None | Some('#') => return Ok(args),
            Some(_) => {}
        }
        let mut arg = String::new();
        let mut quote = None;
        while let Some(c) = chars.next() {
            match (c, quote) {
                ('\\', _) => {
                    let escaped = chars.next_if(|&next| {
                        matches!(next, '\'' | '"' | '\\') || (quote.is_none() && next == ' ')
                    });
                    arg.push(escaped.unwrap_or('\\'));
                }
                (c, None) if c.is_ascii_whitespace() => break,
                ('"' | '\'', None) => quote = Some(c),
                (c, Some(open)) if c == open => quote = None,
                (c, _) => arg.push(c),
            }
        }
        if quote.is_some() {
            return Err(UnterminatedQuote);
        }
        args.push(arg);
    }
}

/// A `Host` pattern names one reachable host only if it has no wildcard, negation or token.
fn is_concrete(pattern: &str) -> bool {
    !pattern.is_empty() && !pattern.contains(['*', '?', '!', '%'])
}

/// Expands `*`, `?` and `[…]` per path component like glob(3): entries sorted by name, dot files
/// only matched by a pattern that itself starts with a dot, and no match is an empty list.
fn glob(pattern: &Path) -> Vec<PathBuf> {
    let mut found = vec![PathBuf::new()];
    for component in pattern.components() {
        let part = component.as_os_str();
        let Some(wildcard) = part.to_str().filter(|text| text.contains(['*', '?', '['])) else {
            for path in &mut found {
                path.push(part);
            }
            continue;
        };
        found = found
            .iter()
            .flat_map(|dir| matching_entries(dir, wildcard))
            .collect();
    }
    // Like glob(3), a pattern without wildcards only yields a path that exists.
    found.retain(|path| path.symlink_metadata().is_ok());
    found
}

fn matching_entries(dir: &Path, pattern: &str) -> Vec<PathBuf> {
    let listed = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let Ok(entries) = fs::read_dir(listed) else {
        return Vec::new();
    };
    let mut names: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.file_name())
        .filter(|name| {
            let name = name.to_string_lossy();
            (pattern.starts_with('.') || !name.starts_with('.')) && glob_match(pattern, &name)
        })
        .collect();
    names.sort();
    names.into_iter().map(|name| dir.join(name)).collect()
}

/// What OpenSSH would really use for each alias: runs `ssh -G [-F config] ALIAS` for each alias,
/// several at once (bounded: at most 16 processes at a time, using std::thread + std::process),
/// parses hostname/user/port from its output. An alias whose `ssh -G` fails is left out of the map
/// and its error is returned in the second element (alias, message) so the caller can warn.
pub fn resolve(
    config: Option<&Path>,
    aliases: &[String],
) -> (HashMap<String, Resolved>, Vec<(String, String)>) {
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(alias) = aliases.get(index) else {
                return done;
            };
            done.push((index, ssh_g(config, alias)));
        }
    };
    let mut outcomes = thread::scope(|scope| {
        // The calling thread is one of the workers, so the work still gets done (just
        // serially) if the system refuses to start more threads.
        let helpers: Vec<_> = (1..aliases.len().min(MAX_PARALLEL))
            .filter_map(|_| thread::Builder::new().spawn_scoped(scope, work).ok())
            .collect();
        let mut outcomes = work();
        for helper in helpers {
            match helper.join() {
                Ok(done) => outcomes.extend(done),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        outcomes
    });
    outcomes.sort_by_key(|(index, _)| *index);

    let mut resolved = HashMap::new();
    let mut failed = Vec::new();
    for (index, outcome) in outcomes {
        let alias = aliases[index].clone();
        match outcome {
            Ok(found) => {
                resolved.insert(alias, found);
            }
            Err(message) => failed.push((alias, message)),
        }
    }
    (resolved, failed)
}

fn ssh_g(config: Option<&Path>, alias: &str) -> Result<Resolved, String> {
    let mut command = Command::new("ssh");
    // -T because ssh 9.x warns on stderr about not allocating a pseudo-terminal even with -G.
    command.args(["-G", "-T"]);
    if let Some(config) = config {
        command.arg("-F").arg(config);
    }
    // `--` keeps an alias that starts with `-` from being read as an ssh option.
    command.arg("--").arg(alias).stdin(Stdio::null());
    let output = command
        .output()
        .map_err(|err| format!("could not run ssh -G: {err}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = stderr
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect();
        return Err(if lines.is_empty() {
            format!("ssh -G failed ({})", output.status)
        } else {
            lines.join("; ")
        });
    }
    parse_ssh_g(&String::from_utf8_lossy(&output.stdout))
}

/// Reads the effective settings `ssh -G` prints as lowercase `key value` lines.
fn parse_ssh_g(output: &str) -> Result<Resolved, String> {
    let (mut hostname, mut user, mut port) = (None, None, None);
    for line in output.lines() {
        let Some((key, value)) = line.split_once(' ') else {
            continue;
        };
        let slot = match key {
            "hostname" => &mut hostname,
            "user" => &mut user,
            "port" => &mut port,
            _ => continue,
        };
        slot.get_or_insert(value.trim());
    }
    let hostname = hostname
        .filter(|value| !value.is_empty())
        .ok_or("ssh -G printed no hostname")?;
    let user = user
        .filter(|value| !value.is_empty())
        .ok_or("ssh -G printed no user")?;
    let port = port.ok_or("ssh -G printed no port")?;
    let port = port
        .parse()
        .map_err(|_| format!("ssh -G printed an invalid port {port:?}"))?;
    Ok(Resolved {
        hostname: hostname.to_owned(),
        user: user.to_owned(),
        port,
    })
}

#[cfg(test)]
mod tests;
