//! The inventory as one playbook sees it: every known host and group, with the playbook's own
//! `group` definitions laid over them. The inventory is borrowed, not copied, so planning many
//! playbooks costs no copy of every host, and one playbook's groups never leak into the next.

use std::collections::{BTreeMap, BTreeSet};

use super::group_entry::GroupEntry;
use super::inventory::Inventory;
use crate::diagnostic::{Diagnostics, Source};
use crate::playbook::Group;

#[derive(Debug)]
pub struct Scope<'a> {
    inventory: &'a Inventory,
    /// The playbook's groups; each replaces the inventory's group of the same name.
    groups: BTreeMap<String, GroupEntry>,
}

impl<'a> Scope<'a> {
    /// The inventory with no groups of a playbook (yet).
    pub fn new(inventory: &'a Inventory) -> Scope<'a> {
        Scope {
            inventory,
            groups: BTreeMap::new(),
        }
    }

    /// Defines (or redefines) the groups written in a playbook, later ones replacing earlier
    /// ones. Members are resolved now, against the hosts known; problems point into `source`.
    pub fn define_groups(&mut self, groups: &[Group], source: &Source) -> Diagnostics {
        let mut diagnostics = Diagnostics::default();
        for group in groups {
            let entry = self.inventory.group_entry(group, source, &mut diagnostics);
            self.groups.insert(group.name.value.clone(), entry);
        }
        diagnostics
    }

    /// The hosts and everything known about them; its groups are not the playbook's.
    pub fn inventory(&self) -> &'a Inventory {
        self.inventory
    }

    /// Members of a group, with whether the group selects by tag.
    pub fn group(&self, name: &str) -> Option<(&BTreeSet<usize>, bool)> {
        match self.groups.get(name) {
            Some(g) => Some((&g.members, g.uses_tags)),
            None => self.inventory.group(name),
        }
    }

    /// The name of every group, each once, in name order.
    pub fn group_names(&self) -> impl Iterator<Item = &str> {
        let mut names: BTreeSet<&str> = self.inventory.groups().map(|(name, _, _)| name).collect();
        names.extend(self.groups.keys().map(String::as_str));
        names.into_iter()
    }
}
