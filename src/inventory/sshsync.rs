//! Host groups of sshsync (a Python CLI users migrate from), read from its YAML config so
//! those groups keep working in tsync without being rewritten.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::{ScanError, Yaml, YamlLoader};

use crate::limited_read::{LimitedReadError, read_limited, size};

/// The largest config read; sshsync's own are a few KiB.
const MAX_BYTES: u64 = 1 << 20;
/// The deepest nesting of lists and maps read: a config needs three levels, and the YAML
/// loader recurses once per level.
const MAX_DEPTH: usize = 32;
/// What the loaded document may weigh, aliases expanded (each value counts 16 bytes plus
/// its text): the loader copies an alias's value wherever it is used.
const MAX_EXPANDED: u64 = 16 << 20;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum SshsyncError {
    #[error("sshsync config {} not found", .path.display())]
    Missing { path: PathBuf },

    #[error("could not read sshsync config {}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("sshsync config {} is larger than {}", .path.display(), size(MAX_BYTES))]
    #[diagnostic(help("is this the right file? sshsync configs are a few KiB"))]
    TooLarge { path: PathBuf },

    #[error("sshsync config {}:{line}:{column}: yaml aliases expand to more than {}", .path.display(), size(MAX_EXPANDED))]
    #[diagnostic(help(
        "aliases (`*name`) that repeat aliases grow exponentially (a \"billion laughs\"); \
         write the hosts out in full"
    ))]
    Expansion {
        path: PathBuf,
        line: usize,
        column: usize,
    },

    #[error("sshsync config {}:{line}:{column} nests deeper than {MAX_DEPTH} levels", .path.display())]
    #[diagnostic(help("an sshsync config is `groups:` with a list of hosts per group"))]
    TooDeep {
        path: PathBuf,
        line: usize,
        column: usize,
    },

    #[error("sshsync config {} is not valid utf-8", .path.display())]
    #[diagnostic(help("save the file as utf-8 text"))]
    NotUtf8 { path: PathBuf },

    #[error("invalid yaml in sshsync config {}", .path.display())]
    Yaml {
        path: PathBuf,
        #[source]
        source: ScanError,
    },

    #[error("sshsync config {} is not a yaml map", .path.display())]
    #[diagnostic(help("an sshsync config starts with `groups:`"))]
    NotAMap { path: PathBuf },

    #[error("`groups` in sshsync config {} is not a map", .path.display())]
    #[diagnostic(help("write each group as `name: [host, ...]` under `groups:`"))]
    GroupsNotAMap { path: PathBuf },

    #[error("a group name in sshsync config {} is {found}", .path.display())]
    #[diagnostic(help("group names are plain words such as `web`"))]
    GroupName { path: PathBuf, found: &'static str },

    #[error("group `{group}` in sshsync config {} is not a list of hosts", .path.display())]
    #[diagnostic(help("write the members as `{group}: [host, ...]` or one `- host` per line"))]
    MembersNotAList { path: PathBuf, group: String },

    #[error("a member of group `{group}` in sshsync config {} is {found}, not a host name", .path.display())]
    Member {
        path: PathBuf,
        group: String,
        found: &'static str,
    },

    #[error("member `{value}` of group `{group}` in sshsync config {} is a yaml boolean, not a host name", .path.display())]
    #[diagnostic(help(
        "quote it (\"{value}\"); yaml reads unquoted true/false as booleans, and yaml 1.1 tools \
         such as sshsync's PyYAML also turn yes/no/on/off into booleans, so a host named `no` \
         may have been written back as `false`"
    ))]
    BooleanMember {
        path: PathBuf,
        group: String,
        value: bool,
    },
}

