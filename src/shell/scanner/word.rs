//! A word of a shell command as the scanner builds it, shared by the command tracking
//! and the interpreter rules.

/// A word of a command, as the command will see it.
#[derive(Default)]
pub(super) struct Word {
    /// The word's characters with quotes removed; holes count as U+FFFC.
    pub(super) text: String,
    pub(super) holes: Vec<usize>,
    pub(super) started: bool,
}
