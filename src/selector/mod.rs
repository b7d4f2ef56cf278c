//! Host selectors: the little language of `on "…"` and `--limit`.

mod resolve;
mod selector;
mod selector_error;

pub use selector::{Atom, Expr, Selector};
pub use selector_error::SelectorError;
