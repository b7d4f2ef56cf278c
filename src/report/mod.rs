//! Everything tsync shows: diagnostics, and the reporters that turn run events into output.

pub mod diagnostics;
mod human;
mod json;
mod printable;
mod reporter;
mod reporters;
pub mod status_table;

pub use human::Human;
pub use json::JsonLines;
pub use reporter::Reporter;
pub use reporters::{OutputFormat, Reporters};
