//! Where a placeholder stands in a shell command.

use super::Refusal;

/// How the shell reads the text at a placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spot {
    /// Part of a word at command level (the top, or inside `$(…)`): the value goes in as a
    /// quoted word of its own.
    Bare,
    /// Inside `'…'`.
    Single,
    /// Inside `"…"` (or bash's `$"…"`, read the same way).
    Double,
    /// Inside a `#` comment: no shell reads it, so the placeholder stays as it was written.
    Comment,
    /// A line of a here-document's text.
    HereDoc(HereDoc),
    /// No quoting is certain here.
    Refused(Refusal),
}

/// A here-document a placeholder stands in: the value must not contain the line that ends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HereDoc {
    /// The line that ends the text, quotes removed.
    pub delimiter: String,
    /// `<<'EOF'`: the text is taken as it is; `<<EOF`: `$`, `` ` `` and `\` act.
    pub quoted: bool,
    /// `<<-EOF`: leading tabs are removed from every line, the delimiter's included.
    pub strip_tabs: bool,
}
