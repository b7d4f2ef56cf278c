//! Everything tsync shows: diagnostics, and the reporters that turn run events into output.

pub mod diagnostics;
mod human;
mod json;
mod printable;
mod reporter;

pub use human::Human;
pub use json::JsonLines;
pub use reporter::Reporter;
