//! One group as the inventory holds it: its members already resolved to hosts.

use std::collections::BTreeSet;

#[derive(Debug, Clone)]
pub(super) struct GroupEntry {
    /// Indices into the inventory's hosts.
    pub(super) members: BTreeSet<usize>,
    /// Where it was defined, for messages.
    pub(super) origin: String,
    /// Whether it selects by Tailscale tag, so an empty result can name the cause.
    pub(super) uses_tags: bool,
}
