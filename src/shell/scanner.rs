//! Follows a command through the shell's grammar far enough to know how each placeholder in it
//! would be read: inside which quotes, in a comment or a here-document's text, and as an
//! argument of which command.
//!
//! The scanner knows quotes (`'…'`, `"…"`, `$'…'`, `$"…"`), escapes and line continuations,
//! comments, `$(…)`, `<(…)`, backticks, `${…}`, `$((…))`, `((…))`, `[[ … ]]`, here-documents
//! and here-strings. It walks an explicit stack, so no input can exhaust the call stack. Where
//! shells disagree on how far a construct reaches, every placeholder after it is refused:
//! a wrong guess about quoting is how a value becomes code.

use commands::{Commands, is_subscript};
use here_document::Body;

use super::refusal::Ambiguity;
use super::{Refusal, Spot};

mod commands;
mod here_document;
mod interpreters;
#[cfg(test)]
mod tests;
mod word;

/// A command as tsync holds it: literal text with placeholders (holes) between.
#[derive(Debug, Clone, Copy)]
pub enum Piece<'a> {
    Text(&'a str),
    Hole,
}

/// The spot of every hole of the command, in order.
pub fn spots<'a>(pieces: impl IntoIterator<Item = Piece<'a>>) -> Vec<Spot> {
    let mut toks = Vec::new();
    let mut holes = 0;
    for piece in pieces {
        match piece {
            Piece::Text(text) => toks.extend(text.chars().map(Tok::Char)),
            Piece::Hole => {
                toks.push(Tok::Hole(holes));
                holes += 1;
            }
        }
    }
    let mut scanner = Scanner {
        toks,
        at: 0,
        frames: vec![Frame::Commands(Commands::new(false))],
        spots: vec![None; holes],
        ambiguity: None,
        after_dollar: false,
        escaped: false,
    };
    scanner.run();
    scanner
        .spots
        .into_iter()
        .map(|spot| spot.expect("the scanner visits every hole"))
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok {
    Char(char),
    Hole(usize),
}

struct Scanner {
    toks: Vec<Tok>,
    at: usize,
    frames: Vec<Frame>,
    spots: Vec<Option<Spot>>,
    /// Set for good once a construct is met that shells end in different places.
    ambiguity: Option<Ambiguity>,
    /// The token just before was an unquoted, unescaped `$` standing alone.
    after_dollar: bool,
    /// The token just before was a `\` that escapes what follows.
    escaped: bool,
}

enum Frame {
    /// Command level: the top, or inside `$(…)`, `<(…)`, `>(…)`.
    Commands(Commands),
    Single,
    Double,
    AnsiC,
    Backtick,
    Param,
    Arith {
        depth: u32,
    },
    Comment,
    Body(Body),
}

const HOLE_CHAR: char = '\u{fffc}';

impl Scanner {
    fn run(&mut self) {
        while self.at < self.toks.len() {
            // A line continuation vanishes before anything else is read: `$(\<newline>(`
            // is `$((`, so it must not end what the `$(` started.
            if self.at_continuation(self.at) {
                self.skip_continuations();
                continue;
            }
            let after_dollar = std::mem::take(&mut self.after_dollar);
            let escaped = std::mem::take(&mut self.escaped);
            match self.toks[self.at] {
                Tok::Hole(i) => {
                    self.at += 1;
                    self.hole(i, after_dollar, escaped);
                }
                Tok::Char(c) => self.char(c),
            }
        }
        // Whatever is still open ends with the text: its commands are complete.
        while let Some(frame) = self.frames.pop() {
            if let Frame::Commands(mut commands) = frame {
                self.end_pipeline(&mut commands);
            }
        }
    }

    /// Whether a backslash-newline at `i` is a line continuation: everywhere but in quotes
    /// that take backslashes literally, comments and quoted here-documents.
    fn at_continuation(&self, i: usize) -> bool {
        let continues = match self.frames.last() {
            Some(Frame::Single | Frame::AnsiC | Frame::Comment) => false,
            Some(Frame::Body(body)) => !body.here.quoted,
            _ => true,
        };
        continues
            && self.toks.get(i) == Some(&Tok::Char('\\'))
            && self.toks.get(i + 1) == Some(&Tok::Char('\n'))
    }

    /// The character `ahead` places on, line continuations skipped; None at a hole or the end.
    fn peek(&self, ahead: usize) -> Option<char> {
        let mut i = self.at;
        for _ in 0..=ahead {
            while self.at_continuation(i) {
                i += 2;
            }
            i += 1;
        }
        match self.toks.get(i - 1) {
            Some(Tok::Char(c)) => Some(*c),
            _ => None,
        }
    }

    /// Moves past `n` characters, line continuations skipped.
    fn bump(&mut self, n: usize) {
        for _ in 0..n {
            self.skip_continuations();
            self.at += 1;
        }
    }

    fn skip_continuations(&mut self) {
        while self.at_continuation(self.at) {
            if matches!(self.top(), Frame::Body(_)) {
                self.unsure(Ambiguity::HereDocContinuation);
            }
            // zsh keeps `$\<newline>(` inside "…" as text, where dash and bash see `$(`.
            if self.at > 0 && self.toks[self.at - 1] == Tok::Char('$') {
                self.unsure(Ambiguity::ContinuedDollar);
            }
            self.at += 2;
        }
    }

    fn unsure(&mut self, ambiguity: Ambiguity) {
        self.ambiguity.get_or_insert(ambiguity);
    }

    fn top(&mut self) -> &mut Frame {
        self.frames
            .last_mut()
            .expect("the top level is never popped")
    }

    fn commands(&mut self) -> &mut Commands {
        self.frames
            .iter_mut()
            .rev()
            .find_map(|f| match f {
                Frame::Commands(c) => Some(c),
                _ => None,
            })
            .expect("the top level is never popped")
    }

    /// Whether the frame below the top is a command level: quoted text there is part of a
    /// word of that level.
    fn quote_in_word(&mut self, c: char) {
        let n = self.frames.len();
        if n >= 2
            && let Frame::Commands(commands) = &mut self.frames[n - 2]
        {
            commands.word.text.push(c);
        }
    }

    fn hole(&mut self, i: usize, after_dollar: bool, escaped: bool) {
        let spot = self.spot_here(after_dollar, escaped);
        if let Frame::Body(body) = self.top() {
            // A line that starts with a value is not the end line, whatever follows it.
            body.at_line_start = false;
        }
        let in_word = matches!(
            self.top(),
            Frame::Commands(_) | Frame::Single | Frame::Double
        );
        if in_word {
            let word = &mut self.commands().word;
            word.holes.push(i);
            word.text.push(HOLE_CHAR);
            word.started = true;
        }
        self.spots[i] = Some(spot);
    }

    fn spot_here(&mut self, after_dollar: bool, escaped: bool) -> Spot {
        if let Some(ambiguity) = self.ambiguity {
            return Spot::Refused(Refusal::After(ambiguity));
        }
        for frame in self.frames.iter().rev() {
            let refusal = match frame {
                Frame::Backtick => Refusal::Backtick,
                Frame::Param => Refusal::ParameterExpansion,
                Frame::Arith { .. } => Refusal::Arithmetic,
                Frame::AnsiC => Refusal::AnsiCString,
                _ => continue,
            };
            return Spot::Refused(refusal);
        }
        if escaped {
            return Spot::Refused(Refusal::AfterBackslash);
        }
        if after_dollar {
            return Spot::Refused(Refusal::AfterDollar);
        }
        match self.top() {
            Frame::Commands(c) if c.command.in_conditional => Spot::Refused(Refusal::Conditional),
            Frame::Commands(c) if is_subscript(&c.word.text) => {
                Spot::Refused(Refusal::ArraySubscript)
            }
            Frame::Commands(_) => Spot::Bare,
            Frame::Single => Spot::Single,
            Frame::Double => Spot::Double,
            Frame::Comment => Spot::Comment,
            Frame::Body(body) if body.feeds_shell => Spot::Refused(Refusal::ShellInput),
            Frame::Body(body) => Spot::HereDoc(body.here.clone()),
            Frame::AnsiC | Frame::Backtick | Frame::Param | Frame::Arith { .. } => {
                unreachable!("refusing frames are found above")
            }
        }
    }

    fn char(&mut self, c: char) {
        match self.top() {
            Frame::Commands(_) => self.in_commands(c),
            Frame::Single => {
                self.bump(1);
                if c == '\'' {
                    self.frames.pop();
                } else {
                    self.quote_in_word(c);
                }
            }
            Frame::Double => match c {
                '"' => {
                    self.bump(1);
                    self.frames.pop();
                }
                '\\' => self.escape(),
                '$' => self.dollar(false),
                '`' => {
                    self.bump(1);
                    self.frames.push(Frame::Backtick);
                }
                _ => {
                    self.bump(1);
                    self.quote_in_word(c);
                }
            },
            Frame::AnsiC => {
                self.bump(1);
                match c {
                    '\\' => {
                        if self.peek(0) == Some('\'') {
                            self.unsure(Ambiguity::AnsiCEscapedQuote);
                        }
                        self.skip_char();
                    }
                    '\'' => {
                        self.frames.pop();
                    }
                    _ => {}
                }
            }
            Frame::Backtick => {
                self.bump(1);
                match c {
                    '`' => {
                        self.frames.pop();
                    }
                    '\\' => self.skip_char(),
                    '\'' | '"' | '#' | '(' | '<' => self.unsure(Ambiguity::QuotedBacktick),
                    _ => {}
                }
            }
            Frame::Param => {
                self.bump(1);
                match c {
                    '}' => {
                        self.frames.pop();
                    }
                    '$' if self.peek(0) == Some('{') => {
                        self.bump(1);
                        self.frames.push(Frame::Param);
                    }
                    '$' if matches!(self.peek(0), Some('(' | '[')) => {
                        self.unsure(Ambiguity::QuotedParameterExpansion)
                    }
                    '\'' | '"' | '`' | '\\' => self.unsure(Ambiguity::QuotedParameterExpansion),
                    _ => {}
                }
            }
            Frame::Arith { depth } => {
                let depth = *depth;
                self.bump(1);
                match c {
                    '(' => *self.top() = Frame::Arith { depth: depth + 1 },
                    ')' if depth > 0 => *self.top() = Frame::Arith { depth: depth - 1 },
                    ')' => {
                        if self.peek(0) == Some(')') {
                            self.bump(1);
                        } else {
                            self.unsure(Ambiguity::Arithmetic);
                        }
                        self.frames.pop();
                    }
                    '$' if self.peek(0) == Some('{') => {
                        self.bump(1);
                        self.frames.push(Frame::Param);
                    }
                    '$' if matches!(self.peek(0), Some('(' | '[')) => {
                        self.unsure(Ambiguity::Arithmetic)
                    }
                    '\'' | '"' | '`' | '\\' => self.unsure(Ambiguity::Arithmetic),
                    _ => {}
                }
            }
            Frame::Comment => {
                if c == '\n' {
                    // The newline still ends the command the comment stands in.
                    self.frames.pop();
                } else {
                    self.bump(1);
                }
            }
            Frame::Body(_) => self.in_body(c),
        }
    }

    /// Consumes the character after a backslash (a hole there stays for the next step).
    fn skip_char(&mut self) {
        if let Some(Tok::Char(_)) = self.toks.get(self.at) {
            self.at += 1;
        }
    }

    /// A `\` at command level, in `"…"` or in a here-document's text.
    fn escape(&mut self) {
        self.bump(1);
        match self.toks.get(self.at) {
            Some(Tok::Hole(_)) => self.escaped = true,
            Some(Tok::Char(c)) => {
                let c = *c;
                // The escaped character itself, even a backslash before a newline.
                self.at += 1;
                match self.top() {
                    Frame::Commands(commands) => {
                        commands.word.text.push(c);
                        commands.word.started = true;
                    }
                    Frame::Double => self.quote_in_word(c),
                    _ => {}
                }
            }
            None => {}
        }
    }

    /// A `$` at command level (`at_command_level`), in `"…"` or in a here-document's text.
    fn dollar(&mut self, at_command_level: bool) {
        self.bump(1);
        match self.peek(0) {
            Some('(') if self.peek(1) == Some('(') => {
                self.bump(2);
                self.frames.push(Frame::Arith { depth: 0 });
            }
            Some('(') => {
                self.bump(1);
                self.frames.push(Frame::Commands(Commands::new(true)));
            }
            Some('{') => {
                self.bump(1);
                self.frames.push(Frame::Param);
            }
            Some('[') => {
                self.bump(1);
                self.unsure(Ambiguity::OldArithmetic);
            }
            Some('\'') if at_command_level => {
                self.bump(1);
                self.frames.push(Frame::AnsiC);
            }
            Some('"') if at_command_level => {
                self.bump(1);
                self.frames.push(Frame::Double);
            }
            _ => self.after_dollar = true,
        }
    }
}
