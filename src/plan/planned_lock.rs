//! Where a playbook's `apply` holds its deploy lock.

use std::time::Duration;

use crate::inventory::Host;

#[derive(Debug, Clone)]
pub struct PlannedLock {
    /// The `lock name`, else the playbook's name (made a safe lock name by the lock).
    pub name: String,
    /// The hosts `lock on` picks; None for every host of the run.
    pub hosts: Option<Vec<Host>>,
    /// The `lock expiry`, if the playbook sets one.
    pub expiry: Option<Duration>,
}
