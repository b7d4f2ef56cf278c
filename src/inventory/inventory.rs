//! Every host and group tsync knows, merged from the user's sources in a fixed order:
//! ssh config aliases, Tailscale peers, sshsync groups, inventory files, the playbook's groups.
//! Inventory files are KDL like playbooks: the command layer reads and parses them, so the
//! inventory only merges their groups and never depends on the playbook parser.
//! A later group definition with the same name replaces an earlier one, so a playbook can
//! redefine a group it shares with sshsync.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use miette::SourceSpan;

use super::group_entry::GroupEntry;
use super::host::Host;
use super::{ssh_config, sshsync, tailscale};
use crate::diagnostic::{Code, Diagnostic, Diagnostics, Source};
use crate::glob::glob_match;
use crate::playbook::Group;
use crate::suggest::did_you_mean;

/// Where to read hosts and groups from (the command line's inventory flags).
#[derive(Debug, Clone, Default)]
pub struct InventoryOptions {
    /// `--ssh-config`; None means `~/.ssh/config` if it exists.
    pub ssh_config: Option<PathBuf>,
    /// `--tailscale-status`: read this file instead of asking `tailscale`.
    pub tailscale_status: Option<PathBuf>,
    /// `--no-tailscale`.
    pub no_tailscale: bool,
}

/// Whether Tailscale facts (tags, os, online) are there to select on.
#[derive(Debug, Clone, PartialEq)]
pub enum Tailscale {
    Running,
    /// Installed but not connected: `BackendState` as reported.
    NotRunning(String),
    /// Not installed, turned off, or it failed: why.
    Unavailable(String),
}

impl Tailscale {
    /// Why Tailscale facts are missing, or None when they are there.
    pub fn why_not(&self) -> Option<String> {
        match self {
            Tailscale::Running => None,
            Tailscale::NotRunning(state) => {
                Some(format!("Tailscale is not running (its state is {state})"))
            }
            Tailscale::Unavailable(reason) => Some(reason.clone()),
        }
    }
}

#[derive(Debug)]
pub struct Inventory {
    hosts: Vec<Host>,
    index: HashMap<String, usize>,
    groups: BTreeMap<String, GroupEntry>,
    pub tailscale: Tailscale,
    /// The ssh config named with --ssh-config, passed on to `ssh -F` so it sees the same
    /// hosts; None means ssh's own defaults.
    pub ssh_config: Option<PathBuf>,
    /// Whether any source of hosts was found; without one, host names cannot be checked.
    pub has_sources: bool,
}

impl Inventory {
    /// Reads every source but the `--inventory` files (the command layer parses those and
    /// hands their groups to [`merge_file`](Self::merge_file)); problems with a source are
    /// returned as diagnostics (errors for sources the user named explicitly, warnings for
    /// the ones looked up by default).
    pub fn load(options: &InventoryOptions) -> (Inventory, Diagnostics) {
        let mut diagnostics = Diagnostics::default();
        let mut inventory = Inventory {
            hosts: Vec::new(),
            index: HashMap::new(),
            groups: BTreeMap::new(),
            tailscale: Tailscale::Unavailable("not asked".into()),
            ssh_config: None,
            has_sources: false,
        };

        let (config, explicit) = match &options.ssh_config {
            Some(path) => (Some(path.clone()), true),
            None => (home().map(|h| h.join(".ssh/config")), false),
        };
        if let Some(config) = config {
            match ssh_config::aliases(&config) {
                Ok(aliases) => {
                    // A config without hosts names nothing to check names against: "no
                    // hosts are known" says more than every selector matching nothing.
                    inventory.has_sources |= !aliases.is_empty();
                    for alias in aliases {
                        inventory.add_host(Host {
                            name: alias,
                            in_ssh_config: true,
                            ..Host::default()
                        });
                    }
                    // A config the user named is passed to ssh with -F. So is $HOME/.ssh/config
                    // when ssh would not read it on its own: ssh reads the config of the home
                    // in the passwd database, not $HOME (sudo -E, CI, tests), and `run` could
                    // not resolve the hosts `plan` listed. Otherwise no -F: without it, ssh
                    // also reads /etc/ssh/ssh_config, as the user's own `ssh` does.
                    if explicit || !ssh_config::read_by_ssh(&config) {
                        inventory.ssh_config = Some(config);
                    }
                }
                Err(ssh_config::SshConfigError::Missing { .. }) if !explicit => {}
                Err(e) => diagnostics.push(source_problem(explicit, Code::SshConfig, &e)),
            }
        }

        inventory.tailscale = if options.no_tailscale {
            Tailscale::Unavailable("Tailscale is turned off by --no-tailscale".into())
        } else {
            let status = match &options.tailscale_status {
                Some(path) => tailscale::Status::load(path).map(Some),
                None => tailscale::Status::query(),
            };
            match status {
                Ok(Some(status)) => inventory.add_tailscale(status, &mut diagnostics),
                Ok(None) => Tailscale::Unavailable("`tailscale` is not installed here".into()),
                Err(e) => {
                    diagnostics.push(source_problem(
                        options.tailscale_status.is_some(),
                        Code::Tailscale,
                        &e,
                    ));
                    Tailscale::Unavailable(format!("Tailscale could not be asked ({e})"))
                }
            }
        };

        if let Some(path) = sshsync::default_path() {
            match sshsync::groups(&path) {
                Ok(groups) => {
                    for (name, members) in groups {
                        let mut set = BTreeSet::new();
                        for member in members {
                            match inventory.index.get(&member) {
                                Some(&i) => {
                                    set.insert(i);
                                }
                                None => diagnostics.push(Diagnostic::warning(
                                    Code::UnknownHost,
                                    format!(
                                        "sshsync group `{name}` lists `{member}`, which is not in the ssh config"
                                    ),
                                )),
                            }
                        }
                        inventory.groups.insert(
                            name,
                            GroupEntry {
                                members: set,
                                origin: path.display().to_string(),
                                uses_tags: false,
                            },
                        );
                    }
                }
                Err(sshsync::SshsyncError::Missing { .. }) => {}
                Err(e) => diagnostics.push(source_problem(false, Code::Sshsync, &e)),
            }
        }

        (inventory, diagnostics)
    }

