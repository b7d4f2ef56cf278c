//! File sync over a host's existing connection: compare a manifest of each side, send only
//! what changed, land every file atomically. The runner calls [`sync`] for a `sync` or
//! `pull` step; nothing here knows about playbooks or events.

mod changes;
mod checksum;
mod entry;
mod excludes;
mod layout;
mod local_tree;
mod pull;
mod push;
mod remote_tree;
mod report;
mod sftp_walk;
mod spec;
mod stream;
mod sync;
mod temp_name;
mod tracker;
mod workers;

pub use report::{Change, Item, Progress, SyncReport};
pub use spec::{Direction, SyncSpec};
pub use sync::sync;
