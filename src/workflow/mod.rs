//! The built-in workflows: the playbooks of playbooks/, embedded in the binary, and what
//! `tsync init` writes to start a repo of them (an inventory drafted from the hosts found,
//! the chosen playbooks, how to run them).

mod catalog;
mod inventory_draft;
mod starter;
mod workflow;

pub use catalog::{WORKFLOWS, find};
pub use inventory_draft::InventoryDraft;
pub use starter::{Starter, StarterFile};
pub use workflow::{Script, Workflow};
