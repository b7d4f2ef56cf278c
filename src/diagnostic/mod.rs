//! Diagnostics: what every problem with the user's input becomes, and the codes that name
//! the kinds of problem.

mod code;
mod diagnostic;

pub use code::Code;
pub use diagnostic::{Diagnostic, Diagnostics, Source};
