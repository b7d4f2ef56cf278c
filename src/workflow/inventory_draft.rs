//! The inventory.kdl `tsync init` writes: the groups found in the user's sources, written out
//! so that they can be read, edited and reviewed, and a guess for every group the chosen
//! workflows need that no source defines.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use crate::inventory::Inventory;

/// Group names a selector reserves (as the parser's group-name check does).
const RESERVED: [&str; 3] = ["all", "online", "offline"];

/// The usual short forms of the names workflows give their groups, looked for in host names.
const ABBREVIATIONS: &[(&str, &[&str])] = &[
    ("staging", &["stag", "stg"]),
    ("production", &["prod", "prd"]),
    ("builders", &["build", "ci"]),
    ("primary", &["main", "master"]),
];

#[derive(Debug)]
pub struct InventoryDraft {
    sections: Vec<Section>,
}

/// Groups from one source, under a comment that says where they come from.
#[derive(Debug)]
struct Section {
    heading: &'static str,
    groups: Vec<DraftGroup>,
}

#[derive(Debug)]
struct DraftGroup {
    name: String,
    /// What the group is and why, above it (none when the section's heading says it all).
    comment: String,
    members: Members,
}

#[derive(Debug)]
enum Members {
    Hosts(Vec<String>),
    Pattern(String),
    Tag(String),
    /// No host is known to put in it: the group is written commented out, with an example,
    /// so that the file still parses and names no unknown host.
    Example,
}

impl InventoryDraft {
    /// The groups of `inventory` (as loaded from the user's sources: its groups are
    /// sshsync's), one per Tailscale tag, one per ssh-config name prefix that two hosts
    /// share, and each of `needed` (group → the workflows that select it) not defined by
    /// those.
    pub fn new(inventory: &Inventory, needed: &BTreeMap<&str, Vec<&str>>) -> InventoryDraft {
        let mut taken = BTreeSet::new();
        let mut sections = Vec::new();
        let mut section = |heading, found: Vec<DraftGroup>, taken: &mut BTreeSet<String>| {
            let groups: Vec<DraftGroup> = found
                .into_iter()
                .filter(|g| usable(&g.name) && taken.insert(g.name.clone()))
                .collect();
            if !groups.is_empty() {
                sections.push(Section { heading, groups });
            }
        };
        section(
            "From sshsync's groups, written out so that tsync no longer needs its config:",
            sshsync_groups(inventory),
            &mut taken,
        );
        section(
            "One group per Tailscale tag seen on a peer:",
            tag_groups(inventory),
            &mut taken,
        );
        section(
            "Suggested by ssh config host names that share a prefix:",
            prefix_groups(inventory),
            &mut taken,
        );
        let missing = needed
            .iter()
            .filter(|(name, _)| !taken.contains(**name))
            .map(|(name, workflows)| guess(inventory, name, workflows))
            .collect();
        section(
            "Needed by the workflows in playbooks/ and defined by no source: EDIT THESE.",
            missing,
            &mut taken,
        );
        InventoryDraft { sections }
    }

    /// The names of the groups defined, in order, and of those left commented out for want
    /// of a known host.
    pub fn group_names(&self) -> (Vec<&str>, Vec<&str>) {
        let mut defined = Vec::new();
        let mut examples = Vec::new();
        for group in self.sections.iter().flat_map(|s| &s.groups) {
            match group.members {
                Members::Example => examples.push(group.name.as_str()),
                _ => defined.push(group.name.as_str()),
            }
        }
        (defined, examples)
    }

    /// The file: a header saying what it is, where its groups come from (`read`: one line
    /// per source) and how tsync finds it, then each section.
    pub fn render(&self, read: &[String]) -> String {
        let mut out = String::from(
            "// inventory.kdl: the groups of hosts that the playbooks in playbooks/ select.\n\
             // Written by `tsync init` from what it read:\n",
        );
        for line in read {
            let _ = writeln!(out, "//   - {line}");
        }
        out.push_str(
            "// Hosts themselves come from your ssh config and Tailscale; a group lists host names,\n\
             // patterns (\"web-*\") or Tailscale tags (tag \"tag:web\"). Edit it freely, then run\n\
             // `tsync check playbooks/*.kdl`.\n\
             //\n\
             // Every tsync command run in this directory or below it reads this file (the nearest\n\
             // inventory.kdl, as git finds .git); `--inventory FILE` reads FILE instead.\n",
        );
        if self.sections.is_empty() {
            out.push_str("\n// No source defined a group. Define yours here, for example:\n");
            out.push_str("// group \"web\" \"web-1\" \"web-2\"\n");
        }
        for section in &self.sections {
            let _ = write!(out, "\n// {}\n", section.heading);
            for group in &section.groups {
                for line in group.comment.lines() {
                    let _ = writeln!(out, "// {line}");
                }
                let name = quoted(&group.name);
                let _ = match &group.members {
                    Members::Hosts(hosts) => {
                        let hosts: Vec<String> = hosts.iter().map(|h| quoted(h)).collect();
                        writeln!(out, "group {name} {}", hosts.join(" "))
                    }
                    Members::Pattern(pattern) => {
                        writeln!(out, "group {name} {}", quoted(pattern))
                    }
                    Members::Tag(tag) => {
                        writeln!(out, "group {name} {{\n    tag {}\n}}", quoted(tag))
                    }
                    Members::Example => writeln!(out, "// group {name} \"web-1\" \"web-2\""),
                };
            }
        }
        out
    }
}

