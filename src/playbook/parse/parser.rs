//! The parser's core: the entry points, reading the KDL itself (on a thread with a large
//! stack) and collecting every problem found.
//!
//! The mapping from KDL is written by hand (kdl's serde layer loses spans and mis-fills
//! missing fields): each node kind has a function that reads its entries, reports what is
//! wrong with a label on the exact entry, and returns what it could make of the rest, so
//! that one run shows all the mistakes of a file. Files are read only after parsing, by the
//! [`Loader`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use kdl::{KdlDocument, KdlNode};
use miette::SourceSpan;

use super::load::Loader;
use super::prescan::{MAX_DEPTH, Refusal, prescan};
use crate::diagnostic::{Code, Diagnostic, Diagnostics, Source};
use crate::playbook::Playbook;

/// Reads one KDL file, a playbook or an inventory file, into typed values.
pub struct Parser<'a> {
    pub(super) source: &'a Source,
    /// The playbook's directory: where the load phase looks up `script` paths, and what a
    /// sync's relative local path is relative to.
    pub(super) base_dir: PathBuf,
    /// Every problem found, in the order found. Not a [`Diagnostics`] yet: the load phase's
    /// problems are put among them at the place each file is named.
    pub(super) found: Vec<Diagnostic>,
    /// For each script step parsed, in order: how many problems had been found before it,
    /// which is where a problem reading its file goes.
    pub(super) scripts: Vec<usize>,
    /// What a placeholder in a selector (`on`, `lock on=`) is filled in with: the
    /// playbook's `vars`, overridden by `--var`. Read before any stage, wherever `vars` is.
    pub(super) values: HashMap<String, String>,
}

impl<'a> Parser<'a> {
    /// `base_dir` is where `script` paths are looked up: the playbook's directory.
    pub fn new(source: &'a Source, base_dir: &Path) -> Self {
        Parser {
            source,
            base_dir: base_dir.to_path_buf(),
            found: Vec::new(),
            scripts: Vec::new(),
            values: HashMap::new(),
        }
    }

    /// Parses a playbook, then loads the scripts it names. `vars` are the variables given
    /// on the command line (`--var`), which win over the playbook's own; the built-ins are
    /// added. The playbook is returned whenever the KDL itself was readable, with as much as
    /// could be made of it, so that later checks can still report their own findings.
    pub fn playbook(mut self, vars: &[(String, String)]) -> (Option<Playbook>, Diagnostics) {
        let Some(doc) = self.kdl() else {
            return (None, self.finish(Vec::new()));
        };
        let mut playbook = self.document(&doc, vars);
        let unread = Loader::new(self.source, &self.base_dir).load(&mut playbook);
        (Some(playbook), self.finish(unread))
    }

    /// Parses a playbook without its load phase: its scripts are left unread. For a playbook
    /// that is not on disk (the built-in workflows, embedded in the binary), whose scripts
    /// are not either.
    pub fn playbook_unloaded(
        mut self,
        vars: &[(String, String)],
    ) -> (Option<Playbook>, Diagnostics) {
        let Some(doc) = self.kdl() else {
            return (None, self.finish(Vec::new()));
        };
        let playbook = self.document(&doc, vars);
        let unread = self.scripts.iter().map(|_| None).collect();
        (Some(playbook), self.finish(unread))
    }

    /// The problems found, with `unread` (the load phase's: one per script step, in order,
    /// `None` for a script that was read) each put where its script was parsed: problems are
    /// reported in the order parsing meets them, a script's with its step's.
    pub(super) fn finish(self, unread: Vec<Option<Diagnostic>>) -> Diagnostics {
        debug_assert_eq!(self.scripts.len(), unread.len(), "one load per script step");
        let mut unread = self
            .scripts
            .into_iter()
            .zip(unread)
            .filter_map(|(slot, problem)| Some((slot, problem?)))
            .peekable();
        let mut diagnostics = Diagnostics::default();
        for (at, found) in self.found.into_iter().enumerate() {
            while let Some((_, problem)) = unread.next_if(|(slot, _)| *slot <= at) {
                diagnostics.push(problem);
            }
            diagnostics.push(found);
        }
        unread.for_each(|(_, problem)| diagnostics.push(problem));
        diagnostics
    }

    /// The KDL document, or `None` (with the reasons reported) when the text is not KDL
    /// tsync can read.
    pub(super) fn kdl(&mut self) -> Option<KdlDocument> {
        if let Err(refusal) = prescan(&self.source.text) {
            self.refuse(refusal);
            return None;
        }
        match parse_kdl(&self.source.text) {
            Ok(doc) => Some(doc),
            Err(error) => {
                for d in error.diagnostics {
                    let message = d.message.unwrap_or_else(|| "invalid KDL".into());
                    let help = d.help.unwrap_or_else(|| {
                        "tsync reads KDL 2.0: strings in \"quotes\", booleans as #true/#false, \
                         children in { }"
                            .into()
                    });
                    self.found.push(
                        Diagnostic::error(Code::KdlSyntax, lowercase_first(&message))
                            .in_source(self.source)
                            .label(d.span, d.label.unwrap_or_default())
                            .help(help),
                    );
                }
                None
            }
        }
    }

