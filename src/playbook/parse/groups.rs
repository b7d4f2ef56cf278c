//! `group` nodes, in a playbook or in an inventory file (which holds nothing else).

use kdl::KdlNode;

use super::document::DocumentNode;
use super::node_kind::NodeKind;
use super::parser::Parser;
use crate::diagnostic::{Code, Diagnostics};
use crate::playbook::{Group, Spanned};

/// The nodes inside `group`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupNode {
    Hosts,
    Tag,
}

impl NodeKind for GroupNode {
    const PARENTS: &'static [&'static str] = &["group"];
    const ALL: &'static [Self] = &[Self::Hosts, Self::Tag];

    fn name(self) -> &'static str {
        match self {
            Self::Hosts => "hosts",
            Self::Tag => "tag",
        }
    }

    fn properties(self) -> &'static [&'static str] {
        match self {
            Self::Hosts | Self::Tag => &[],
        }
    }
}

impl Parser<'_> {
    /// Parses an inventory file: `group` nodes only.
    pub fn inventory(mut self) -> (Vec<Group>, Diagnostics) {
        let Some(doc) = self.kdl() else {
            return (Vec::new(), self.finish(Vec::new()));
        };
        let mut groups = Vec::new();
        for node in doc.nodes() {
            if DocumentNode::named(node.name().value()) == Some(DocumentNode::Group) {
                groups.extend(self.group(node));
            } else {
                self.error(
                    Code::UnknownNode,
                    node.name().span(),
                    format!("unknown node `{}` in inventory", node.name().value()),
                    "not allowed in an inventory file",
                    "an inventory file holds only `group` nodes",
                );
            }
        }
        self.check_duplicate_names(groups.iter().map(|g| &g.name), "group");
        (groups, self.finish(Vec::new()))
    }

    pub(super) fn group(&mut self, node: &KdlNode) -> Option<Group> {
        self.props(node, DocumentNode::Group);
        let mut args = self.args(node).into_iter();
        let Some(name) = args.next() else {
            self.missing_arg(node, "group name", "group \"web\" \"web-1\" \"web-2\"");
            return None;
        };
        let name = self.string(name, "group name")?;
        self.check_group_name(&name);
        let mut group = Group {
            name,
            hosts: args
                .filter_map(|a| self.string(a, "host name or pattern"))
                .collect(),
            tags: Vec::new(),
            span: node.span(),
        };
        for (kind, child) in self.children::<GroupNode>(node) {
            self.props(child, kind);
            self.no_children(child);
            let values = self.strings(child, "at least one value");
            match kind {
                GroupNode::Hosts => group.hosts.extend(values),
                GroupNode::Tag => group.tags.extend(values.into_iter().map(|mut t| {
                    if !t.value.starts_with("tag:") {
                        t.value = format!("tag:{}", t.value);
                    }
                    t
                })),
            }
        }
        if group.hosts.is_empty() && group.tags.is_empty() {
            self.error(
                Code::EmptyGroup,
                group.name.span,
                format!("group `{}` has no members", group.name.value),
                "empty group",
                "list hosts after the name, or add `hosts \"web-*\"` or `tag \"tag:web\"` inside",
            );
        }
        Some(group)
    }

    fn check_group_name(&mut self, name: &Spanned<String>) {
        let reserved = ["all", "online", "offline"];
        let bad = if reserved.contains(&name.value.as_str()) {
            Some("it is a selector keyword")
        } else if name.value.starts_with("tag:") || name.value.starts_with("os:") {
            Some("`tag:` and `os:` prefixes belong to Tailscale facts")
        } else if name.value.is_empty()
            || !name
                .value
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '@' | '+'))
        {
            Some("a selector could not name it")
        } else {
            None
        };
        if let Some(why) = bad {
            self.error(
                Code::BadGroupName,
                name.span,
                format!("`{}` cannot be a group name: {why}", name.value),
                "bad group name",
                "use letters, digits, `-`, `_` and `.`",
            );
        }
    }
}
