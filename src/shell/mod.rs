//! Shell syntax, as far as tsync needs it: where a placeholder stands in a command and how a
//! value must be quoted there. A leaf module: it imports nothing else from tsync.
//!
//! Commands run in the login shell of the host, which may be dash, bash, zsh or ksh. A spot is
//! accepted only when every one of them reads it the same way; everywhere else the
//! placeholder is refused, with the reason and what to write instead.

mod quote;
mod refusal;
mod scanner;
mod spot;

pub use quote::{quote, quote_word};
pub use refusal::Refusal;
pub use scanner::{Piece, spots};
pub use spot::{HereDoc, Spot};
