//! One built-in workflow: a playbook of playbooks/ as embedded in the binary, with the files
//! and groups it needs besides itself.

use std::path::Path;

use crate::diagnostic::Source;
use crate::playbook::{Parser, Playbook};

#[derive(Debug)]
pub struct Workflow {
    /// The playbook's name, and its file's: playbooks/NAME.kdl.
    pub name: &'static str,
    /// The playbook's text, as in playbooks/.
    pub text: &'static str,
    /// The scripts its steps run, relative to its directory.
    pub scripts: &'static [Script],
    /// The groups its default vars and selectors name, which an inventory must define for
    /// it to run as written.
    pub groups: &'static [&'static str],
    /// The directories it writes beside itself on this machine, which belong in no commit.
    pub outputs: &'static [&'static str],
}

/// A file a workflow runs, copied beside it.
#[derive(Debug)]
pub struct Script {
    /// Relative to the playbook's directory, as the playbook names it.
    pub path: &'static str,
    pub text: &'static str,
}

impl Workflow {
    /// Where `tsync init` writes the playbook, relative to the repo.
    pub fn file(&self) -> String {
        format!("playbooks/{}.kdl", self.name)
    }

    /// The first example command of the playbook's opening comment (`//     tsync apply …`),
    /// else the plain `tsync apply` of its file.
    pub fn example(&self) -> String {
        self.text
            .lines()
            .take_while(|line| line.starts_with("//"))
            .map(|line| line.trim_start_matches('/').trim())
            .find(|line| line.starts_with("tsync "))
            .map_or_else(|| format!("tsync apply {}", self.file()), str::to_string)
    }

    /// The playbook, parsed by the playbook parser; its scripts are not read (they are not
    /// on disk). None only if its text were not KDL, which the catalog's tests rule out.
    pub fn playbook(&self) -> Option<Playbook> {
        let source = Source::new(self.file(), self.text);
        Parser::new(&source, Path::new("playbooks"))
            .playbook_unloaded(&[])
            .0
    }

    /// The playbook's `description`.
    pub fn description(&self) -> String {
        self.playbook()
            .and_then(|p| p.description)
            .unwrap_or_default()
    }

    /// The vars it takes, each with its default, in the order written.
    pub fn vars(&self) -> Vec<(String, String)> {
        self.playbook()
            .map(|p| {
                p.vars
                    .into_iter()
                    .map(|(name, value)| (name.value, value.value))
                    .collect()
            })
            .unwrap_or_default()
    }
}
