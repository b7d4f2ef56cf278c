//! Playbook + inventory → [`Plan`]: the stage DAG with resolved hosts and commands.

mod plan;
pub mod render;
mod resolve;

pub use plan::{DEFAULT_STEP_TIMEOUT, Plan, PlannedStage, PlannedStep};
pub use resolve::resolve_or_report;
