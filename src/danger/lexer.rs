//! Command text → words and operators, read as a POSIX shell (or bash) reads them: quotes
//! (`'…'`, `"…"`, `$'…'`, `$"…"`), backslashes, parameters, globs, comments,
//! here-documents, operators and redirections. The commands inside `$( … )`, `<( … )` and
//! backticks are lexed too, each into a list of its own, so that they are judged like any
//! other command.
//!
//! One pass over the text; only a substitution inside a substitution recurses, and that is
//! bounded by [`MAX_DEPTH`](super::MAX_DEPTH).

use super::MAX_DEPTH;
use super::word::{Part, Word};

/// A separator or a redirection: what splits words into commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `;` or a newline.
    Semi,
    /// `;;`, `;&`, `;;&`: the end of a `case` branch.
    CaseEnd,
    And,
    Or,
    /// `|` or `|&`.
    Pipe,
    /// `&`: runs what is before it in the background.
    Amp,
    Open,
    Close,
    Redirect(Redirect),
}

/// What a redirection does with the word after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redirect {
    /// `>`, `>|`, `&>`: the file is truncated, then written.
    Truncate,
    /// `>>`, `&>>`, `<>`: the file is written without truncating it.
    Append,
    /// `<`, `>&`, `<&`: read from, or a descriptor copied.
    Other,
    /// `<<`, `<<-` (`strip_tabs`): the word is the here-document's text, once its lines are
    /// read.
    HereDoc { strip_tabs: bool },
    /// `<<<`: the word is the command's input.
    HereString,
}

#[derive(Debug, Clone)]
pub enum Token {
    Word(Word),
    Op(Op),
}

/// The tokens of a command, and those of every substitution in it.
#[derive(Debug, Default)]
pub struct Lexed {
    pub lists: Vec<Vec<Token>>,
    /// A substitution nested deeper than [`MAX_DEPTH`]: what is inside was not read.
    pub too_deep: bool,
}

/// Lexes `text`, `depth` levels of nesting down already.
pub fn lex(text: &str, depth: usize) -> Lexed {
    let chars: Vec<char> = text.chars().collect();
    let mut lexed = Lexed::default();
    let mut lexer = Lexer {
        chars: &chars,
        at: 0,
        out: &mut lexed,
        heredocs: Vec::new(),
    };
    let tokens = lexer.list(depth, false);
    lexed.lists.push(tokens);
    lexed
}

struct Lexer<'a> {
    chars: &'a [char],
    at: usize,
    out: &'a mut Lexed,
    /// Here-documents whose text starts after the next newline: delimiter, strip tabs, and
    /// the index of the token that gets the text.
    heredocs: Vec<(String, bool, usize)>,
}

