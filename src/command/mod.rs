//! One module per command; each returns the process exit code.

pub mod check;
mod inputs;
pub mod plan;

pub use inputs::Prepared;
