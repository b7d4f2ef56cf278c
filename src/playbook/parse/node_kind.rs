//! The kinds of node a playbook is made of, one enum per place they may appear (the top of
//! the document, inside a `stage`, …). Each enum lists its members once, and the parser, its
//! diagnostics and the schema test all read that list: what is accepted cannot drift from
//! what is handled, and every `match` on a kind is exhaustive.

use std::collections::HashMap;

use kdl::KdlNode;
use miette::SourceSpan;

use super::parser::Parser;
use crate::diagnostic::{Code, Diagnostic};
use crate::suggest::did_you_mean;

/// How diagnostics name the document itself, as the parent of top-level nodes.
pub const TOP: &str = "(top)";

/// The nodes that may appear in one place of a playbook.
pub trait NodeKind: Copy + Eq + 'static {
    /// The nodes whose children these are, as diagnostics name them ([`TOP`] for the
    /// document).
    const PARENTS: &'static [&'static str];
    /// Every kind, in the order diagnostics list them.
    const ALL: &'static [Self];

    /// The node's name in KDL.
    fn name(self) -> &'static str;

    /// The properties a node of this kind takes.
    fn properties(self) -> &'static [&'static str];

    /// The kind a node named `name` is, if it may appear here.
    fn named(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|kind| kind.name() == name)
    }
}

impl Parser<'_> {
    /// The known children of `node`, with their kinds; unknown ones are reported and left
    /// out.
    pub(super) fn children<'n, K: NodeKind>(&mut self, node: &'n KdlNode) -> Vec<(K, &'n KdlNode)> {
        let Some(children) = node.children() else {
            return Vec::new();
        };
        let context = node.name().value();
        children
            .nodes()
            .iter()
            .filter_map(|child| {
                let kind = K::named(child.name().value());
                if kind.is_none() {
                    self.unknown_node::<K>(child, context);
                }
                Some((kind?, child))
            })
            .collect()
    }

    /// Reports `node`, found inside `context`, as none of the kinds `K`.
    pub(super) fn unknown_node<K: NodeKind>(&mut self, node: &KdlNode, context: &str) {
        let name = node.name().value();
        let allowed: Vec<&str> = K::ALL.iter().map(|kind| kind.name()).collect();
        let place = if context == TOP {
            "at the top of a playbook".to_string()
        } else {
            format!("inside `{context}`")
        };
        let help = match did_you_mean(name, allowed.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("allowed {place}: {}", allowed.join(", ")),
        };
        self.error(
            Code::UnknownNode,
            node.name().span(),
            format!("unknown node `{name}` {place}"),
            "unknown node",
            help,
        );
    }

    /// Reports properties of `node` that its kind does not take, and any given twice.
    pub(super) fn props(&mut self, node: &KdlNode, kind: impl NodeKind) {
        self.known_props(node, kind.name(), kind.properties(), &[]);
    }

    /// Reports properties of `node` (named `context` in messages) outside `allowed`, and any
    /// given twice; those in `elsewhere` are known, and reported by the caller.
    pub(super) fn known_props(
        &mut self,
        node: &KdlNode,
        context: &str,
        allowed: &[&str],
        elsewhere: &[&str],
    ) {
        let mut seen: HashMap<&str, SourceSpan> = HashMap::new();
        for entry in node.entries() {
            let Some(name) = entry.name() else { continue };
            if let Some(first) = seen.insert(name.value(), name.span()) {
                self.found.push(
                    Diagnostic::error(
                        Code::DuplicateProperty,
                        format!("`{}` is given twice", name.value()),
                    )
                    .in_source(self.source)
                    .label(name.span(), "again here")
                    .label(first, "first here")
                    .help("keep one of them"),
                );
            }
            if !allowed.contains(&name.value()) && !elsewhere.contains(&name.value()) {
                let help = match did_you_mean(name.value(), allowed.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None if allowed.is_empty() => format!("`{context}` takes no properties"),
                    None => format!("`{context}` takes {}", allowed.join(", ")),
                };
                self.error(
                    Code::UnknownProperty,
                    name.span(),
                    format!("unknown property `{}` on `{context}`", name.value()),
                    "unknown property",
                    help,
                );
            }
        }
    }
}
