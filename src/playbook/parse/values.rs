//! Reading a node's entries: its arguments and the scalar values in them (strings, whole
//! numbers, durations, amounts), each reporting what is wrong with a label on the entry.

use std::time::Duration;

use kdl::{KdlEntry, KdlNode, KdlValue};
use miette::SourceSpan;

use super::parser::Parser;
use crate::diagnostic::Code;
use crate::playbook::{Amount, Spanned, Template};

/// The longest duration accepted anywhere (timeouts, intervals, pauses, and the flags):
/// longer ones are typos (`70years`), and huge ones overflowed deadline arithmetic.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

impl Parser<'_> {
    /// The arguments of `node`: its entries without a name.
    pub(super) fn args<'n>(&self, node: &'n KdlNode) -> Vec<&'n KdlEntry> {
        node.entries()
            .iter()
            .filter(|e| e.name().is_none())
            .collect()
    }

    pub(super) fn no_args(&mut self, node: &KdlNode) {
        if let Some(extra) = self.args(node).first() {
            self.error(
                Code::WrongArguments,
                value_span(extra),
                format!("`{}` takes no arguments", node.name().value()),
                "unexpected argument",
                "remove it",
            );
        }
    }

    pub(super) fn no_children(&mut self, node: &KdlNode) {
        if node.children().is_some_and(|c| !c.nodes().is_empty()) {
            self.error(
                Code::UnexpectedChildren,
                node.name().span(),
                format!("`{}` takes no `{{ … }}` block", node.name().value()),
                "has a block",
                "remove the braces and what is inside",
            );
        }
    }

    pub(super) fn missing_arg(&mut self, node: &KdlNode, what: &str, example: &str) {
        self.error(
            Code::MissingArgument,
            node.name().span(),
            format!("`{}` needs a {what}", node.name().value()),
            format!("{what} missing"),
            format!("for example: {example}"),
        );
    }

    pub(super) fn one_string(&mut self, node: &KdlNode, what: &str) -> Option<Spanned<String>> {
        let args = self.args(node);
        match args.as_slice() {
            [] => {
                self.missing_arg(node, what, &format!("{} \"…\"", node.name().value()));
                None
            }
            [one] => self.string(one, what),
            [_, extra, ..] => {
                self.error(
                    Code::WrongArguments,
                    value_span(extra),
                    format!("`{}` takes one {what}", node.name().value()),
                    "extra argument",
                    "remove the extra values",
                );
                self.string(args[0], what)
            }
        }
    }

    /// One or more string arguments.
    pub(super) fn strings(&mut self, node: &KdlNode, what: &str) -> Vec<Spanned<String>> {
        let args = self.args(node);
        if args.is_empty() {
            self.missing_arg(node, what, &format!("{} \"…\"", node.name().value()));
        }
        args.into_iter()
            .filter_map(|a| self.string(a, what))
            .collect()
    }

    pub(super) fn string(&mut self, entry: &KdlEntry, what: &str) -> Option<Spanned<String>> {
        match entry.value() {
            KdlValue::String(s) => Some(Spanned::new(s.clone(), value_span(entry))),
            other => {
                self.wrong_type(entry, &format!("a string ({what})"), other);
                None
            }
        }
    }

    pub(super) fn one_integer(&mut self, node: &KdlNode, min: u32, max: u32) -> Option<u32> {
        let args = self.args(node);
        let [entry] = args.as_slice() else {
            self.error(
                Code::WrongArguments,
                node.name().span(),
                format!("`{}` takes exactly one number", node.name().value()),
                format!("{} values given", args.len()),
                format!("for example: {} 3", node.name().value()),
            );
            return None;
        };
        self.integer(entry, min, max)
    }

    /// Exactly one duration argument (see [`Parser::duration`]).
    pub(super) fn one_duration(&mut self, node: &KdlNode, zero_ok: bool) -> Option<Duration> {
        let args = self.args(node);
        let [entry] = args.as_slice() else {
            let example = format!("{} \"2s\"", node.name().value());
            self.missing_arg(node, "duration", &example);
            return None;
        };
        self.duration(entry, zero_ok).map(|d| d.value)
    }

    pub(super) fn integer(&mut self, entry: &KdlEntry, min: u32, max: u32) -> Option<u32> {
        match entry.value() {
            KdlValue::Integer(i) if (i128::from(min)..=i128::from(max)).contains(i) => {
                Some(*i as u32)
            }
            KdlValue::Integer(i) => {
                self.error(
                    Code::OutOfRange,
                    value_span(entry),
                    format!("{i} is out of range"),
                    "out of range",
                    format!("use a whole number from {min} to {max}"),
                );
                None
            }
            other => {
                self.wrong_type(entry, "a whole number", other);
                None
            }
        }
    }

    pub(super) fn status(&mut self, entry: &KdlEntry) -> Option<u16> {
        self.integer(entry, 100, 599).map(|s| s as u16)
    }

    /// A duration value; `zero_ok` says whether zero makes sense (a pause, an interval) or
    /// not (a timeout: every attempt would fail).
    pub(super) fn duration(
        &mut self,
        entry: &KdlEntry,
        zero_ok: bool,
    ) -> Option<Spanned<Duration>> {
        let span = value_span(entry);
        match entry.value() {
            KdlValue::String(s) => match humantime::parse_duration(s) {
                Ok(d) if d.is_zero() && !zero_ok => {
                    self.error(
                        Code::BadDuration,
                        span,
                        "a timeout of zero would fail every attempt",
                        "zero",
                        "give a positive duration such as \"30s\"",
                    );
                    None
                }
                Ok(d) if d > MAX_DURATION => {
                    self.error(
                        Code::BadDuration,
                        span,
                        format!("`{s}` is longer than a day"),
                        "too long",
                        "durations are at most 24h; is the unit right?",
                    );
                    None
                }
                Ok(d) => Some(Spanned::new(d, span)),
                Err(e) => {
                    self.error(
                        Code::BadDuration,
                        span,
                        format!("`{s}` is not a duration: {e}"),
                        "bad duration",
                        "write a duration like \"500ms\", \"2s\", \"10m\" or \"1h30m\"",
                    );
                    None
                }
            },
            KdlValue::Integer(i) => {
                self.error(
                    Code::BadDuration,
                    span,
                    format!("{i} has no unit"),
                    "which unit?",
                    format!("write the unit too: \"{i}s\" or \"{i}m\""),
                );
                None
            }
            other => {
                self.wrong_type(entry, "a duration string like \"2s\"", other);
                None
            }
        }
    }

    pub(super) fn amount(&mut self, entry: &KdlEntry, min: u32) -> Option<Amount> {
        match entry.value() {
            KdlValue::String(s) => match Amount::parse_percent(s) {
                Ok(a) => Some(a),
                Err(message) => {
                    self.error(
                        Code::BadAmount,
                        value_span(entry),
                        message,
                        "bad percentage",
                        "write a count (2) or a percentage (\"25%\")",
                    );
                    None
                }
            },
            KdlValue::Integer(_) => self.integer(entry, min, 100_000).map(Amount::Count),
            other => {
                self.wrong_type(entry, "a count (2) or a percentage (\"25%\")", other);
                None
            }
        }
    }

    pub(super) fn wrong_type(&mut self, entry: &KdlEntry, expected: &str, found: &KdlValue) {
        let found_kind = match found {
            KdlValue::String(_) => "a string",
            KdlValue::Integer(_) | KdlValue::Float(_) => "a number",
            KdlValue::Bool(_) => "a boolean",
            KdlValue::Null => "#null",
        };
        let help = match found {
            KdlValue::Integer(_) | KdlValue::Float(_) | KdlValue::Bool(_)
                if expected.starts_with("a string") =>
            {
                "put the value in quotes".to_string()
            }
            _ => format!("write {expected}"),
        };
        self.error(
            Code::WrongType,
            value_span(entry),
            format!("expected {expected}, found {found_kind}"),
            format!("{found_kind} here"),
            help,
        );
    }

    pub(super) fn shell_template(
        &mut self,
        text: Spanned<String>,
        repr: Option<&str>,
    ) -> Option<Template> {
        match Template::shell(text, repr) {
            Ok(t) => Some(t),
            Err(refused) => {
                for r in refused {
                    self.error(
                        Code::UnsafePlaceholder,
                        r.span,
                        format!(
                            "`{{{{{}}}}}` stands {}, where its value cannot be quoted safely",
                            r.name,
                            r.refusal.reason()
                        ),
                        "cannot be quoted here",
                        r.refusal
                            .help()
                            .replace("{{name}}", &format!("{{{{{}}}}}", r.name)),
                    );
                }
                None
            }
        }
    }

    /// How the string argument `value` of `node` was written in the file.
    pub(super) fn repr_of(&self, node: &KdlNode, value: &Spanned<String>) -> Option<String> {
        node.entries()
            .iter()
            .find(|e| value_span(e) == value.span)
            .and_then(|e| e.format().map(|f| f.value_repr.clone()))
    }
}

/// The span of an entry's value alone (an entry's span covers `key=value`).
pub(super) fn value_span(entry: &KdlEntry) -> SourceSpan {
    let span = entry.span();
    let len = entry
        .format()
        .map(|f| f.value_repr.len())
        .unwrap_or(span.len())
        .min(span.len());
    (span.offset() + span.len() - len, len).into()
}

/// Where the text of a string value starts in the file, when it was written without escapes
/// (so that offsets inside the text are offsets in the file).
pub(super) fn text_offset(value: &Spanned<String>, repr: Option<&str>) -> Option<usize> {
    let repr = repr?;
    let quote = repr.find('"')?;
    let body = &repr[quote + 1..];
    body.starts_with(value.value.as_str())
        .then_some(value.span.offset() + quote + 1)
        .filter(|_| !repr.starts_with("\"\"\""))
}
