//! Plan → execution over SSH, reported as a stream of [`Event`]s.

mod event;
mod runner;

pub use event::{Event, HostOutcome, HostTotals, StageTotals, Summary};
pub use runner::{Cancel, RunOptions, Runner};
