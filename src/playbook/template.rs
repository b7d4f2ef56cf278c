//! Strings with `{{variable}}` placeholders.
//!
//! A placeholder inside a shell command is filled in quoted for the exact spot it lands in
//! (bare, inside `'…'` or inside `"…"`), so a value can never add shell syntax: whatever a
//! variable holds, the command sees it as literal text. Spots where no quoting is safe
//! (backticks, `${…}`, `$((…))`, here-documents) are refused when the playbook is checked.
//!
//! Only `{{name}}` with a plain variable name is a placeholder; anything else between braces
//! (`{{.Names}}` for docker, `{{json .}}`) is left as written.

use miette::SourceSpan;

use super::spanned::Spanned;

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
    quoting: Quoting,
}

/// How a value must be quoted where its placeholder stands.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Quoting {
    /// Not a shell command: the value goes in as it is.
    Verbatim,
    Bare,
    Single,
    Double,
}

/// A placeholder standing where tsync cannot quote a value safely.
#[derive(Debug, Clone, PartialEq)]
pub struct UnsafePlaceholder {
    pub name: String,
    pub span: SourceSpan,
    pub construct: &'static str,
}

impl Template {
    /// A plain string: values are inserted as they are.
    pub fn plain(text: Spanned<String>, repr: Option<&str>) -> Template {
        let parts = split(&text.value, text.span, repr)
            .into_iter()
            .map(|piece| match piece {
                Piece::Text(t) => Part::Text(t),
                Piece::Var(name, span) => Part::Var(Placeholder {
                    name,
                    span,
                    quoting: Quoting::Verbatim,
                }),
            })
            .collect();
        Template { text, parts }
    }

    /// A shell command: each value is quoted for its spot.
    pub fn shell(
        text: Spanned<String>,
        repr: Option<&str>,
    ) -> Result<Template, Vec<UnsafePlaceholder>> {
        let mut scanner = ShellScanner::default();
        let mut parts = Vec::new();
        let mut refused = Vec::new();
        for piece in split(&text.value, text.span, repr) {
            match piece {
                Piece::Text(t) => {
                    scanner.feed(&t);
                    parts.push(Part::Text(t));
                }
                Piece::Var(name, span) => match scanner.quoting() {
                    Ok(quoting) => parts.push(Part::Var(Placeholder {
                        name,
                        span,
                        quoting,
                    })),
                    Err(construct) => refused.push(UnsafePlaceholder {
                        name,
                        span,
                        construct,
                    }),
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

    /// Fills every placeholder; `lookup` must know every name (the playbook checker made
    /// sure of that), an unknown one is returned as the error.
    pub fn render<'v>(&self, lookup: impl Fn(&str) -> Option<&'v str>) -> Result<String, String> {
        let mut out = String::with_capacity(self.text.value.len());
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Var(v) => {
                    let value = lookup(&v.name).ok_or_else(|| v.name.clone())?;
                    quote_into(&mut out, value, v.quoting);
                }
            }
        }
        Ok(out)
    }
}

/// Quotes `value` as one bare shell word.
pub fn shell_quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    quote_into(&mut out, value, Quoting::Bare);
    out
}

fn quote_into(out: &mut String, value: &str, quoting: Quoting) {
    match quoting {
        Quoting::Verbatim => out.push_str(value),
        Quoting::Bare => {
            let plain = !value.is_empty()
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_./:@%+=,".contains(&b));
            if plain {
                out.push_str(value);
            } else {
                out.push('\'');
                out.push_str(&value.replace('\'', r"'\''"));
                out.push('\'');
            }
        }
        // Inside '…' nothing is special but the closing quote: end the quoted part, add an
        // escaped quote, start a new one.
        Quoting::Single => out.push_str(&value.replace('\'', r"'\''")),
        // Inside "…" exactly these four characters keep a meaning; a backslash disarms each.
        Quoting::Double => {
            for c in value.chars() {
                if matches!(c, '\\' | '"' | '$' | '`') {
                    out.push('\\');
                }
                out.push(c);
            }
        }
    }
}