/// The `groups:` map of an sshsync config file, in file order: (group name, member host names).
pub fn groups(path: &Path) -> Result<Vec<(String, Vec<String>)>, SshsyncError> {
    let bytes = read_limited(path, MAX_BYTES).map_err(|error| match error {
        LimitedReadError::TooLarge { .. } => SshsyncError::TooLarge {
            path: path.to_path_buf(),
        },
        LimitedReadError::Io(source) if source.kind() == io::ErrorKind::NotFound => {
            SshsyncError::Missing {
                path: path.to_path_buf(),
            }
        }
        LimitedReadError::Io(source) => SshsyncError::Read {
            path: path.to_path_buf(),
            source,
        },
    })?;
    let text = String::from_utf8(bytes).map_err(|_| SshsyncError::NotUtf8 {
        path: path.to_path_buf(),
    })?;
    parse(&text, path)
}

/// Where sshsync keeps its config for this user: $XDG_CONFIG_HOME/sshsync/config.yml, else $HOME/.config/sshsync/config.yml
pub fn default_path() -> Option<PathBuf> {
    config_path(
        std::env::var_os("XDG_CONFIG_HOME"),
        std::env::var_os("HOME"),
    )
}

fn config_path(xdg_config_home: Option<OsString>, home: Option<OsString>) -> Option<PathBuf> {
    let config_dir = xdg_config_home
        .map(PathBuf::from)
        // The XDG spec says a relative value is invalid and must be ignored.
        .filter(|dir| dir.is_absolute())
        .or_else(|| {
            home.filter(|home| !home.is_empty())
                .map(|home| PathBuf::from(home).join(".config"))
        })?;
    Some(config_dir.join("sshsync").join("config.yml"))
}

fn parse(text: &str, path: &Path) -> Result<Vec<(String, Vec<String>)>, SshsyncError> {
    check_shape(text, path)?;
    let documents = YamlLoader::load_from_str(text).map_err(|source| SshsyncError::Yaml {
        path: path.to_path_buf(),
        source,
    })?;
    let groups = match documents.into_iter().next() {
        None | Some(Yaml::Null) => return Ok(Vec::new()),
        Some(Yaml::Hash(mut top)) => top.remove(&Yaml::String("groups".into())),
        Some(_) => {
            return Err(SshsyncError::NotAMap {
                path: path.to_path_buf(),
            });
        }
    };
    let groups = match groups {
        None | Some(Yaml::Null) => return Ok(Vec::new()),
        Some(Yaml::Hash(groups)) => groups,
        Some(_) => {
            return Err(SshsyncError::GroupsNotAMap {
                path: path.to_path_buf(),
            });
        }
    };

    groups
        .into_iter()
        .map(|(name, members)| {
            let group = scalar_text(&name).map_err(|found| SshsyncError::GroupName {
                path: path.to_path_buf(),
                found,
            })?;
            let members = match members {
                // `web:` with nothing after it is a group that is still empty.
                Yaml::Null => Vec::new(),
                Yaml::Array(members) => members
                    .iter()
                    .map(|member| member_name(member, &group, path))
                    .collect::<Result<_, _>>()?,
                _ => {
                    return Err(SshsyncError::MembersNotAList {
                        path: path.to_path_buf(),
                        group,
                    });
                }
            };
            Ok((group, members))
        })
        .collect()
}