/// sshsync's groups, each with the members tsync knows.
fn sshsync_groups(inventory: &Inventory) -> Vec<DraftGroup> {
    inventory
        .groups()
        .filter(|(_, members, _)| !members.is_empty())
        .map(|(name, members, _)| DraftGroup {
            name: name.to_string(),
            // The header names the file they come from.
            comment: String::new(),
            members: Members::Hosts(names(inventory, members)),
        })
        .collect()
}

/// `group "web" { tag "tag:web" }` for each tag on a Tailscale peer.
fn tag_groups(inventory: &Inventory) -> Vec<DraftGroup> {
    let mut tags: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for host in inventory.hosts() {
        for tag in &host.tags {
            tags.entry(tag).or_default().push(&host.name);
        }
    }
    tags.into_iter()
        .map(|(tag, hosts)| DraftGroup {
            name: tag.trim_start_matches("tag:").to_string(),
            comment: format!("now: {}", hosts.join(", ")),
            members: Members::Tag(tag.to_string()),
        })
        .collect()
}

/// `group "web" "web-*"` where two or more ssh config hosts are named `web-…`.
fn prefix_groups(inventory: &Inventory) -> Vec<DraftGroup> {
    let mut prefixes: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for host in inventory.hosts().iter().filter(|h| h.in_ssh_config) {
        if let Some((prefix, rest)) = host.name.split_once('-')
            && !prefix.is_empty()
            && !rest.is_empty()
        {
            prefixes.entry(prefix).or_default().push(&host.name);
        }
    }
    prefixes
        .into_iter()
        .filter(|(_, hosts)| hosts.len() >= 2)
        .map(|(prefix, hosts)| DraftGroup {
            name: prefix.to_string(),
            comment: format!("now: {}", hosts.join(", ")),
            members: Members::Pattern(format!("{prefix}-*")),
        })
        .collect()
}

/// A group a workflow needs: the hosts whose names contain its name or a usual short form of
/// it, else the first host known, else an example.
fn guess(inventory: &Inventory, name: &str, workflows: &[&str]) -> DraftGroup {
    let needed_by = format!("Needed by {}.", workflows.join(", "));
    let Some(first) = inventory.hosts().first() else {
        return DraftGroup {
            name: name.to_string(),
            comment: format!("{needed_by} No host is known yet: list yours, for example:"),
            members: Members::Example,
        };
    };
    let singular = name.strip_suffix('s').unwrap_or(name);
    let short = ABBREVIATIONS
        .iter()
        .filter(|(group, _)| *group == name)
        .flat_map(|(_, words)| words.iter().copied());
    for word in [name, singular].into_iter().chain(short) {
        let hosts: Vec<String> = inventory
            .hosts()
            .iter()
            .filter(|h| h.name.to_lowercase().contains(word))
            .map(|h| h.name.clone())
            .collect();
        if !hosts.is_empty() {
            return DraftGroup {
                name: name.to_string(),
                comment: format!("{needed_by} A guess: the hosts named like \"{word}\". Check it."),
                members: Members::Hosts(hosts),
            };
        }
    }
    DraftGroup {
        name: name.to_string(),
        comment: format!(
            "{needed_by} No host name suggests it: the first known host stands in. Edit it."
        ),
        members: Members::Hosts(vec![first.name.clone()]),
    }
}

fn names(inventory: &Inventory, members: &BTreeSet<usize>) -> Vec<String> {
    members
        .iter()
        .map(|&i| inventory.host(i).name.clone())
        .collect()
}

/// Whether the parser takes `name` as a group's name.
fn usable(name: &str) -> bool {
    !name.is_empty()
        && !RESERVED.contains(&name)
        && !name.starts_with("tag:")
        && !name.starts_with("os:")
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '@' | '+'))
}

/// `text` as a KDL string.
fn quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