impl Lexer<'_> {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.at + ahead).copied()
    }

    /// Reads tokens up to the end, or (`inside`) up to the `)` that closes a substitution.
    fn list(&mut self, depth: usize, inside: bool) -> Vec<Token> {
        let mut tokens = Vec::new();
        let mut open = 0usize;
        while let Some(c) = self.peek(0) {
            match c {
                ' ' | '\t' => self.at += 1,
                '\\' if self.peek(1) == Some('\n') => self.at += 2,
                '\n' => {
                    self.at += 1;
                    tokens.push(Token::Op(Op::Semi));
                    self.read_heredocs(&mut tokens);
                }
                '#' => {
                    while self.peek(0).is_some_and(|c| c != '\n') {
                        self.at += 1;
                    }
                }
                ')' if inside && open == 0 => {
                    self.at += 1;
                    return tokens;
                }
                ';' | '&' | '|' | '(' | ')' | '<' | '>' => {
                    let op = self.operator();
                    match op {
                        Op::Open => open += 1,
                        Op::Close => open = open.saturating_sub(1),
                        _ => {}
                    }
                    // `<(…)` and `>(…)`: a process substitution, read as a command.
                    if matches!(op, Op::Redirect(_)) && self.peek(0) == Some('(') {
                        self.at += 1;
                        self.substitution(depth);
                        tokens.push(Token::Word(Word::new(vec![Part::Subst])));
                        continue;
                    }
                    if let Op::Redirect(Redirect::HereDoc { strip_tabs }) = op {
                        tokens.push(Token::Op(op));
                        let word = self.word(depth);
                        let delimiter = word.unquoted_text();
                        self.heredocs.push((delimiter, strip_tabs, tokens.len()));
                        tokens.push(Token::Word(word));
                        continue;
                    }
                    tokens.push(Token::Op(op));
                }
                _ => {
                    let word = self.word(depth);
                    // `2>file`: a descriptor number glued to a redirection is not a word.
                    let fd = word
                        .literal()
                        .is_some_and(|w| w.chars().all(|c| c.is_ascii_digit()));
                    if !(fd && matches!(self.peek(0), Some('<' | '>'))) {
                        tokens.push(Token::Word(word));
                    }
                }
            }
        }
        tokens
    }

    fn operator(&mut self) -> Op {
        let c = self.chars[self.at];
        let next = self.peek(1);
        let (op, len) = match (c, next) {
            (';', Some(';')) if self.peek(2) == Some('&') => (Op::CaseEnd, 3),
            (';', Some(';' | '&')) => (Op::CaseEnd, 2),
            (';', _) => (Op::Semi, 1),
            ('&', Some('&')) => (Op::And, 2),
            ('&', Some('>')) if self.peek(2) == Some('>') => (Op::Redirect(Redirect::Append), 3),
            ('&', Some('>')) => (Op::Redirect(Redirect::Truncate), 2),
            ('&', _) => (Op::Amp, 1),
            ('|', Some('|')) => (Op::Or, 2),
            ('|', Some('&')) => (Op::Pipe, 2),
            ('|', _) => (Op::Pipe, 1),
            ('(', _) => (Op::Open, 1),
            (')', _) => (Op::Close, 1),
            ('<', Some('<')) if self.peek(2) == Some('<') => {
                (Op::Redirect(Redirect::HereString), 3)
            }
            ('<', Some('<')) if self.peek(2) == Some('-') => {
                (Op::Redirect(Redirect::HereDoc { strip_tabs: true }), 3)
            }
            ('<', Some('<')) => (Op::Redirect(Redirect::HereDoc { strip_tabs: false }), 2),
            ('<', Some('>')) => (Op::Redirect(Redirect::Append), 2),
            ('<', Some('&')) => (Op::Redirect(Redirect::Other), 2),
            ('<', _) => (Op::Redirect(Redirect::Other), 1),
            ('>', Some('>')) => (Op::Redirect(Redirect::Append), 2),
            ('>', Some('|')) => (Op::Redirect(Redirect::Truncate), 2),
            // `>&2` copies a descriptor; `>&file` (bash) is `&>file`.
            ('>', Some('&')) if self.peek(2).is_some_and(|c| c.is_ascii_digit() || c == '-') => {
                (Op::Redirect(Redirect::Other), 2)
            }
            ('>', Some('&')) => (Op::Redirect(Redirect::Truncate), 2),
            _ => (Op::Redirect(Redirect::Truncate), 1),
        };
        self.at += len;
        op
    }

    /// Reads the text of the here-documents started on the line just ended into their
    /// tokens: it is a command's input, not commands of this one.
    fn read_heredocs(&mut self, tokens: &mut [Token]) {
        for (delimiter, strip_tabs, index) in std::mem::take(&mut self.heredocs) {
            let mut text = String::new();
            while self.at < self.chars.len() {
                let start = self.at;
                while self.peek(0).is_some_and(|c| c != '\n') {
                    self.at += 1;
                }
                let line: String = self.chars[start..self.at].iter().collect();
                self.at = (self.at + 1).min(self.chars.len());
                let line = if strip_tabs {
                    line.trim_start_matches('\t')
                } else {
                    &line
                };
                if line == delimiter {
                    break;
                }
                text.push_str(line);
                text.push('\n');
            }
            tokens[index] = Token::Word(Word::new(vec![Part::Lit(text)]));
        }
    }

    /// One word, up to an unquoted blank or operator.
    fn word(&mut self, depth: usize) -> Word {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let start = self.at;
        while let Some(c) = self.peek(0) {
            match c {
                ' ' | '\t' | '\n' | ';' | '&' | '|' | '(' | ')' | '<' | '>' => break,
                '\\' => {
                    match self.peek(1) {
                        Some('\n') => {}
                        Some(next) => lit.push(next),
                        None => {}
                    }
                    self.at = (self.at + 2).min(self.chars.len());
                }
                '\'' => {
                    self.at += 1;
                    while let Some(c) = self.peek(0) {
                        self.at += 1;
                        if c == '\'' {
                            break;
                        }
                        lit.push(c);
                    }
                }
                '"' => {
                    self.at += 1;
                    self.double_quoted(depth, &mut lit, &mut parts);
                }
                '`' => {
                    self.at += 1;
                    flush(&mut lit, &mut parts);
                    self.backticks(depth);
                    parts.push(Part::Subst);
                }
                '$' => self.dollar(depth, &mut lit, &mut parts),
                '*' | '?' | '[' => {
                    flush(&mut lit, &mut parts);
                    parts.push(Part::Glob);
                    self.at += 1;
                }
                '~' if self.at == start => {
                    parts.push(Part::Tilde);
                    self.at += 1;
                }
                _ => {
                    lit.push(c);
                    self.at += 1;
                }
            }
        }
        flush(&mut lit, &mut parts);
        Word::new(parts)
    }

    /// The inside of `"…"`, the opening quote read.
    fn double_quoted(&mut self, depth: usize, lit: &mut String, parts: &mut Vec<Part>) {
        // An empty `""` is still a word, and stays one.
        flush(lit, parts);
        parts.push(Part::Lit(String::new()));
        while let Some(c) = self.peek(0) {
            match c {
                '"' => {
                    self.at += 1;
                    return;
                }
                '\\' => {
                    match self.peek(1) {
                        Some('$' | '`' | '"' | '\\') => lit.push(self.chars[self.at + 1]),
                        Some('\n') => {}
                        Some(other) => {
                            lit.push('\\');
                            lit.push(other);
                        }
                        None => lit.push('\\'),
                    }
                    self.at = (self.at + 2).min(self.chars.len());
                }
                '`' => {
                    self.at += 1;
                    flush(lit, parts);
                    self.backticks(depth);
                    parts.push(Part::Subst);
                }
                '$' => self.dollar(depth, lit, parts),
                _ => {
                    lit.push(c);
                    self.at += 1;
                }
            }
        }
    }

    /// `$NAME`, `${…}`, `$(…)`, `$((…))`, `$'…'`, `$"…"`, or a lone `$`.
    fn dollar(&mut self, depth: usize, lit: &mut String, parts: &mut Vec<Part>) {
        match self.peek(1) {
            Some('(') if self.peek(2) == Some('(') => {
                // Arithmetic: a number, never empty.
                self.at += 3;
                self.skip_balanced('(', ')', 2);
                flush(lit, parts);
                parts.push(Part::Param {
                    name: String::new(),
                    set: true,
                });
            }
            Some('(') => {
                self.at += 2;
                flush(lit, parts);
                self.substitution(depth);
                parts.push(Part::Subst);
            }
            Some('{') => {
                self.at += 2;
                let start = self.at;
                self.skip_balanced('{', '}', 1);
                let inner: String = self.chars[start..self.at.saturating_sub(1).max(start)]
                    .iter()
                    .collect();
                let name: String = inner
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                // `${X:?}`, `${X?}`, `${X:-d}`, `${X:=d}` are never empty; `${X-d}` may be.
                let rest = &inner[name.len()..];
                let set = rest.starts_with(":?")
                    || rest.starts_with('?')
                    || rest.starts_with(":-") && rest.len() > 2
                    || rest.starts_with(":=") && rest.len() > 2;
                flush(lit, parts);
                // `${X:-DEFAULT}` may be its default: a plain one is judged as if written.
                let default = [":-", ":=", "-", "="]
                    .iter()
                    .find_map(|op| rest.strip_prefix(op))
                    .filter(|d| !d.is_empty() && !d.contains(['$', '`', '"', '\'', '\\']));
                match default {
                    Some(default) => lit.push_str(default),
                    None => parts.push(Part::Param { name, set }),
                }
            }
            Some('\'') => {
                self.at += 2;
                self.ansi_c(lit);
            }
            Some('"') => {
                self.at += 2;
                self.double_quoted(depth, lit, parts);
            }
            Some(c) if c.is_alphabetic() || c == '_' => {
                self.at += 1;
                let start = self.at;
                while self
                    .peek(0)
                    .is_some_and(|c| c.is_alphanumeric() || c == '_')
                {
                    self.at += 1;
                }
                flush(lit, parts);
                let name = self.chars[start..self.at].iter().collect();
                parts.push(Part::Param { name, set: false });
            }
            Some(c) if c.is_ascii_digit() || "@*#?$!-".contains(c) => {
                self.at += 2;
                flush(lit, parts);
                parts.push(Part::Param {
                    name: c.to_string(),
                    set: false,
                });
            }
            _ => {
                lit.push('$');
                self.at += 1;
            }
        }
    }

    /// `$'…'`: bash's quotes with C escapes, the opening read.
    fn ansi_c(&mut self, lit: &mut String) {
        while let Some(c) = self.peek(0) {
            self.at += 1;
            match c {
                '\'' => return,
                '\\' => {
                    let Some(e) = self.peek(0) else { return };
                    self.at += 1;
                    match e {
                        'n' => lit.push('\n'),
                        't' => lit.push('\t'),
                        'r' => lit.push('\r'),
                        'e' | 'E' => lit.push('\u{1b}'),
                        'x' => lit.push(self.number(16, 2)),
                        'u' => lit.push(self.number(16, 4)),
                        'U' => lit.push(self.number(16, 8)),
                        '0'..='7' => {
                            self.at -= 1;
                            lit.push(self.number(8, 3));
                        }
                        other => lit.push(other),
                    }
                }
                _ => lit.push(c),
            }
        }
    }

    /// Up to `max` digits in `radix`, as a character.
    fn number(&mut self, radix: u32, max: usize) -> char {
        let mut value = 0u32;
        for _ in 0..max {
            match self.peek(0).and_then(|c| c.to_digit(radix)) {
                Some(d) => {
                    value = value.saturating_mul(radix).saturating_add(d);
                    self.at += 1;
                }
                None => break,
            }
        }
        char::from_u32(value).unwrap_or(char::REPLACEMENT_CHARACTER)
    }

    /// Skips past the `close` that balances `open`, `level` of them open already (quotes
    /// inside are skipped whole).
    fn skip_balanced(&mut self, open: char, close: char, mut level: usize) {
        while let Some(c) = self.peek(0) {
            self.at += 1;
            match c {
                '\\' => self.at = (self.at + 1).min(self.chars.len()),
                '\'' => {
                    while self.peek(0).is_some_and(|c| c != '\'') {
                        self.at += 1;
                    }
                    self.at = (self.at + 1).min(self.chars.len());
                }
                c if c == open => level += 1,
                c if c == close => {
                    level -= 1;
                    if level == 0 {
                        return;
                    }
                }
                _ => {}
            }
        }
    }

    /// `$( … )` or `<( … )`, the opening read: its commands go in a list of their own.
    fn substitution(&mut self, depth: usize) {
        if depth >= MAX_DEPTH {
            self.out.too_deep = true;
            self.at = self.chars.len();
            return;
        }
        let outer = std::mem::take(&mut self.heredocs);
        let tokens = self.list(depth + 1, true);
        self.heredocs = outer;
        self.out.lists.push(tokens);
    }

    /// `` `…` ``, the opening read: its text, unescaped, is lexed as a command of its own.
    fn backticks(&mut self, depth: usize) {
        let mut inner = String::new();
        while let Some(c) = self.peek(0) {
            self.at += 1;
            match c {
                '`' => break,
                '\\' => match self.peek(0) {
                    Some(e @ ('`' | '\\' | '$')) => {
                        inner.push(e);
                        self.at += 1;
                    }
                    _ => inner.push('\\'),
                },
                _ => inner.push(c),
            }
        }
        if depth >= MAX_DEPTH {
            self.out.too_deep = true;
            return;
        }
        let nested = lex(&inner, depth + 1);
        self.out.too_deep |= nested.too_deep;
        self.out.lists.extend(nested.lists);
    }
}

fn flush(lit: &mut String, parts: &mut Vec<Part>) {
    if !lit.is_empty() {
        parts.push(Part::Lit(std::mem::take(lit)));
    }
}
