//! Playbook + inventory → [`Plan`]: the stage DAG with resolved hosts and commands.

mod plan;
pub mod render;

pub use plan::{DEFAULT_STEP_TIMEOUT, Plan, PlannedStage, PlannedStep};
