//! Plan → execution over SSH, reported as a stream of [`Event`]s.
//!
//! `runner.rs` walks the DAG of stages; `stage.rs` runs one stage on its hosts; `step.rs`
//! runs one step on one host and is the one place that dispatches on a step's action.

mod cancel;
mod check;
mod confirm;
mod context;
mod dry_run;
mod event;
mod guard;
mod placement;
mod probe;
mod probe_result;
mod rollback;
mod runner;
mod stage;
mod step;
mod step_outcome;
mod step_output;
mod stream;
mod summary;
mod sync_step;

pub use cancel::{Cancel, CancelReason};
pub use event::{Event, HostOutcome, Would};
pub use probe_result::ProbeResult;
pub use runner::{EVENT_QUEUE, RunOptions, Runner};
pub use step_outcome::{StepEnd, StepOutcome};
pub use stream::Stream;
pub use summary::{HostTotals, StageStatus, StageTotals, Summary};
