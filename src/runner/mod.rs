//! Plan → execution over SSH, reported as a stream of [`Event`]s.

mod event;
mod runner;

pub use event::{CancelReason, Event, HostOutcome, HostTotals, StageTotals, StepEnd, Summary};
pub use runner::{Cancel, EVENT_QUEUE, RunOptions, Runner};
