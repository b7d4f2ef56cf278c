//! What is wrong with a selector, pointing at the character at fault.

use miette::SourceSpan;

use crate::diagnostic::{Code, Diagnostic, Source};

#[derive(Debug, Clone, PartialEq)]
pub struct SelectorError {
    /// The diagnostic code: `bad-selector` for syntax, others for resolution problems.
    pub code: Code,
    pub message: String,
    pub span: SourceSpan,
    pub label: String,
    pub help: Option<String>,
}

impl SelectorError {
    pub fn new(message: impl Into<String>, span: SourceSpan, label: impl Into<String>) -> Self {
        SelectorError {
            code: Code::BadSelector,
            message: message.into(),
            span,
            label: label.into(),
            help: None,
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn code(mut self, code: Code) -> Self {
        self.code = code;
        self
    }

    /// The error about a selector filled in as `note` says (see [`Selector::filled`]), which
    /// the label then says too.
    ///
    /// [`Selector::filled`]: super::Selector::filled
    pub fn filled_in(mut self, note: Option<&str>) -> Self {
        if let Some(note) = note {
            self.label = format!("{}; {note}", self.label);
        }
        self
    }

    /// The diagnostic for this error, `source` being the text the selector was written in.
    pub fn into_diagnostic(self, source: &Source) -> Diagnostic {
        let mut d = Diagnostic::error(self.code, self.message)
            .in_source(source)
            .label(self.span, self.label);
        if let Some(help) = self.help {
            d = d.help(help);
        }
        d
    }
}