enum Piece {
    Text(String),
    Var(String, SourceSpan),
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
            pieces.push(Piece::Var(name.to_string(), var_span));
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

/// Follows POSIX shell quoting through the literal parts of a command, far enough to know
/// how a value placed at the current point would be read.
#[derive(Default)]
struct ShellScanner {
    stack: Vec<Frame>,
    /// The previous character, to recognise `$(`, `${` and `<<`.
    prev: Option<char>,
    escaped: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Frame {
    Single,
    Double,
    /// `$(…)`: a command inside, quoted like the top level; counts nested parentheses.
    Subst(u32),
    /// A construct where no quoting is safe, until its end.
    Refused(&'static str, char, u32),
}

impl ShellScanner {
    fn top(&self) -> Option<Frame> {
        self.stack.last().copied()
    }

    fn quoting(&self) -> Result<Quoting, &'static str> {
        if let Some(refused) = self.stack.iter().find_map(|f| match f {
            Frame::Refused(what, ..) => Some(*what),
            _ => None,
        }) {
            return Err(refused);
        }
        Ok(match self.top() {
            None | Some(Frame::Subst(_)) => Quoting::Bare,
            Some(Frame::Single) => Quoting::Single,
            Some(Frame::Double) => Quoting::Double,
            Some(Frame::Refused(..)) => unreachable!("refused frames are found above"),
        })
    }

    fn feed(&mut self, text: &str) {
        for c in text.chars() {
            self.step(c);
            self.prev = Some(c);
        }
    }

    fn step(&mut self, c: char) {
        if self.escaped {
            self.escaped = false;
            // An escaped character is literal: it must not pair with the next one.
            self.prev = None;
            return;
        }
        match self.top() {
            Some(Frame::Single) => {
                if c == '\'' {
                    self.stack.pop();
                }
            }
            Some(Frame::Refused(what, close, depth)) => {
                let open = match close {
                    ')' => Some('('),
                    '}' => Some('{'),
                    _ => None,
                };
                if c == close && depth == 0 {
                    self.stack.pop();
                } else if c == close {
                    self.stack.pop();
                    self.stack.push(Frame::Refused(what, close, depth - 1));
                } else if Some(c) == open {
                    self.stack.pop();
                    self.stack.push(Frame::Refused(what, close, depth + 1));
                }
            }
            Some(Frame::Double) => match c {
                '\\' => self.escaped = true,
                '"' => {
                    self.stack.pop();
                }
                _ => self.dollar_or_backtick(c),
            },
            None | Some(Frame::Subst(_)) => match c {
                '\\' => self.escaped = true,
                '\'' => self.stack.push(Frame::Single),
                '"' => self.stack.push(Frame::Double),
                '<' if self.prev == Some('<') => {
                    self.stack.push(Frame::Refused("a here-document", '\0', 0))
                }
                '(' | ')' if matches!(self.top(), Some(Frame::Subst(_))) => {
                    let Some(Frame::Subst(depth)) = self.stack.pop() else {
                        return;
                    };
                    if c == '(' {
                        // `$((` opens arithmetic, where quotes are not allowed at all.
                        if self.prev == Some('(') && depth == 0 {
                            self.stack
                                .push(Frame::Refused("an arithmetic expansion", ')', 1));
                        } else {
                            self.stack.push(Frame::Subst(depth + 1));
                        }
                    } else if depth > 0 {
                        self.stack.push(Frame::Subst(depth - 1));
                    }
                }
                _ => self.dollar_or_backtick(c),
            },
        }
    }

    fn dollar_or_backtick(&mut self, c: char) {
        match c {
            '`' => self
                .stack
                .push(Frame::Refused("a backtick command substitution", '`', 0)),
            '(' if self.prev == Some('$') => self.stack.push(Frame::Subst(0)),
            '{' if self.prev == Some('$') => {
                self.stack
                    .push(Frame::Refused("a ${…} parameter expansion", '}', 0))
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn shell(text: &str) -> Result<Template, Vec<UnsafePlaceholder>> {
        Template::shell(Spanned::new(text.to_string(), (0, text.len()).into()), None)
    }

    /// Runs the rendered command through a real `sh` and returns what it printed.
    fn run_sh(command: &str) -> String {
        let out = Command::new("sh").arg("-c").arg(command).output().unwrap();
        String::from_utf8(out.stdout).unwrap()
    }

    const HOSTILE: &[&str] = &[
        "plain",
        "two words",
        "it's",
        "\"quoted\"",
        "$(touch /tmp/tsync-pwned)",
        "`touch /tmp/tsync-pwned`",
        "a; touch /tmp/tsync-pwned",
        "$HOME ${HOME} \\ \\\\ ' '' \"",
        "x\ny",
        "",
        "*",
        "-n",
        "a|b&c>d<e",
    ];

    #[test]
    fn values_reach_the_command_literally_in_every_quoting_context() {
        let forms = [
            "printf %s {{v}}",
            "printf %s '{{v}}'",
            "printf %s \"{{v}}\"",
            "printf %s \"pre {{v}} post\" | cat",
            "printf %s \"$(printf %s {{v}})\"",
            "printf %s \"$(printf %s \"{{v}}\")\"",
            "echo \\'; printf %s {{v}}",
            "printf %s 'it''s' {{v}}",
        ];
        for form in forms {
            let template = shell(form).unwrap();
            for value in HOSTILE {
                let command = template.render(|_| Some(*value)).unwrap();
                let expected_prefix = if form.contains("'it''s'") { "its" } else { "" };
                let expected = if form.contains("pre ") {
                    format!("pre {value} post")
                } else if form.starts_with("echo") {
                    format!("'\n{value}")
                } else {
                    format!("{expected_prefix}{value}")
                };
                assert_eq!(run_sh(&command), expected, "form {form:?} value {value:?}");
            }
        }
        assert!(!std::path::Path::new("/tmp/tsync-pwned").exists());
    }

    #[test]
    fn unsafe_spots_are_refused() {
        for form in [
            "echo `echo {{v}}`",
            "echo ${X:-{{v}}}",
            "echo $(( {{v}} + 1 ))",
            "cat <<EOF\n{{v}}\nEOF",
            "echo \"`{{v}}`\"",
        ] {
            let err = shell(form).unwrap_err();
            assert_eq!(err[0].name, "v", "{form}");
        }
        // …but a `$(…)` that has closed puts the scanner back at the top level.
        assert!(shell("echo $(date) {{v}}").is_ok());
        assert!(shell("echo $( (true) ) {{v}}").is_ok());
    }

    #[test]
    fn only_plain_names_are_placeholders() {
        let t = Template::plain(
            Spanned::new(
                "docker ps --format '{{.Names}}' {{ host }}".into(),
                (10, 40).into(),
            ),
            Some("\"docker ps --format '{{.Names}}' {{ host }}\""),
        );
        let names: Vec<_> = t.placeholders().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["host"]);
        assert_eq!(t.placeholders().next().unwrap().span, (10 + 33, 10).into());
        assert_eq!(
            t.render(|_| Some("web-1")).unwrap(),
            "docker ps --format '{{.Names}}' web-1"
        );
    }

    #[test]
    fn bare_words_stay_readable() {
        assert_eq!(shell_quote("/srv/web"), "/srv/web");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote(""), "''");
    }
}
