//! The typed playbook: what a KDL file says, every value with its span.

use super::group::Group;
use super::playbook_lock::PlaybookLock;
use super::spanned::Spanned;
use super::stage::Stage;
use crate::diagnostic::Source;

#[derive(Debug, Clone)]
pub struct Playbook {
    pub source: Source,
    pub name: String,
    pub description: Option<String>,
    pub groups: Vec<Group>,
    /// Playbook variables, in the order written.
    pub vars: Vec<(Spanned<String>, Spanned<String>)>,
    pub stages: Vec<Stage>,
    /// The `lock` node; without one, `apply` locks every host of the run under the
    /// playbook's name.
    pub lock: Option<PlaybookLock>,
}

impl Playbook {
    pub fn stage(&self, name: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.name.value == name)
    }
}
