//! KDL text → typed [`Playbook`](crate::playbook::Playbook): the parser, one file per group
//! of node kinds, and the load phase that reads the files a playbook names.

mod checks;
mod document;
mod groups;
mod load;
mod lock;
mod node_kind;
mod parser;
mod prescan;
mod selectors;
mod stages;
mod steps;
mod values;

pub use checks::CheckNode;
pub use document::{BUILTIN_VARS, DocumentNode, PlaybookNode};
pub use groups::GroupNode;
pub use load::read_source;
pub use node_kind::{NodeKind, TOP};
pub use parser::Parser;
pub use stages::{RollbackNode, StageNode};
pub use steps::{StepNode, SyncNode};
pub use values::MAX_DURATION;
