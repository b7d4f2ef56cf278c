//! The dangerous-command guard: a seatbelt against the command that wipes a fleet.
//!
//! Every command tsync would send (a `run` step, a `cmd` probe, an `unless`/`only-if` test,
//! `tsync run`'s command) is read as the shell would read it — words, quotes, `;` `&&` `|`,
//! subshells, substitutions, `sh -c '…'`, `sh <<EOF`, `sudo`, `env`, `eval` of a literal —
//! and each command found is judged by what the tool would do with its options and
//! operands. Regular expressions on the raw text both missed `rm -fr /` and blocked
//! `rm -rf /tmp/x`.
//!
//! It is not a sandbox: what a script file does, a variable set at run time, an alias or a
//! function defined on the host are beyond it (see references/security-model.md). A leaf
//! module: it imports nothing else from tsync.

mod commands;
mod judge;
mod lexer;
mod rule;
mod target;
#[cfg(test)]
mod tests;
mod tools;
mod unwrap;
mod word;

pub use rule::{Danger, Rule};

/// How many commands-inside-commands (`sh -c`, `eval`, `$( … )`, backticks) are read
/// before the guard gives up and refuses: no input reaches the end of the stack.
pub const MAX_DEPTH: usize = 16;

/// Why `command` is dangerous, if it is.
pub fn judge(command: &str) -> Option<Danger> {
    judge::judge_text(command, 0)
}
