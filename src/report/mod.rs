//! Everything tsync shows: diagnostics, and the reporters that turn run events into output.

pub mod diagnostics;
mod human;
mod json;
mod printable;
mod recorder;
mod reporter;
mod reporters;
pub mod status_table;

pub use human::Human;
pub use json::JsonLines;
pub use printable::printable;
pub use recorder::{Recorder, warn as warn_history};
pub use reporter::Reporter;
pub use reporters::{OutputFormat, Reporters};
