//! Playbook + inventory → [`Plan`]: the stage DAG with resolved hosts and commands.
//!
//! Two phases, so that the planner starts no process: [`Selection::new`] orders the stages
//! and picks their hosts; the caller then asks `ssh -G` about those hosts if the playbook
//! needs it; [`Plan::build`] renders every command.

pub mod dangers;
mod host_vars;
mod plan;
mod planned_check;
mod planned_lock;
mod planned_step;
pub mod render;
mod resolve;
mod rollout;
mod selection;
mod stage_graph;

pub use plan::{Plan, PlannedStage};
pub use planned_check::PlannedCheck;
pub use planned_lock::PlannedLock;
pub use planned_step::{DEFAULT_STEP_TIMEOUT, PlannedConfirm, PlannedStep};
pub use resolve::resolve_or_report;
pub use rollout::{PlannedRollback, Rollout};
pub use selection::{Selection, ad_hoc_hosts};
