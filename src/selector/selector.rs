//! Parsing selectors. The grammar, loosest binding first:
//!
//! ```text
//! selector := inter ("," inter)*        union:        staging, production
//! inter    := unary ("&" unary)*        intersection: production & tag:web
//! unary    := "!" unary | atom          exclusion:    production & !db-1
//! atom     := "(" selector ")" | word   word: all, online, offline, tag:T, os:O, a glob, a name
//! ```
//!
//! A whole selector may also be `least-loaded(selector)` or `least-loaded(selector, N)`:
//! the hosts are the inner selector's, and [`Selector::pick`] says that the runner takes
//! only the N least loaded of them, measured when their stage starts.
//!
//! Every node keeps its span in the file it came from, so a resolution error (an unknown
//! group, say) underlines just that word.

use std::fmt;

use miette::SourceSpan;

use super::selector_error::SelectorError;
use crate::diagnostic::Code;

/// The deepest nesting of `( … )` and `!` read. Parsing, evaluating and dropping a selector
/// recurse once per level, so a selector of thousands of `(` or `!` (from a file, a script or
/// a fuzzer) must be refused before it reaches the end of the stack.
pub const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq)]
pub struct Selector {
    pub text: String,
    pub span: SourceSpan,
    pub expr: Expr,
    /// `least-loaded(…, N)`: run on N of the hosts, the least loaded when it starts.
    pub pick: Option<usize>,
    /// For a selector whose text had placeholders: what they were filled in with
    /// (`` `{{from}}` is `web-9` ``), said by every error about it, since none can point
    /// at the filled-in words themselves.
    pub filled: Option<String>,
}

/// The word that starts a `least-loaded(…)` selector.
const LEAST_LOADED: &str = "least-loaded";
/// The most hosts `least-loaded(…, N)` picks: more is not placement but a rollout.
pub const MAX_PICK: usize = 1000;

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Atom(Atom, SourceSpan),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Atom {
    All,
    Online,
    Offline,
    Tag(String),
    Os(String),
    /// A pattern with `*`, `?` or `[…]`, matched against host names.
    Glob(String),
    /// A group or a host name.
    Name(String),
}

impl Selector {
    /// Parses `text`, whose first character sits at `offset` in its source (or, when the
    /// text was written with escapes, errors point at `fallback`, the whole value).
    pub fn parse(
        text: &str,
        offset: Option<usize>,
        fallback: SourceSpan,
    ) -> Result<Selector, SelectorError> {
        let mut pick = None;
        let expr = lex(text).and_then(|tokens| {
            let (tokens, end) = match least_loaded(tokens)? {
                Unwrapped::Plain(tokens) => (tokens, text.len()),
                Unwrapped::Pick { inner, count, end } => {
                    pick = Some(count);
                    (inner, end)
                }
            };
            let mut parser = Parser {
                tokens,
                pos: 0,
                end,
                depth: 0,
            };
            let expr = parser.union()?;
            match parser.peek() {
                None => Ok(expr),
                Some(token) => Err(unexpected(token, "expected `,`, `&` or the end")),
            }
        });
        let place = |span: SourceSpan| match offset {
            Some(base) => SourceSpan::from((base + span.offset(), span.len())),
            None => fallback,
        };
        match expr {
            Ok(mut expr) => {
                expr.relocate(&place);
                Ok(Selector {
                    text: text.to_string(),
                    span: fallback,
                    expr,
                    pick,
                    filled: None,
                })
            }
            Err(mut error) => {
                error.span = place(error.span);
                Err(error)
            }
        }
    }

    /// A selector built in code (`all`), spanning `span`.
    pub fn all(span: SourceSpan) -> Selector {
        Selector {
            text: "all".into(),
            span,
            expr: Expr::Atom(Atom::All, span),
            pick: None,
            filled: None,
        }
    }

    /// The selector, noting what its placeholders were filled in with.
    pub fn filled_in(mut self, note: String) -> Selector {
        self.filled = Some(note);
        self
    }

