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

use crate::limited_read::{LimitedReadError, read_limited, size};
use crate::glob::glob_match;

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
mod tests {
    use super::*;

    const BASIC: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/ssh/basic/config"
    );
    const LOOP: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/ssh/loop/config"
    );

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create fixture dir");
        }
        fs::write(&path, text).expect("write fixture");
        path
    }

    fn split(line: &str) -> Option<(String, Vec<String>)> {
        split_line(line)
            .unwrap_or_else(|UnterminatedQuote| panic!("unterminated quote in {line:?}"))
            .map(|(keyword, args)| (keyword.to_owned(), args))
    }

    #[test]
    fn the_passwd_home_config_is_read_by_ssh_and_another_is_not() {
        let other = tempfile::tempdir().expect("tempdir");
        let config = other.path().join("config");
        fs::write(&config, "Host x\n").expect("write");
        assert!(!read_by_ssh(&config));
        if let Some(home) = passwd_home() {
            let own = home.join(".ssh/config");
            assert_eq!(read_by_ssh(&own), own.exists());
        }
    }

    #[test]
    fn lists_aliases_in_order_following_includes() {
        let found = aliases(Path::new(BASIC)).expect("basic fixture parses");
        assert_eq!(
            found,
            [
                "bastion",
                "web-1",
                "web-2",
                "db-1",
                "db-2",
                "cache-1",
                "ci-runner",
                "app-1",
                "app-nested",
                "app-2",
                "extra-1",
                "last"
            ]
        );
    }

    #[test]
    fn include_loop_stops_at_depth_limit() {
        let err = aliases(Path::new(LOOP)).expect_err("a self-including config must fail");
        assert!(
            matches!(&err, SshConfigError::IncludeDepth { path } if path.ends_with("loop/config")),
            "{err:?}"
        );
    }

    #[test]
    fn include_depth_sixteen_is_allowed_seventeen_is_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        for level in 0..=17 {
            let next = level + 1;
            write(
                dir.path(),
                &format!("f{level}"),
                &format!("Host h{level}\nInclude f{next}\n"),
            );
        }
        let err = aliases(&dir.path().join("f0")).expect_err("18 levels is too deep");
        assert!(
            matches!(&err, SshConfigError::IncludeDepth { path } if path.ends_with("f17")),
            "{err:?}"
        );

        let found = aliases(&dir.path().join("f1")).expect("17 levels (depth 16) is fine");
        assert_eq!(found.len(), 17);
        assert_eq!(found.first().map(String::as_str), Some("h1"));
        assert_eq!(found.last().map(String::as_str), Some("h17"));
    }

    #[test]
    fn missing_top_level_file_is_missing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nope");
        let err = aliases(&path).expect_err("missing file");
        assert!(
            matches!(&err, SshConfigError::Missing { path: p } if *p == path),
            "{err:?}"
        );
    }

    #[test]
    fn unreadable_or_binary_files_are_errors_naming_the_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let binary = dir.path().join("binary");
        fs::write(&binary, b"Host ok\nHost \xff\xfe\n").expect("write");
        let err = aliases(&binary).expect_err("not utf-8");
        assert!(matches!(&err, SshConfigError::NotUtf8 { path } if *path == binary));
        assert!(err.to_string().contains("binary"));

        let err = aliases(dir.path()).expect_err("a directory is not a config");
        assert!(matches!(&err, SshConfigError::Read { .. }), "{err:?}");

        let top = write(dir.path(), "top", "Include binary\n");
        let err = aliases(&top).expect_err("included binary file");
        assert!(matches!(&err, SshConfigError::NotUtf8 { path } if *path == binary));
    }

    #[test]
    fn unterminated_quote_reports_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(dir.path(), "config", "Host a\n\nHost \"b c\n");
        let err = aliases(&path).expect_err("bad quote");
        assert!(
            matches!(&err, SshConfigError::Quote { line: 3, .. }),
            "{err:?}"
        );
        assert!(err.to_string().ends_with(":3: unterminated quote"));
    }

    #[test]
    fn include_skips_directories_dot_files_and_missing_targets() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "d/b.conf", "Host b\n");
        write(dir.path(), "d/a.conf", "Host a\n");
        write(dir.path(), "d/.hidden.conf", "Host hidden\n");
        write(dir.path(), "d/sub.conf/inner", "Host inner\n");
        write(dir.path(), "d/.dot.conf", "Host dot\n");
        let top = write(
            dir.path(),
            "config",
            "Include d/*.conf nothing-here d/none-*\ninclude=d/.dot*\n",
        );
        assert_eq!(aliases(&top).expect("parses"), ["a", "b", "dot"]);
    }

    #[test]
    fn include_globs_in_directory_components_and_absolute_paths() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "x1/hosts", "Host x1\n");
        write(dir.path(), "x2/hosts", "Host x2\n");
        write(dir.path(), "y/hosts", "Host y\n");
        let absolute = dir.path().join("y/hosts");
        let top = write(
            dir.path(),
            "config",
            &format!("Include x?/hosts \"{}\"\n", absolute.display()),
        );
        assert_eq!(aliases(&top).expect("parses"), ["x1", "x2", "y"]);
    }

    #[test]
    fn tilde_expands_to_home() {
        let home = tempfile::tempdir().expect("tempdir");
        let conf = tempfile::tempdir().expect("tempdir");
        write(home.path(), "extra/one.conf", "Host from-home\n");
        let top = write(conf.path(), "config", "Include ~/extra/*.conf\n");
        let found = aliases_with_home(&top, Some(home.path().to_path_buf())).expect("parses");
        assert_eq!(found, ["from-home"]);

        let err = aliases_with_home(&top, None).expect_err("no home");
        assert!(matches!(err, SshConfigError::NoHome { line: 1, .. }));
    }

    #[test]
    fn splits_keywords_and_arguments_like_openssh() {
        let owned = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        assert_eq!(split("   "), None);
        assert_eq!(split("  # Host nope"), None);
        assert_eq!(split("Host a b"), Some(("Host".into(), owned(&["a", "b"]))));
        assert_eq!(split("Host=a"), Some(("Host".into(), owned(&["a"]))));
        assert_eq!(
            split("\tHost = a\t b "),
            Some(("Host".into(), owned(&["a", "b"])))
        );
        assert_eq!(
            split(r#"Host "a b" 'c"d' e\ f g\"h # tail"#),
            Some(("Host".into(), owned(&["a b", "c\"d", "e f", "g\"h"])))
        );
        assert_eq!(split(r"Host a\b"), Some(("Host".into(), owned(&[r"a\b"]))));
        assert_eq!(split("Host a#b"), Some(("Host".into(), owned(&["a#b"]))));
        assert_eq!(split("Host"), Some(("Host".into(), owned(&[]))));
        assert!(split_line("Host 'a").is_err());
    }

    #[test]
    fn concrete_patterns() {
        for pattern in ["web-1", "10.0.0.1", "db.example.com"] {
            assert!(is_concrete(pattern), "{pattern}");
        }
        for pattern in ["", "*", "web-?", "!web-1", "%h.example.com", "*.internal"] {
            assert!(!is_concrete(pattern), "{pattern}");
        }
    }

    #[test]
    fn parses_ssh_g_output() {
        // Captured from `ssh -G -T -F config web-1` (OpenSSH 9.2), trimmed.
        let sample = "host web-1\nuser deploy\nhostname 10.0.0.5\nport 2222\n\
                      addressfamily any\nbatchmode no\nuserknownhostsfile /root/.ssh/known_hosts \
                      /root/.ssh/known_hosts2\nidentityfile ~/.ssh/id_rsa\n";
        assert_eq!(
            parse_ssh_g(sample),
            Ok(Resolved {
                hostname: "10.0.0.5".into(),
                user: "deploy".into(),
                port: 2222,
            })
        );
        assert!(parse_ssh_g("").is_err());
        assert!(parse_ssh_g("hostname h\nuser u\n").is_err());
        assert_eq!(
            parse_ssh_g("hostname h\nuser u\nport 99999\n"),
            Err("ssh -G printed an invalid port \"99999\"".to_owned())
        );
    }

    #[test]
    fn resolves_through_real_ssh() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = write(
            dir.path(),
            "config",
            "Host web-1\n  HostName 10.0.0.5\n  User deploy\n  Port 2222\n\
             Host *\n  User fallback\n",
        );

        let mut wanted: Vec<String> = (0..40).map(|i| format!("h{i}")).collect();
        wanted.push("web-1".into());
        wanted.push("bad host".into());
        wanted.push("-oProxyCommand=false".into());

        let (resolved, failed) = resolve(Some(&config), &wanted);
        assert_eq!(
            resolved.get("web-1"),
            Some(&Resolved {
                hostname: "10.0.0.5".into(),
                user: "deploy".into(),
                port: 2222,
            })
        );
        for i in 0..40 {
            let alias = format!("h{i}");
            assert_eq!(
                resolved.get(&alias),
                Some(&Resolved {
                    hostname: alias.clone(),
                    user: "fallback".into(),
                    port: 22,
                })
            );
        }
        let failed_aliases: Vec<&str> = failed.iter().map(|(alias, _)| alias.as_str()).collect();
        assert_eq!(failed_aliases, ["bad host", "-oProxyCommand=false"]);
        assert!(failed[0].1.contains("invalid characters"), "{failed:?}");
        assert_eq!(resolved.len(), 41);
    }

    #[test]
    fn resolve_of_nothing_is_empty() {
        let (resolved, failed) = resolve(None, &[]);
        assert!(resolved.is_empty() && failed.is_empty());
    }
}
