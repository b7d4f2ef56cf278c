//! What is wrong with a selector, pointing at the character at fault.

use miette::SourceSpan;

#[derive(Debug, Clone, PartialEq)]
pub struct SelectorError {
    pub message: String,
    pub span: SourceSpan,
    pub label: String,
    pub help: Option<String>,
}

impl SelectorError {
    pub fn new(message: impl Into<String>, span: SourceSpan, label: impl Into<String>) -> Self {
        SelectorError {
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
}
