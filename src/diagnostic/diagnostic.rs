//! The one diagnostic type every user-facing input problem becomes: a message, the source it
//! came from, labelled spans and a help line. Parsers collect these instead of stopping at the
//! first, so a user sees every mistake of a file in one run.

use std::fmt;
use std::sync::{Arc, OnceLock};

use miette::{LabeledSpan, NamedSource, Severity, SourceSpan};

use super::code::Code;

/// The text of one input file, shared by every diagnostic that points into it.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub text: Arc<str>,
}

impl Source {
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> Self {
        Source {
            name: name.into(),
            text: text.into(),
        }
    }

    fn named(&self) -> NamedSource<Arc<str>> {
        NamedSource::new(self.name.clone(), self.text.clone()).with_language("kdl")
    }
}

/// miette pads each label line to its column with a format width, which Rust caps at 65,535,
/// so a label far along a line made it panic. Lines this long are not worth drawing anyway:
/// a diagnostic on one is shown without the excerpt, its place written in the message.
const MAX_DRAWN_LINE: usize = 10_000;

/// A problem in user input, pointing at where it is.
#[derive(Debug)]
pub struct Diagnostic {
    code: Code,
    message: String,
    severity: Severity,
    source: Option<NamedSource<Arc<str>>>,
    labels: Vec<LabeledSpan>,
    help: Option<String>,
    /// Where the first label is, when a label lies on a line too long to draw; worked out
    /// once, since miette asks for the labels and the message many times per drawing.
    undrawable: OnceLock<Option<(usize, usize)>>,
}

impl Diagnostic {
    /// An error in `source` at `span`; `code` names the kind of problem (documented in
    /// references/playbook.md) so users can search for it.
    pub fn error(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            message: message.into(),
            severity: Severity::Error,
            source: None,
            labels: Vec::new(),
            help: None,
            undrawable: OnceLock::new(),
        }
    }

    pub fn warning(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    pub fn in_source(mut self, source: &Source) -> Self {
        self.source = Some(source.named());
        self
    }

    pub fn label(mut self, span: SourceSpan, text: impl Into<String>) -> Self {
        let text = text.into();
        let text = (!text.is_empty()).then_some(text);
        // miette draws labels in the order given; the first one is the primary.
        let primary = self.labels.is_empty();
        self.labels.push(if primary {
            LabeledSpan::new_primary_with_span(text, span)
        } else {
            LabeledSpan::new_with_span(text, span)
        });
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    pub fn code(&self) -> Code {
        self.code
    }

    /// The file, line and column (from 1) of the first label, when a label lies on a line
    /// too long to draw.
    fn undrawable_place(&self) -> Option<(&str, usize, usize)> {
        let source = self.source.as_ref()?;
        let (line, column) = (*self.undrawable.get_or_init(|| self.find_undrawable()))?;
        Some((source.name(), line, column))
    }

    fn find_undrawable(&self) -> Option<(usize, usize)> {
        let source = self.source.as_ref()?;
        let text = source.inner().as_bytes();
        let too_long = self.labels.iter().any(|label| {
            let start = label.offset().min(text.len());
            let end = (label.offset() + label.len()).min(text.len());
            let line_start = text[..start]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            let line_end = text[end..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(text.len(), |i| end + i);
            line_end - line_start > MAX_DRAWN_LINE
        });
        if !too_long {
            return None;
        }
        let at = self.labels.first()?.offset().min(text.len());
        let line_start = text[..at]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let line = text[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        let column = String::from_utf8_lossy(&text[line_start..at])
            .chars()
            .count()
            + 1;
        Some((line, column))
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        match self.undrawable_place() {
            Some((name, line, column)) => write!(f, " (at {name}:{line}:{column})"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for Diagnostic {}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!("tsync::{}", self.code)))
    }

    fn severity(&self) -> Option<Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        if self.undrawable_place().is_some() {
            return None;
        }
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() || self.undrawable_place().is_some() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }
}

/// Every diagnostic found so far, in the order found.
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    /// Removes the diagnostics of one kind (`errors_only`: only its errors), for a command
    /// to which that kind does not apply.
    pub fn drop_code(&mut self, code: Code, errors_only: bool) {
        self.items
            .retain(|d| d.code != code || (errors_only && !d.is_error()));
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.items.len() - self.error_count()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }
}
