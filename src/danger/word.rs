//! One word of a command, its quotes removed, knowing which of its pieces the shell would
//! still expand when the command runs.

/// A piece of a word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Text taken as it is (quoted or not).
    Lit(String),
    /// An unquoted `*`, `?` or `[`: a glob that may match many files.
    Glob,
    /// An unquoted `~` starting the word: a home directory.
    Tilde,
    /// `$NAME`, `${NAME…}`, `$((…))`: a value known only when the command runs. `set` when
    /// the shell makes sure it is not empty (`${X:?}`, `${X:-default}`, arithmetic).
    Param { name: String, set: bool },
    /// `$(…)` or a backtick substitution: output known only when the command runs.
    Subst,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub parts: Vec<Part>,
}

impl Word {
    /// A word of `parts`; empty text (`""`) is kept only when it is all the word has.
    pub fn new(mut parts: Vec<Part>) -> Self {
        if parts.iter().any(|p| *p != Part::Lit(String::new())) {
            parts.retain(|p| *p != Part::Lit(String::new()));
        }
        Word { parts }
    }

    /// `NAME=value` (the value may have expansions): an assignment where a command name
    /// would stand.
    pub fn is_assignment(&self) -> bool {
        let Some(Part::Lit(text)) = self.parts.first() else {
            return false;
        };
        text.split_once('=').is_some_and(|(name, _)| {
            let mut chars = name.chars();
            chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
    }

    /// The word's text when nothing in it is expanded.
    pub fn literal(&self) -> Option<String> {
        let mut text = String::new();
        for part in &self.parts {
            match part {
                Part::Lit(t) => text.push_str(t),
                _ => return None,
            }
        }
        Some(text)
    }

    /// The literal text of the word, whatever it would expand to left out.
    pub fn unquoted_text(&self) -> String {
        let mut text = String::new();
        for part in &self.parts {
            if let Part::Lit(t) = part {
                text.push_str(t);
            }
        }
        text
    }

    /// The word as shell text again, for a command given as a string (`sh -c WORD`,
    /// `eval WORD…`): its literal text read as the shell reads it the second time, an
    /// expansion standing for a value not known yet.
    pub fn as_script(&self) -> String {
        let mut text = String::new();
        for part in &self.parts {
            match part {
                Part::Lit(t) => text.push_str(t),
                Part::Glob => text.push('*'),
                Part::Tilde => text.push('~'),
                Part::Param { name, set: false } => text.push_str(&format!("${{{name}}}")),
                Part::Param { name, set: true } => text.push_str(&format!("${{{name}:?}}")),
                // The substitution was judged where it stood; its output is a value.
                Part::Subst => text.push_str("${_:?}"),
            }
        }
        text
    }
}
