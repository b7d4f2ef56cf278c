//! Playbook text → typed [`Playbook`], every value keeping its span.

mod amount;
mod check;
mod group;
mod guard;
mod parse;
mod playbook;
mod playbook_lock;
mod rollback;
mod rolling;
mod spanned;
mod stage;
mod step;
mod sync_step;
mod template;

pub use amount::Amount;
pub use check::{Check, HttpExpect, Probe, ProbeKind, split_host_port};
pub use group::Group;
pub use guard::Guard;
pub use parse::{
    BUILTIN_VARS, CheckNode, DocumentNode, GroupNode, MAX_DURATION, NodeKind, Parser, PlaybookNode,
    RollbackNode, StageNode, StepNode, SyncNode, TOP, read_source,
};
pub use playbook::Playbook;
pub use playbook_lock::{PlaybookLock, is_lock_name};
pub use rollback::{Rollback, RollbackScope};
pub use rolling::Rolling;
pub use spanned::Spanned;
pub use stage::Stage;
pub use step::{Action, Confirm, Step, StepKind};
pub use sync_step::SyncStep;
pub use template::{RenderError, Template, is_var_name};