    /// Every word in the selector with its span.
    pub fn atoms(&self) -> Vec<(&Atom, SourceSpan)> {
        let mut out = Vec::new();
        self.expr.collect_atoms(&mut out);
        out
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Expr {
    fn relocate(&mut self, place: &impl Fn(SourceSpan) -> SourceSpan) {
        match self {
            Expr::Atom(_, span) => *span = place(*span),
            Expr::Not(inner) => inner.relocate(place),
            Expr::And(items) | Expr::Or(items) => items.iter_mut().for_each(|e| e.relocate(place)),
        }
    }

    fn collect_atoms<'a>(&'a self, out: &mut Vec<(&'a Atom, SourceSpan)>) {
        match self {
            Expr::Atom(atom, span) => out.push((atom, *span)),
            Expr::Not(inner) => inner.collect_atoms(out),
            Expr::And(items) | Expr::Or(items) => items.iter().for_each(|e| e.collect_atoms(out)),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Comma,
    Amp,
    Bang,
    Open,
    Close,
}

type Spanned = (Token, usize, usize);

/// A selector's tokens with a `least-loaded(…)` around them taken off.
enum Unwrapped {
    Plain(Vec<Spanned>),
    Pick {
        inner: Vec<Spanned>,
        count: usize,
        /// Where the inner selector ends: its closing `)` or the `, N`.
        end: usize,
    },
}

/// Takes `least-loaded(` … `)` off a whole selector, and a trailing `, N` inside it.
fn least_loaded(mut tokens: Vec<Spanned>) -> Result<Unwrapped, SelectorError> {
    let wrapped = matches!(tokens.as_slice(), [(Token::Word(w), ..), (Token::Open, ..), ..] if w == LEAST_LOADED);
    if !wrapped {
        return Ok(Unwrapped::Plain(tokens));
    }
    let open = tokens[1].1;
    // The `(` after the word must close at the very end.
    let mut depth = 0usize;
    let mut closes = None;
    for (i, token) in tokens.iter().enumerate().skip(1) {
        match token.0 {
            Token::Open => depth += 1,
            Token::Close => {
                depth -= 1;
                if depth == 0 {
                    closes = Some(i);
                    break;
                }
            }
            _ => {}
        }
    }
    let Some(close) = closes else {
        return Err(SelectorError::new(
            "unclosed `(` in selector",
            (open, 1).into(),
            "this `(` is never closed",
        )
        .help("write `least-loaded(web)` or `least-loaded(web, 2)`"));
    };
    if close + 1 != tokens.len() {
        return Err(whole_selector(tokens[0].1, tokens[close].2));
    }
    let close_at = tokens[close].1;
    tokens.truncate(close);
    let mut inner: Vec<Spanned> = tokens.drain(2..).collect();
    let mut count = 1;
    let mut inner_end = close_at;
    if let [.., (Token::Comma, comma, _), (Token::Word(n), at, to)] = inner.as_slice()
        && n.bytes().all(|b| b.is_ascii_digit())
    {
        count = match n.parse::<usize>() {
            Ok(c) if (1..=MAX_PICK).contains(&c) => c,
            _ => {
                return Err(SelectorError::new(
                    format!("`least-loaded` picks from 1 to {MAX_PICK} hosts"),
                    (*at, to - at).into(),
                    "not a count of hosts it can pick",
                )
                .help("write `least-loaded(web, 2)` for the two least loaded web hosts"));
            }
        };
        inner_end = *comma;
        inner.truncate(inner.len() - 2);
    }
    if inner.is_empty() {
        return Err(SelectorError::new(
            "`least-loaded` needs the hosts to pick from",
            (open, close_at + 1 - open).into(),
            "no selector inside",
        )
        .help("write `least-loaded(web)` for the least loaded host of the group `web`"));
    }
    Ok(Unwrapped::Pick {
        inner,
        count,
        end: inner_end,
    })
}

/// `least-loaded(…)` inside a larger selector, where it cannot mean anything.
fn whole_selector(from: usize, to: usize) -> SelectorError {
    SelectorError::new(
        "`least-loaded(…)` must be the whole selector",
        (from, to - from).into(),
        "combined with other hosts here",
    )
    .help("put every candidate inside: `least-loaded(web, db & !db-1)`")
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '*' | '?' | '[' | ']' | ':' | '@' | '+')
}

fn lex(text: &str) -> Result<Vec<Spanned>, SelectorError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let single = match c {
            ',' => Some(Token::Comma),
            '&' => Some(Token::Amp),
            '!' => Some(Token::Bang),
            '(' => Some(Token::Open),
            ')' => Some(Token::Close),
            _ => None,
        };
        if let Some(token) = single {
            tokens.push((token, at, at + 1));
        } else if c.is_whitespace() {
            continue;
        } else if is_word_char(c) {
            let mut end = at + c.len_utf8();
            // Inside a `[…]` class, `!` negates the class instead of starting an exclusion.
            let mut in_class = c == '[';
            while let Some(&(next_at, next)) = chars.peek() {
                let negation = in_class && next == '!' && text[..next_at].ends_with('[');
                if !is_word_char(next) && !negation {
                    break;
                }
                match next {
                    '[' => in_class = true,
                    ']' => in_class = false,
                    _ => {}
                }
                end = next_at + next.len_utf8();
                chars.next();
            }
            tokens.push((Token::Word(text[at..end].to_string()), at, end));
        } else {
            let mut error = SelectorError::new(
                format!("unexpected `{c}` in selector"),
                (at, c.len_utf8()).into(),
                "not allowed here",
            )
            .help("combine hosts and groups with `,` (union), `&` (both) and `!` (except)");
            if c == '|' {
                error = error.help("write a union with `,`: `web, db`");
            }
            return Err(error);
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Spanned>,
    pos: usize,
    end: usize,
    /// `(` and `!` open around the current token.
    depth: usize,
}

fn unexpected(token: &Spanned, expected: &str) -> SelectorError {
    let (kind, help) = match &token.0 {
        Token::Word(w) => (
            format!("`{w}`"),
            "two names in a row need an operator between them: `a, b` for either, `a & b` for both",
        ),
        Token::Comma => ("`,`".into(), "`,` joins two selectors: `web, db`"),
        Token::Amp => ("`&`".into(), "`&` joins two selectors: `web & tag:prod`"),
        Token::Bang => (
            "`!`".into(),
            "`!` comes before what it excludes: `web & !web-3`",
        ),
        Token::Open => (
            "`(`".into(),
            "parentheses group a selector: `(web, db) & !db-1`",
        ),
        Token::Close => ("`)`".into(), "this `)` has no `(` before it"),
    };
    SelectorError::new(
        format!("unexpected {kind} in selector"),
        (token.1, token.2 - token.1).into(),
        expected,
    )
    .help(help)
}

impl Parser {
    fn peek(&self) -> Option<&Spanned> {
        self.tokens.get(self.pos)
    }

    fn eat(&mut self, token: &Token) -> bool {
        if self.peek().is_some_and(|t| &t.0 == token) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn union(&mut self) -> Result<Expr, SelectorError> {
        let mut items = vec![self.inter()?];
        while self.eat(&Token::Comma) {
            items.push(self.inter()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn inter(&mut self) -> Result<Expr, SelectorError> {
        let mut items = vec![self.unary()?];
        while self.eat(&Token::Amp) {
            items.push(self.unary()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::And(items)
        })
    }

    fn unary(&mut self) -> Result<Expr, SelectorError> {
        if let Some(&(Token::Bang | Token::Open, at, _)) = self.peek() {
            if self.depth == MAX_DEPTH {
                return Err(SelectorError::new(
                    format!("selector nests deeper than {MAX_DEPTH} levels"),
                    (at, 1).into(),
                    "too deep",
                )
                .code(Code::SelectorTooDeep)
                .help("write fewer levels of `( … )` and `!`: `!!web` is just `web`"));
            }
            self.depth += 1;
            let inner = self.nested();
            self.depth -= 1;
            return inner;
        }
        let Some(token) = self.peek().cloned() else {
            return Err(SelectorError::new(
                "selector ends too early",
                (self.end, 0).into(),
                "a host, group or pattern is missing here",
            )
            .help("a selector names hosts: `all`, `web-1`, `staging`, `web-*`, `tag:prod`"));
        };
        self.pos += 1;
        if let (Token::Word(word), at, end) = &token
            && word == LEAST_LOADED
            && self.peek().is_some_and(|t| t.0 == Token::Open)
        {
            return Err(whole_selector(*at, *end));
        }
        match token {
            (Token::Word(word), at, end) => Ok(Expr::Atom(atom(&word, at)?, (at, end - at).into())),
            other => Err(unexpected(&other, "expected a host, group or pattern")),
        }
    }

    /// `!` followed by what it excludes, or a selector in parentheses; one level deeper.
    fn nested(&mut self) -> Result<Expr, SelectorError> {
        if self.eat(&Token::Bang) {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        let at = self.peek().map_or(self.end, |t| t.1);
        self.pos += 1;
        let inner = self.union()?;
        if !self.eat(&Token::Close) {
            return Err(SelectorError::new(
                "unclosed `(` in selector",
                (at, 1).into(),
                "this `(` is never closed",
            )
            .help("add a `)` after the grouped selector"));
        }
        Ok(inner)
    }
}

fn atom(word: &str, at: usize) -> Result<Atom, SelectorError> {
    let prefixed = |prefix: &str, value: &str, what: &str| {
        if value.is_empty() {
            Err(SelectorError::new(
                format!("`{prefix}` needs a {what}"),
                (at, word.len()).into(),
                format!("no {what} after `{prefix}`"),
            )
            .help(format!(
                "for example `{prefix}{}`",
                if prefix == "tag:" { "prod" } else { "linux" }
            )))
        } else {
            Ok(value.to_string())
        }
    };
    Ok(match word {
        "all" => Atom::All,
        "online" => Atom::Online,
        "offline" => Atom::Offline,
        _ if word.starts_with("tag:") => {
            Atom::Tag(format!("tag:{}", prefixed("tag:", &word[4..], "tag name")?))
        }
        _ if word.starts_with("os:") => {
            Atom::Os(prefixed("os:", &word[3..], "system name")?.to_lowercase())
        }
        _ if word.contains(['*', '?', '[']) => Atom::Glob(word.to_string()),
        _ => Atom::Name(word.to_string()),
    })
}

#[cfg(test)]
mod tests;
