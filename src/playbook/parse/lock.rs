//! The `lock` node at the top of a playbook.

use kdl::KdlNode;

use super::document::DocumentNode;
use super::parser::Parser;
use super::values::value_span;
use crate::diagnostic::Code;
use crate::playbook::{PlaybookLock, is_lock_name};

impl Parser<'_> {
    /// `lock on="db-1" name="web" expiry="10m"`: every property optional. `lock #false`: a
    /// playbook that changes nothing (a report) takes no lock, so it never waits for a
    /// deploy nor holds one up.
    pub(super) fn lock(&mut self, node: &KdlNode, kind: DocumentNode) -> PlaybookLock {
        self.props(node, kind);
        self.no_children(node);
        let mut lock = PlaybookLock {
            span: node.name().span(),
            off: false,
            on: None,
            name: None,
            expiry: None,
        };
        let args = self.args(node);
        if let Some(first) = args.first() {
            lock.off = self.boolean(first) == Some(false);
        }
        if let Some(extra) = args.get(1) {
            self.error(
                Code::WrongArguments,
                value_span(extra),
                "`lock` takes at most one argument",
                "unexpected argument",
                "write `lock #false` for no lock, or properties: `lock on=\"db-1\" name=\"web\"`",
            );
        }
        if lock.off
            && let Some(property) = node.entries().iter().find(|e| e.name().is_some())
        {
            self.error(
                Code::WrongArguments,
                value_span(property),
                "`lock #false` takes no lock, so it takes no properties",
                "for a lock that is not taken",
                "remove `#false` to set where and how the lock is held, or remove the property",
            );
        }
        if let Some(text) = node.entry("on").and_then(|e| self.string(e, "a selector")) {
            let repr = self.repr_of(node, &text);
            match self.selector(&text, repr.as_deref()) {
                Some(selector) if selector.pick.is_some() => self.error(
                    Code::BadSelector,
                    text.span,
                    "a lock cannot be placed by load",
                    "picks by load",
                    "name the lock hosts: `on=\"db-1\"` or a group; every controller must find the same ones",
                ),
                selector => lock.on = selector,
            }
        }
        if let Some(name) = node
            .entry("name")
            .and_then(|e| self.string(e, "a lock name"))
        {
            if is_lock_name(&name.value) {
                lock.name = Some(name);
            } else {
                self.error(
                    Code::BadLockName,
                    name.span,
                    format!("`{}` cannot name a lock", name.value),
                    "bad lock name",
                    "use letters, digits, `.`, `_` and `-` (at most 100, not starting with `.`)",
                );
            }
        }
        lock.expiry = node.entry("expiry").and_then(|e| self.duration(e, false));
        lock
    }
}
