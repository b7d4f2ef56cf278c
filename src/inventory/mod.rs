//! Where hosts and groups come from: the user's ssh config, Tailscale, sshsync's groups and
//! inventory files, merged into one [`Inventory`].

mod group_entry;
mod host;
mod inventory;
mod scope;
pub mod ssh_config;
pub mod sshsync;
pub mod tailscale;

pub use host::Host;
pub use inventory::{Inventory, InventoryOptions, Tailscale};
pub use scope::Scope;
