//! Playbook text → typed [`Playbook`], every value keeping its span.

mod amount;
mod check;
mod group;
mod parser;
mod playbook;
mod prescan;
mod rolling;
mod spanned;
mod stage;
mod step;
mod template;

pub use amount::Amount;
pub use check::{Check, Probe};
pub use group::Group;
pub use parser::{BUILTIN_VARS, CHILDREN, MAX_DURATION, PROPERTIES, Parser, read_source};
pub use playbook::Playbook;
pub use rolling::Rolling;
pub use spanned::Spanned;
pub use stage::Stage;
pub use step::{Action, Step};
pub use template::{RenderError, Template, is_var_name};