    fn add_host(&mut self, host: Host) -> usize {
        if let Some(&i) = self.index.get(&host.name) {
            return i;
        }
        self.index.insert(host.name.clone(), self.hosts.len());
        self.hosts.push(host);
        self.hosts.len() - 1
    }

    fn add_tailscale(
        &mut self,
        status: tailscale::Status,
        diagnostics: &mut Diagnostics,
    ) -> Tailscale {
        self.has_sources = true;
        if !status.is_running() {
            diagnostics.push(
                Diagnostic::warning(
                    Code::TailscaleNotRunning,
                    format!(
                        "Tailscale is {}: its peers, tags and online states are left out",
                        status.backend_state
                    ),
                )
                .help(if status.backend_state == "NeedsLogin" {
                    "run `tailscale up` to log in"
                } else {
                    "run `tailscale up` to connect"
                }),
            );
            return Tailscale::NotRunning(status.backend_state);
        }
        for peer in status.peers {
            // A peer is the same machine as an ssh alias when the alias is its short or full
            // MagicDNS name; then the alias keeps its ssh settings and gains the facts.
            let existing = self
                .index
                .get(&peer.name)
                .or_else(|| self.index.get(&peer.dns_name))
                .copied();
            let i = match existing {
                Some(i) => i,
                None => {
                    let connect_to = if peer.dns_name.is_empty() {
                        peer.ips.first().cloned()
                    } else {
                        Some(peer.dns_name.clone())
                    };
                    self.add_host(Host {
                        name: peer.name.clone(),
                        connect_to,
                        ..Host::default()
                    })
                }
            };
            let host = &mut self.hosts[i];
            host.tags = peer.tags;
            host.os = Some(peer.os);
            host.online = Some(peer.online);
            host.last_seen = peer.last_seen;
            host.path = peer.path;
            host.key_expiry = peer.key_expiry;
            host.key_expired = peer.key_expired;
        }
        Tailscale::Running
    }

    /// Merges the groups of one `--inventory` file, parsed from `source`, later groups
    /// replacing earlier ones of the same name. A file with groups is a source of hosts:
    /// from now on, names that match no host are reported. One without any (every group
    /// commented out, as `tsync init` writes them when it knows no host) names nothing.
    pub fn merge_file(&mut self, groups: &[Group], source: &Source) -> Diagnostics {
        self.has_sources |= !groups.is_empty();
        let mut diagnostics = Diagnostics::default();
        for group in groups {
            let entry = self.group_entry(group, source, &mut diagnostics);
            self.groups.insert(group.name.value.clone(), entry);
        }
        diagnostics
    }