/// Reads the YAML's events once, without building anything, and refuses what would make
/// loading it unbounded: aliases that expand past [`MAX_EXPANDED`] (a 480-byte "billion
/// laughs" file of nested aliases took `tsync plan` past 19 GB) and nesting deeper than
/// [`MAX_DEPTH`] (the loader recurses per level).
fn check_shape(text: &str, path: &Path) -> Result<(), SshsyncError> {
    let mut parser = Parser::new_from_str(text);
    // The weight of the document so far, aliases expanded, and of each anchored value.
    let mut weight: u64 = 0;
    let mut anchored: HashMap<usize, u64> = HashMap::new();
    // Lists and maps open: their anchor and the weight when they started.
    let mut open: Vec<(usize, u64)> = Vec::new();
    loop {
        let (event, mark) = parser.next_token().map_err(|source| SshsyncError::Yaml {
            path: path.to_path_buf(),
            source,
        })?;
        match event {
            Event::StreamEnd => return Ok(()),
            Event::Scalar(text, _, anchor, _) => {
                let own = 16 + text.len() as u64;
                weight += own;
                if anchor > 0 {
                    anchored.insert(anchor, own);
                }
            }
            Event::Alias(anchor) => weight += anchored.get(&anchor).copied().unwrap_or(0),
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if open.len() == MAX_DEPTH {
                    return Err(SshsyncError::TooDeep {
                        path: path.to_path_buf(),
                        line: mark.line(),
                        column: mark.col() + 1,
                    });
                }
                open.push((anchor, weight));
                weight += 16;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((anchor, start)) = open.pop()
                    && anchor > 0
                {
                    anchored.insert(anchor, weight - start);
                }
            }
            _ => {}
        }
        if weight > MAX_EXPANDED {
            return Err(SshsyncError::Expansion {
                path: path.to_path_buf(),
                line: mark.line(),
                column: mark.col() + 1,
            });
        }
    }
}

fn member_name(member: &Yaml, group: &str, path: &Path) -> Result<String, SshsyncError> {
    if let Yaml::Boolean(value) = member {
        return Err(SshsyncError::BooleanMember {
            path: path.to_path_buf(),
            group: group.to_owned(),
            value: *value,
        });
    }
    scalar_text(member).map_err(|found| SshsyncError::Member {
        path: path.to_path_buf(),
        group: group.to_owned(),
        found,
    })
}

