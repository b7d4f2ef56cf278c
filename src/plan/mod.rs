//! Playbook + inventory → [`Plan`]: the stage DAG with resolved hosts and commands.

mod plan;
mod planned_step;
pub mod render;

pub use plan::{DEFAULT_STEP_TIMEOUT, Plan, PlannedStage};
pub use planned_step::{PlannedStep, StepAction};
