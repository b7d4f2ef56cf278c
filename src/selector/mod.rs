//! Host selectors: the little language of `on "…"` and `--limit`.

mod glob;
mod resolve;
mod selector;
mod selector_error;

pub use glob::glob_match;
pub use selector::{Atom, Expr, Selector};
pub use selector_error::SelectorError;
