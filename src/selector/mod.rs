//! Host selectors: the little language of `on "…"` and `--limit`. A leaf: it parses and
//! holds selectors; what they pick from an inventory is worked out by the plan module.

mod selector;
mod selector_error;

pub use selector::{Atom, Expr, Selector};
pub use selector_error::SelectorError;
