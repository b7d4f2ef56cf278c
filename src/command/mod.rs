//! One module per command; each returns the process exit code.

pub mod apply;
pub mod check;
mod execute;
mod inputs;
pub mod plan;
pub mod run;

pub use inputs::Prepared;