    /// A group written in a playbook or an inventory file, its members resolved against the
    /// hosts known; problems point into `source`.
    pub(super) fn group_entry(
        &self,
        group: &Group,
        source: &Source,
        diagnostics: &mut Diagnostics,
    ) -> GroupEntry {
        let mut members = BTreeSet::new();
        for pattern in &group.hosts {
            if pattern.value.contains(['*', '?', '[']) {
                members.extend(self.matching(&pattern.value));
            } else if let Some(&i) = self.index.get(&pattern.value) {
                members.insert(i);
            } else if self.has_sources {
                diagnostics.push(self.unknown_host(&pattern.value, pattern.span, source));
            }
        }
        for tag in &group.tags {
            if let Some(why) = self.tailscale.why_not() {
                diagnostics.push(
                    Diagnostic::warning(
                        Code::TagWithoutTailscale,
                        format!(
                            "group `{}` selects by `{}`, but {why}",
                            group.name.value, tag.value
                        ),
                    )
                    .in_source(source)
                    .label(tag.span, "no Tailscale tags known")
                    .help("only the group's host names and patterns count until Tailscale is up"),
                );
            }
            members.extend(self.with_tag(&tag.value));
        }
        GroupEntry {
            members,
            origin: source.name.clone(),
            uses_tags: !group.tags.is_empty(),
        }
    }

    /// "`x` is not a known host" with the closest host name, pointing at `span` in `source`.
    fn unknown_host(&self, name: &str, span: SourceSpan, source: &Source) -> Diagnostic {
        let candidates = self.hosts.iter().map(|h| h.name.as_str());
        let help = match did_you_mean(name, candidates) {
            Some(s) => format!("did you mean `{s}`?"),
            None => {
                format!("add `Host {name}` to your ssh config, or define a group with that name")
            }
        };
        Diagnostic::error(Code::UnknownHost, format!("`{name}` is not a known host"))
            .in_source(source)
            .label(span, "unknown host")
            .help(help)
    }

    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }

    pub fn host(&self, i: usize) -> &Host {
        &self.hosts[i]
    }

    pub fn host_index(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// Members of a group, with whether the group selects by tag.
    pub fn group(&self, name: &str) -> Option<(&BTreeSet<usize>, bool)> {
        self.groups.get(name).map(|g| (&g.members, g.uses_tags))
    }

    pub fn groups(&self) -> impl Iterator<Item = (&str, &BTreeSet<usize>, &str)> {
        self.groups
            .iter()
            .map(|(name, g)| (name.as_str(), &g.members, g.origin.as_str()))
    }

    pub fn all(&self) -> BTreeSet<usize> {
        (0..self.hosts.len()).collect()
    }

    pub fn matching(&self, pattern: &str) -> BTreeSet<usize> {
        self.indices(|h| glob_match(pattern, &h.name))
    }

    pub fn with_tag(&self, tag: &str) -> BTreeSet<usize> {
        self.indices(|h| h.tags.iter().any(|t| t == tag))
    }

    pub fn with_os(&self, os: &str) -> BTreeSet<usize> {
        self.indices(|h| h.os.as_deref() == Some(os))
    }

    pub fn with_online(&self, online: bool) -> BTreeSet<usize> {
        self.indices(|h| h.online == Some(online))
    }

    fn indices(&self, keep: impl Fn(&Host) -> bool) -> BTreeSet<usize> {
        self.hosts
            .iter()
            .enumerate()
            .filter(|(_, h)| keep(h))
            .map(|(i, _)| i)
            .collect()
    }

    /// OpenSSH's effective HostName, User and Port for some hosts (from `ssh -G`), for the
    /// `{{address}}`, `{{user}}` and `{{port}}` variables.
    pub fn resolve(
        &self,
        hosts: &BTreeSet<usize>,
    ) -> (HashMap<usize, ssh_config::Resolved>, Vec<String>) {
        let destinations: Vec<String> = hosts
            .iter()
            .map(|&i| self.hosts[i].destination().to_string())
            .collect();
        let (resolved, failed) = ssh_config::resolve(self.ssh_config.as_deref(), &destinations);
        let by_index = hosts
            .iter()
            .filter_map(|&i| {
                resolved
                    .get(self.hosts[i].destination())
                    .map(|r| (i, r.clone()))
            })
            .collect();
        let warnings = failed
            .into_iter()
            .map(|(alias, message)| format!("`ssh -G {alias}` failed: {message}"))
            .collect();
        (by_index, warnings)
    }
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// A source that could not be read: an error when the user named it, a warning when tsync
/// only looked in its default place. The message keeps the whole cause chain (the YAML
/// scanner's or the OS's words) and the source's own help.
fn source_problem(explicit: bool, code: Code, error: &dyn miette::Diagnostic) -> Diagnostic {
    let mut message = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        message.push_str(&format!(": {c}"));
        cause = c.source();
    }
    let mut d = if explicit {
        Diagnostic::error(code, message)
    } else {
        Diagnostic::warning(code, message)
    };
    if let Some(help) = error.help() {
        d = d.help(help.to_string());
    }
    d
}