/// The text of a scalar that can name a host or group; numbers count because YAML turns an
/// unquoted host such as `42` or `10.1` into one. The error describes what was found instead.
fn scalar_text(value: &Yaml) -> Result<String, &'static str> {
    match value {
        Yaml::String(text) | Yaml::Real(text) if !text.is_empty() => Ok(text.clone()),
        Yaml::String(_) => Err("an empty string"),
        Yaml::Integer(number) => Ok(number.to_string()),
        Yaml::Boolean(_) => Err("a boolean"),
        Yaml::Null => Err("empty"),
        Yaml::Array(_) => Err("a list"),
        Yaml::Hash(_) => Err("a map"),
        Yaml::Real(_) | Yaml::Alias(_) | Yaml::BadValue => Err("an unsupported yaml value"),
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sshsync");

    fn fixture(name: &str) -> PathBuf {
        Path::new(FIXTURES).join(name)
    }

    fn parsed(text: &str) -> Result<Vec<(String, Vec<String>)>, SshsyncError> {
        parse(text, Path::new("/cfg/config.yml"))
    }

    fn group(name: &str, members: &[&str]) -> (String, Vec<String>) {
        (
            name.to_owned(),
            members.iter().map(|m| m.to_string()).collect(),
        )
    }

    #[test]
    fn reads_groups_in_file_order() {
        let found = groups(&fixture("config.yml")).expect("fixture parses");
        assert_eq!(
            found,
            [
                group("web", &["web-1", "web-2"]),
                group("db", &["db-1", "db-2"]),
                group("cache", &["cache-1"]),
                group("legacy", &["42", "10.20", "old box"]),
                group("staging", &[]),
            ]
        );
    }

    #[test]
    fn empty_groups_is_empty() {
        assert!(
            groups(&fixture("empty-groups.yml"))
                .expect("parses")
                .is_empty()
        );
        assert!(parsed("").expect("parses").is_empty());
        assert!(parsed("host_auth: {}\n").expect("parses").is_empty());
    }

    #[test]
    fn boolean_member_is_an_error_with_help() {
        let path = fixture("boolean-member.yml");
        let err = groups(&path).expect_err("boolean member");
        assert!(
            matches!(&err, SshsyncError::BooleanMember { group, value: false, .. } if group == "ops"),
            "{err:?}"
        );
        assert!(err.to_string().contains("boolean-member.yml"));
        let help = miette::Diagnostic::help(&err).map(|h| h.to_string());
        assert!(help.is_some_and(|h| h.contains("yes/no")));
    }

    #[test]
    fn missing_file_is_missing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.yml");
        assert!(matches!(groups(&path), Err(SshsyncError::Missing { path: p }) if p == path));
    }

    #[test]
    fn unreadable_and_binary_files_are_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(matches!(groups(dir.path()), Err(SshsyncError::Read { .. })));
        let binary = dir.path().join("config.yml");
        fs::write(&binary, b"groups:\n  web: [\xff]\n").expect("write");
        assert!(matches!(groups(&binary), Err(SshsyncError::NotUtf8 { .. })));
    }

    #[test]
    fn bad_shapes_are_errors_naming_path_and_group() {
        let err = parsed("groups: [web-1]\n").expect_err("list");
        assert!(matches!(err, SshsyncError::GroupsNotAMap { .. }));
        assert!(err.to_string().contains("/cfg/config.yml"));

        let err = parsed("- a\n- b\n").expect_err("top-level list");
        assert!(matches!(err, SshsyncError::NotAMap { .. }));

        let err = parsed("groups:\n  web: web-1\n").expect_err("scalar members");
        assert!(matches!(&err, SshsyncError::MembersNotAList { group, .. } if group == "web"));

        let err = parsed("groups:\n  web:\n    - [a, b]\n").expect_err("nested list");
        assert!(matches!(
            &err,
            SshsyncError::Member {
                found: "a list",
                ..
            }
        ));
        assert_eq!(
            err.to_string(),
            "a member of group `web` in sshsync config /cfg/config.yml is a list, not a host name"
        );

        let err = parsed("groups:\n  web:\n    -\n").expect_err("null member");
        assert!(matches!(err, SshsyncError::Member { found: "empty", .. }));

        let err = parsed("groups:\n  web: ['']\n").expect_err("empty member");
        assert!(matches!(err, SshsyncError::Member { .. }));

        let err = parsed("groups:\n  true: [a]\n").expect_err("boolean group name");
        assert!(matches!(
            err,
            SshsyncError::GroupName {
                found: "a boolean",
                ..
            }
        ));

        let err = parsed("groups:\n  web: [TRUE]\n").expect_err("boolean member");
        assert!(matches!(
            err,
            SshsyncError::BooleanMember { value: true, .. }
        ));
    }

    #[test]
    fn invalid_yaml_is_an_error_not_a_panic() {
        for text in [
            "groups: [a",
            "groups:\n  web: {a: [}\n",
            "groups:\n\t- x: : :",
        ] {
            assert!(parsed(text).is_err(), "{text:?}");
        }
        let err = parsed("groups:\n  web: [a, b\n").expect_err("unclosed list");
        assert!(matches!(err, SshsyncError::Yaml { .. }));
    }

    #[test]
    fn anchors_and_quoted_names_work() {
        let found = parsed("groups:\n  a: &hosts [x, y]\n  b: *hosts\n  c: [\"no\", 'true']\n")
            .expect("parses");
        assert_eq!(
            found,
            [
                group("a", &["x", "y"]),
                group("b", &["x", "y"]),
                group("c", &["no", "true"]),
            ]
        );
    }

    #[test]
    fn default_path_prefers_xdg_config_home() {
        let some = |s: &str| Some(OsString::from(s));
        assert_eq!(
            config_path(some("/xdg"), some("/home/u")),
            Some(PathBuf::from("/xdg/sshsync/config.yml"))
        );
        assert_eq!(
            config_path(None, some("/home/u")),
            Some(PathBuf::from("/home/u/.config/sshsync/config.yml"))
        );
        assert_eq!(
            config_path(some("relative"), some("/home/u")),
            Some(PathBuf::from("/home/u/.config/sshsync/config.yml"))
        );
        assert_eq!(
            config_path(some(""), some("/home/u")),
            Some(PathBuf::from("/home/u/.config/sshsync/config.yml"))
        );
        assert_eq!(config_path(None, None), None);
        assert_eq!(config_path(None, some("")), None);
    }
}