    /// Reports text the KDL parser must not be given (see [`prescan`]).
    fn refuse(&mut self, refusal: Refusal) {
        let (code, span, message, label, help) = match refusal {
            Refusal::DeepBlocks(at) => (
                Code::TooDeep,
                (at, 1).into(),
                format!("blocks nest deeper than {MAX_DEPTH} levels"),
                "this block is too deep",
                "a playbook needs at most three levels of `{ … }`; is a `}` missing?",
            ),
            Refusal::DeepComments(at) => (
                Code::TooDeep,
                (at, 2).into(),
                format!("`/* */` comments nest deeper than {MAX_DEPTH} levels"),
                "this comment is too deep",
                "comments nest: each `/*` needs its own `*/`; is one missing?",
            ),
            Refusal::LongSlashdash(at) => (
                Code::TooDeep,
                (at, 2).into(),
                format!("more than {MAX_DEPTH} `/-` in one node"),
                "one too many",
                "one `/-` comments out the node, value or block after it; remove the others",
            ),
            Refusal::UnclosedString(span) => (
                Code::KdlSyntax,
                span,
                "unclosed string".to_string(),
                "this string is never closed",
                "end it with a quote on the same line; for text of several lines, put `\"\"\"` \
                 on lines of their own around it",
            ),
            Refusal::UnclosedComment(at) => (
                Code::KdlSyntax,
                (at, 2).into(),
                "unclosed `/*` comment".to_string(),
                "this comment is never closed",
                "end the comment with `*/`",
            ),
            Refusal::BadEscape(span) => (
                Code::KdlSyntax,
                span,
                "unknown escape in a string".to_string(),
                "not an escape KDL knows",
                "escapes are \\\" \\\\ \\n \\t \\r \\b \\f \\s and \\u{1F600}; for a literal \\, \\
                 write \\\\ or use a raw string: #\"…\"#",
            ),
            Refusal::Disallowed(at, c) => (
                Code::KdlSyntax,
                (at, c.len_utf8()).into(),
                format!("character U+{:04X} is not allowed in KDL", u32::from(c)),
                "not allowed, even in a string",
                "remove it; to put a control character in a value, escape it: \"\\u{1b}\"",
            ),
            Refusal::Glued(at) => (
                Code::KdlSyntax,
                (at, 1).into(),
                "no space before this value".to_string(),
                "glued to what comes before",
                "KDL needs a space between a node's name, values and properties: \
                 `run \"make\" cwd=\"/srv\"`",
            ),
            Refusal::StrayClose(at) => (
                Code::KdlSyntax,
                (at, 1).into(),
                "`}` closes no block".to_string(),
                "no `{` before it is still open",
                "remove it, or add the `{` it was meant to close",
            ),
            Refusal::Unexpected(at, c) => (
                Code::KdlSyntax,
                (at, c.len_utf8()).into(),
                if c.is_control() || c.is_whitespace() {
                    "unexpected line break".to_string()
                } else {
                    format!("unexpected `{c}`")
                },
                "not allowed here",
                match c {
                    '/' => "comments are `// …` and `/* … */`; `/-` comments out what follows it",
                    '\\' => "`\\` continues a node on the next line, so nothing may follow it",
                    '=' => "`=` joins a property's name and value: `run \"make\" timeout=\"10m\"`",
                    // The rest are inside or after a type annotation, or after a bare `=`.
                    _ => {
                        "a property needs a value after `=`, and `( )` holds one type before a \
                          value: `(t)\"x\"`"
                    }
                },
            ),
            Refusal::BadMultiline(span) => (
                Code::KdlSyntax,
                span,
                "text follows `\"\"\"` on its line".to_string(),
                "a multi-line string starts here",
                "start the text on the next line; for text on one line, use one quote: \"…\"",
            ),
        };
        self.error(code, span, message, label, help);
    }

    pub(super) fn duplicate_node(&mut self, node: &KdlNode, first: SourceSpan, help: &str) {
        self.found.push(
            Diagnostic::error(
                Code::DuplicateNode,
                format!("`{}` is given twice", node.name().value()),
            )
            .in_source(self.source)
            .label(node.name().span(), "again here")
            .label(first, "first here")
            .help(help.to_string()),
        );
    }

    /// Reports an error with one label.
    pub(super) fn error(
        &mut self,
        code: Code,
        span: SourceSpan,
        message: impl Into<String>,
        label: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.found.push(
            Diagnostic::error(code, message)
                .in_source(self.source)
                .label(span, label)
                .help(help),
        );
    }
}

/// The KDL parser's stack: the pre-scan bounds its recursion, and this leaves room to spare
/// should its error recovery ever read a file other than the pre-scan did.
const PARSER_STACK: usize = 64 << 20;

/// Parses KDL on a thread of its own with a [`PARSER_STACK`]-sized stack (only the pages
/// used cost memory).
fn parse_kdl(text: &str) -> Result<KdlDocument, kdl::KdlError> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("kdl-parser".into())
            .stack_size(PARSER_STACK)
            .spawn_scoped(scope, || KdlDocument::parse_v2(text))
            .map(|parser| {
                parser
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            // Without a thread (the system is out of them), parse on this one.
            .unwrap_or_else(|_| KdlDocument::parse_v2(text))
    })
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
