//! Strings with `{{variable}}` placeholders.
//!
//! A placeholder inside a shell command is filled in quoted for the exact spot it lands in,
//! as found by [`crate::shell`]'s scanner (a bare word, inside `'…'` or `"…"`, a here-document's
//! text, a comment), so a value can never add shell syntax: whatever a variable holds, the
//! command sees it as literal text. Spots where no quoting is certain are refused when the
//! playbook is checked.
//!
//! Only `{{name}}` with a plain variable name is a placeholder; anything else between braces
//! (`{{.Names}}` for docker, `{{json .}}`) is left as written.

use miette::SourceSpan;

use super::spanned::Spanned;
use crate::shell::{self, Piece as ShellPiece, Refusal, Spot};

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub text: Spanned<String>,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Var(Placeholder),
}

/// One `{{name}}` in a template.
#[derive(Debug, Clone, PartialEq)]
pub struct Placeholder {
    pub name: String,
    pub span: SourceSpan,
    /// The placeholder as written, kept where no value goes (a comment).
    written: String,
    fill: Fill,
}

/// How a value goes in where its placeholder stands.
#[derive(Debug, Clone, PartialEq)]
enum Fill {
    /// Not a shell command: the value goes in as it is.
    Verbatim,
    /// Quoted for its spot in a shell command; never a refused spot.
    Shell(Spot),
}

/// A placeholder standing where tsync cannot quote a value safely.
#[derive(Debug, Clone, PartialEq)]
pub struct UnsafePlaceholder {
    pub name: String,
    pub span: SourceSpan,
    pub refusal: Refusal,
}

/// Why a template could not be filled in.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RenderError {
    /// The checker made sure every name is defined: a bug if this is seen.
    #[error("`{0}` is not defined")]
    Undefined(String),
    #[error("the value of `{name}` holds a NUL character, which no command can carry")]
    Nul { name: String, span: SourceSpan },
    #[error("a line of `{name}`'s value would end the here-document (`{delimiter}`)")]
    EndsHereDoc {
        name: String,
        span: SourceSpan,
        delimiter: String,
    },
}

impl Template {
    /// A plain string: values are inserted as they are.
    pub fn plain(text: Spanned<String>, repr: Option<&str>) -> Template {
        let parts = split(&text.value, text.span, repr)
            .into_iter()
            .map(|piece| match piece {
                Piece::Text(t) => Part::Text(t),
                Piece::Var {
                    name,
                    span,
                    written,
                } => Part::Var(Placeholder {
                    name,
                    span,
                    written,
                    fill: Fill::Verbatim,
                }),
            })
            .collect();
        Template { text, parts }
    }

    /// A shell command: each value is quoted for its spot; spots where that is not certain
    /// are returned, every one of them.
    pub fn shell(
        text: Spanned<String>,
        repr: Option<&str>,
    ) -> Result<Template, Vec<UnsafePlaceholder>> {
        let pieces = split(&text.value, text.span, repr);
        let spots = shell::spots(pieces.iter().map(|p| match p {
            Piece::Text(t) => ShellPiece::Text(t),
            Piece::Var { .. } => ShellPiece::Hole,
        }));
        let mut spots = spots.into_iter();
        let mut parts = Vec::new();
        let mut refused = Vec::new();
        for piece in pieces {
            match piece {
                Piece::Text(t) => parts.push(Part::Text(t)),
                Piece::Var {
                    name,
                    span,
                    written,
                } => match spots.next().expect("one spot per placeholder") {
                    Spot::Refused(refusal) => refused.push(UnsafePlaceholder {
                        name,
                        span,
                        refusal,
                    }),
                    spot => parts.push(Part::Var(Placeholder {
                        name,
                        span,
                        written,
                        fill: Fill::Shell(spot),
                    })),
                },
            }
        }
        if refused.is_empty() {
            Ok(Template { text, parts })
        } else {
            Err(refused)
        }
    }

    pub fn placeholders(&self) -> impl Iterator<Item = &Placeholder> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(v) => Some(v),
            Part::Text(_) => None,
        })
    }

    pub fn has_placeholders(&self) -> bool {
        self.placeholders().next().is_some()
    }

    /// Fills every placeholder with the value `lookup` gives for its name.
    pub fn render<'v>(
        &self,
        lookup: impl Fn(&str) -> Option<&'v str>,
    ) -> Result<String, RenderError> {
        let mut out = String::with_capacity(self.text.value.len());
        // Values placed in here-documents: (start, end) in `out`, and the placeholder.
        let mut in_here_docs = Vec::new();
        for part in &self.parts {
            let v = match part {
                Part::Text(t) => {
                    out.push_str(t);
                    continue;
                }
                Part::Var(v) => v,
            };
            let value = lookup(&v.name).ok_or_else(|| RenderError::Undefined(v.name.clone()))?;
            if value.contains('\0') {
                return Err(RenderError::Nul {
                    name: v.name.clone(),
                    span: v.span,
                });
            }
            let start = out.len();
            match &v.fill {
                Fill::Verbatim => out.push_str(value),
                Fill::Shell(Spot::Comment) => out.push_str(&v.written),
                Fill::Shell(spot) => shell::quote(&mut out, value, spot),
            }
            if matches!(v.fill, Fill::Shell(Spot::HereDoc(_))) {
                in_here_docs.push((start, out.len(), v));
            }
        }
        // A value may hold the line that ends its here-document, or complete it with the text
        // around it: every line it touches is checked once the command is whole.
        for (start, end, v) in in_here_docs {
            let Fill::Shell(Spot::HereDoc(here)) = &v.fill else {
                continue;
            };
            let first = out[..start].rfind('\n').map_or(0, |i| i + 1);
            let last = out[end..].find('\n').map_or(out.len(), |i| end + i);
            if out[first..last].split('\n').any(|line| here.ends_at(line)) {
                return Err(RenderError::EndsHereDoc {
                    name: v.name.clone(),
                    span: v.span,
                    delimiter: here.delimiter.clone(),
                });
            }
        }
        Ok(out)
    }
}

enum Piece {
    Text(String),
    Var {
        name: String,
        span: SourceSpan,
        written: String,
    },
}

pub fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Splits `text` into literal text and placeholders. `repr` is the string as written in the
/// file (with quotes and escapes): placeholders are located in it to give each its own span.
fn split(text: &str, span: SourceSpan, repr: Option<&str>) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    let mut repr_search = repr.map(|r| (r, 0usize));
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let name = after[..end].trim();
        literal.push_str(&rest[..start]);
        let whole = &rest[start..start + 2 + end + 2];
        if is_var_name(name) {
            if !literal.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut literal)));
            }
            let var_span = match &mut repr_search {
                Some((r, from)) => match r[*from..].find(whole) {
                    Some(at) => {
                        let offset = span.offset() + *from + at;
                        *from += at + whole.len();
                        SourceSpan::from((offset, whole.len()))
                    }
                    None => span,
                },
                None => span,
            };
            pieces.push(Piece::Var {
                name: name.to_string(),
                span: var_span,
                written: whole.to_string(),
            });
        } else {
            literal.push_str(whole);
        }
        rest = &rest[start + 2 + end + 2..];
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        pieces.push(Piece::Text(literal));
    }
    pieces
}

#[cfg(test)]
mod tests;
