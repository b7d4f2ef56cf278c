//! Follows a command through the shell's grammar far enough to know how each placeholder in it
//! would be read: inside which quotes, in a comment or a here-document's text, and as an
//! argument of which command.
//!
//! The scanner knows quotes (`'…'`, `"…"`, `$'…'`, `$"…"`), escapes and line continuations,
//! comments, `$(…)`, `<(…)`, backticks, `${…}`, `$((…))`, `((…))`, `[[ … ]]`, here-documents
//! and here-strings. It walks an explicit stack, so no input can exhaust the call stack. Where
//! shells disagree on how far a construct reaches, every placeholder after it is refused:
//! a wrong guess about quoting is how a value becomes code.

use std::collections::VecDeque;

use super::refusal::Ambiguity;
use super::{HereDoc, Refusal, Spot};

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

struct Commands {
    /// Inside `$(…)`: how many `(` are open within it.
    subst: Option<u32>,
    word: Word,
    command: Command,
    pipeline: Pipeline,
    /// Here-documents whose text starts after the next newline, in order.
    pending: VecDeque<Body>,
}

#[derive(Default)]
struct Word {
    /// The word's characters with quotes removed; holes count as U+FFFC.
    text: String,
    holes: Vec<usize>,
    started: bool,
}

#[derive(Default)]
struct Command {
    words: Vec<Word>,
    /// Between `[[` and `]]`.
    in_conditional: bool,
    /// The next word is a here-string (`<<< word`).
    here_string_next: bool,
    /// The next word is the file of a redirection, not an argument.
    redirect_next: bool,
}

/// What a pipeline feeds to a shell's standard input, if one of its commands is a shell.
#[derive(Default)]
struct Pipeline {
    reads_code: bool,
    /// Here-documents registered in this pipeline: the last ones of `pending`.
    bodies: usize,
    here_string_holes: Vec<usize>,
}

struct Body {
    here: HereDoc,
    /// Its text is the input of a shell: code, not data.
    feeds_shell: bool,
    at_line_start: bool,
}

impl Commands {
    fn new(subst: bool) -> Commands {
        Commands {
            subst: subst.then_some(0),
            word: Word::default(),
            command: Command::default(),
            pipeline: Pipeline::default(),
            pending: VecDeque::new(),
        }
    }
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

    fn in_commands(&mut self, c: char) {
        let Frame::Commands(commands) = self.top() else {
            unreachable!("called at command level")
        };
        let in_conditional = commands.command.in_conditional;
        let word_started = commands.word.started;
        match c {
            ' ' | '\t' => {
                self.bump(1);
                self.end_word();
            }
            // `[[ … ]]` may span lines.
            '\n' if in_conditional => {
                self.bump(1);
                self.end_word();
            }
            '\n' => {
                self.bump(1);
                self.end_pipeline_here();
                self.start_body();
            }
            ';' | '&' | '|' if in_conditional => {
                self.bump(1);
                self.end_word();
            }
            ';' | '&' => {
                self.bump(1);
                self.end_pipeline_here();
            }
            '|' if self.peek(1) == Some('|') => {
                self.bump(2);
                self.end_pipeline_here();
            }
            '|' => {
                self.bump(1);
                self.end_command_here();
            }
            '(' if self.peek(1) == Some('(') => {
                self.bump(2);
                self.end_word();
                self.frames.push(Frame::Arith { depth: 0 });
            }
            '(' | ')' if in_conditional => {
                self.bump(1);
                self.end_word();
            }
            '(' => {
                // `*(e:'code':)`: zsh runs a glob qualifier's code; bash reads `word(…)` as
                // an extended glob or a syntax error. Only `name()` is certain.
                if word_started && self.peek(1) != Some(')') {
                    self.unsure(Ambiguity::GlobQualifier);
                }
                self.bump(1);
                self.end_pipeline_here();
                if let Some(depth) = &mut self.commands().subst {
                    *depth += 1;
                }
            }
            ')' => {
                self.bump(1);
                self.end_pipeline_here();
                match self.commands().subst {
                    Some(0) => self.close_substitution(),
                    Some(depth) => self.commands().subst = Some(depth - 1),
                    None => {}
                }
            }
            '<' | '>' => {
                // `2>file`: the digits name a file descriptor, they are no argument.
                let word = &self.commands().word;
                if word.started
                    && word.holes.is_empty()
                    && word.text.bytes().all(|b| b.is_ascii_digit())
                {
                    self.commands().word = Word::default();
                }
                self.end_word();
                match self.peek(1) {
                    Some('(') => {
                        self.bump(2);
                        self.frames.push(Frame::Commands(Commands::new(true)));
                        return;
                    }
                    Some('<') if c == '<' => {
                        self.here_document();
                        return;
                    }
                    Some('&' | '>' | '|') => self.bump(2),
                    _ => self.bump(1),
                }
                self.commands().command.redirect_next = true;
            }
            '#' if !word_started => {
                self.bump(1);
                self.frames.push(Frame::Comment);
            }
            '\\' => self.escape(),
            _ => {
                let Frame::Commands(commands) = self.top() else {
                    unreachable!("called at command level")
                };
                commands.word.started = true;
                match c {
                    '\'' => {
                        self.bump(1);
                        self.frames.push(Frame::Single);
                    }
                    '"' => {
                        self.bump(1);
                        self.frames.push(Frame::Double);
                    }
                    '`' => {
                        self.bump(1);
                        self.frames.push(Frame::Backtick);
                    }
                    '$' => self.dollar(true),
                    _ => {
                        commands.word.text.push(c);
                        self.bump(1);
                    }
                }
            }
        }
    }

    /// The `)` that closes a `$(…)`.
    fn close_substitution(&mut self) {
        let Some(Frame::Commands(mut commands)) = self.frames.pop() else {
            unreachable!("called on a command substitution")
        };
        self.end_pipeline(&mut commands);
        if !commands.pending.is_empty() {
            self.unsure(Ambiguity::HereDocInSubstitution);
        }
    }

    /// At `<<`: a here-string (`<<<`), or a here-document whose end word follows.
    fn here_document(&mut self) {
        self.bump(2);
        if self.peek(0) == Some('<') {
            self.bump(1);
            self.commands().command.here_string_next = true;
            return;
        }
        let strip_tabs = self.peek(0) == Some('-');
        if strip_tabs {
            self.bump(1);
        }
        while matches!(self.peek(0), Some(' ' | '\t')) {
            self.bump(1);
        }
        let mut delimiter = String::new();
        let mut quoted = false;
        let mut holed = false;
        let mut quote: Option<char> = None;
        while let Some(&tok) = self.toks.get(self.at) {
            let c = match tok {
                Tok::Hole(i) => {
                    self.at += 1;
                    self.spots[i] = Some(Spot::Refused(Refusal::HereDocDelimiter));
                    holed = true;
                    continue;
                }
                Tok::Char(c) => c,
            };
            match (quote, c) {
                (None, ' ' | '\t' | '\n' | ';' | '&' | '|' | '<' | '>' | '(' | ')') => break,
                (None, '\'' | '"') => {
                    quoted = true;
                    quote = Some(c);
                }
                (Some(q), _) if c == q => quote = None,
                (None | Some('"'), '\\') => {
                    quoted = true;
                    if let Some(next) = self.peek(1) {
                        delimiter.push(next);
                        self.at += 1;
                    }
                }
                _ => delimiter.push(c),
            }
            self.at += 1;
        }
        if holed || delimiter.is_empty() || quote.is_some() {
            self.unsure(Ambiguity::HereDocDelimiter);
            return;
        }
        let commands = self.commands();
        commands.pending.push_back(Body {
            here: HereDoc {
                delimiter,
                quoted,
                strip_tabs,
            },
            feeds_shell: false,
            at_line_start: true,
        });
        commands.pipeline.bodies += 1;
    }

    /// After a newline at command level: the text of the first waiting here-document.
    fn start_body(&mut self) {
        if let Some(body) = self.commands().pending.pop_front() {
            self.frames.push(Frame::Body(body));
        }
    }

    fn in_body(&mut self, c: char) {
        let Frame::Body(body) = self.top() else {
            unreachable!("called in a here-document")
        };
        if std::mem::take(&mut body.at_line_start) && self.at_delimiter_line() {
            self.frames.pop();
            self.start_body();
            return;
        }
        let Frame::Body(body) = self.top() else {
            unreachable!("still in the here-document")
        };
        if c == '\n' {
            body.at_line_start = true;
            self.bump(1);
            return;
        }
        if body.here.quoted {
            self.bump(1);
            return;
        }
        match c {
            '\\' => self.escape(),
            '$' => self.dollar(false),
            '`' => {
                self.bump(1);
                self.frames.push(Frame::Backtick);
            }
            _ => self.bump(1),
        }
    }

    /// Whether the line from here is the top here-document's end; if so, consumes it.
    fn at_delimiter_line(&mut self) -> bool {
        let Some(Frame::Body(body)) = self.frames.last() else {
            return false;
        };
        let mut line = String::new();
        let mut end = self.at;
        while let Some(tok) = self.toks.get(end) {
            match tok {
                Tok::Char('\n') => break,
                Tok::Char(c) => line.push(*c),
                Tok::Hole(_) => return false,
            }
            end += 1;
        }
        let line = if body.here.strip_tabs {
            line.trim_start_matches('\t')
        } else {
            &line
        };
        if line != body.here.delimiter {
            return false;
        }
        self.at = (end + 1).min(self.toks.len());
        true
    }

    fn end_word(&mut self) {
        if let Some(ambiguity) = finish_word(self.commands()) {
            self.unsure(ambiguity);
        }
    }

    fn end_command_here(&mut self) {
        let Some(Frame::Commands(mut commands)) = self.frames.pop() else {
            unreachable!("called at command level")
        };
        self.end_command(&mut commands);
        self.frames.push(Frame::Commands(commands));
    }

    fn end_pipeline_here(&mut self) {
        let Some(Frame::Commands(mut commands)) = self.frames.pop() else {
            unreachable!("called at command level")
        };
        self.end_pipeline(&mut commands);
        self.frames.push(Frame::Commands(commands));
    }

    fn end_command(&mut self, commands: &mut Commands) {
        if let Some(ambiguity) = finish_word(commands) {
            self.unsure(ambiguity);
        }
        let command = std::mem::take(&mut commands.command);
        for (hole, refusal) in command_refusals(&command.words) {
            self.refuse(hole, refusal);
        }
        if reads_code_from_stdin(&command.words) {
            commands.pipeline.reads_code = true;
        }
    }

    fn end_pipeline(&mut self, commands: &mut Commands) {
        self.end_command(commands);
        let pipeline = std::mem::take(&mut commands.pipeline);
        if !pipeline.reads_code {
            return;
        }
        for hole in pipeline.here_string_holes {
            self.refuse(hole, Refusal::ShellInput);
        }
        let n = commands.pending.len();
        for body in commands
            .pending
            .range_mut(n.saturating_sub(pipeline.bodies)..)
        {
            body.feeds_shell = true;
        }
    }

    /// Refuses a hole found safe by its quotes but not by the command it is given to; the
    /// first reason found is kept.
    fn refuse(&mut self, hole: usize, refusal: Refusal) {
        let spot = &mut self.spots[hole];
        if !matches!(spot, Some(Spot::Refused(_))) {
            *spot = Some(Spot::Refused(refusal));
        }
    }
}

/// Adds the word being read to its command, if one was started; returns what it makes
/// uncertain.
fn finish_word(commands: &mut Commands) -> Option<Ambiguity> {
    if !commands.word.started {
        return None;
    }
    let word = std::mem::take(&mut commands.word);
    let command = &mut commands.command;
    if word.text == "[[" {
        command.in_conditional = true;
    } else if word.text == "]]" {
        command.in_conditional = false;
    }
    let case_in_substitution = word.text == "case" && commands.subst.is_some();
    if std::mem::take(&mut command.here_string_next) {
        commands
            .pipeline
            .here_string_holes
            .extend_from_slice(&word.holes);
    } else if !std::mem::take(&mut command.redirect_next) {
        command.words.push(word);
    }
    case_in_substitution.then_some(Ambiguity::CaseInSubstitution)
}

/// `name[` with the subscript still open: an array element being assigned, whose subscript
/// bash evaluates as arithmetic.
fn is_subscript(word: &str) -> bool {
    let Some((name, rest)) = word.split_once('[') else {
        return false;
    };
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !rest.contains(']')
}

const SHELLS: &[&str] = &[
    "sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "yash", "posh", "su", "runuser",
];

/// The command name of a word: what follows the last `/`.
fn name(word: &Word) -> &str {
    word.text.rsplit('/').next().unwrap_or_default()
}

fn holes_of(words: &[Word], refusal: Refusal) -> impl Iterator<Item = (usize, Refusal)> + '_ {
    words
        .iter()
        .flat_map(move |w| w.holes.iter().map(move |&h| (h, refusal)))
}

/// Holes that the command itself would run as code or evaluate as arithmetic.
fn command_refusals(words: &[Word]) -> Vec<(usize, Refusal)> {
    let mut refused = Vec::new();
    for (k, word) in words.iter().enumerate() {
        let rest = &words[k + 1..];
        match name(word) {
            "eval" => refused.extend(holes_of(rest, Refusal::Eval)),
            "let" | "integer" => refused.extend(holes_of(rest, Refusal::IntegerVariable)),
            "declare" | "typeset" | "local" | "readonly" | "export"
                if rest.iter().any(|w| is_flag_with(w, "i")) =>
            {
                refused.extend(holes_of(rest, Refusal::IntegerVariable))
            }
            other => {
                if let Some(code) = code_flags(other).and_then(|flags| code_word(rest, flags)) {
                    refused.extend(holes_of(std::slice::from_ref(code), Refusal::CommandString));
                }
            }
        }
    }
    refused
}

/// The option letters with which an interpreter takes code as an argument.
fn code_flags(name: &str) -> Option<&'static str> {
    if SHELLS.contains(&name) || name.starts_with("python") {
        Some("c")
    } else if name.starts_with("perl") {
        Some("eE")
    } else if matches!(name, "ruby" | "lua" | "node" | "nodejs") {
        Some("ep")
    } else if name.starts_with("php") {
        Some("r")
    } else {
        None
    }
}

/// An option word such as `-c`, `-ec` or `-xc` that holds one of `letters`.
fn is_flag_with(word: &Word, letters: &str) -> bool {
    word.text.strip_prefix('-').is_some_and(|f| {
        !f.is_empty()
            && f.chars().all(|c| c.is_ascii_alphabetic())
            && f.contains(|c| letters.contains(c))
    })
}

/// The word of code that follows a `-c`-like option among `rest`.
fn code_word<'w>(rest: &'w [Word], letters: &str) -> Option<&'w Word> {
    let flag = rest.iter().position(|w| is_flag_with(w, letters))?;
    rest[flag + 1..].iter().find(|w| !w.text.starts_with('-'))
}

/// Whether a command reads its standard input as commands: a shell given no script and no
/// `-c` (`sh`, `bash -s`, `sudo -i`, `su - admin`), or `ssh` given no remote command.
fn reads_code_from_stdin(words: &[Word]) -> bool {
    words.iter().enumerate().any(|(k, word)| {
        let rest = &words[k + 1..];
        match name(word) {
            shell if SHELLS.contains(&shell) => {
                let options_end = rest
                    .iter()
                    .position(|w| w.text == "--")
                    .unwrap_or(rest.len());
                let options = &rest[..options_end];
                !options.iter().any(|w| is_flag_with(w, "c"))
                    && (options.iter().any(|w| is_flag_with(w, "s"))
                        || matches!(shell, "su" | "runuser")
                        || options.iter().all(|w| w.text.starts_with(['-', '+'])))
            }
            "sudo" | "doas" => {
                rest.iter().any(|w| is_flag_with(w, "si"))
                    && rest.iter().all(|w| w.text.starts_with('-'))
            }
            "ssh" => ssh_has_no_command(rest),
            _ => false,
        }
    })
}

/// `ssh [options] destination [command…]`: true when no command follows the destination.
fn ssh_has_no_command(rest: &[Word]) -> bool {
    // Options of ssh(1) that take a value as the next word.
    const WITH_VALUE: &str = "BbcDEeFIiJLlmOoPpQRSWw";
    let mut words = rest.iter();
    while let Some(word) = words.next() {
        match word.text.strip_prefix('-') {
            Some(flags) if !flags.is_empty() => {
                let last = flags.chars().last().unwrap_or_default();
                if flags.chars().count() == 1 && WITH_VALUE.contains(last) {
                    words.next();
                }
            }
            _ => return words.next().is_none(),
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spots of a command written with `@` for each hole.
    fn scan(command: &str) -> Vec<Spot> {
        let mut pieces = Vec::new();
        for (k, text) in command.split('@').enumerate() {
            if k > 0 {
                pieces.push(Piece::Hole);
            }
            pieces.push(Piece::Text(text));
        }
        spots(pieces)
    }

    fn one(command: &str) -> Spot {
        let spots = scan(command);
        assert_eq!(spots.len(), 1, "{command}");
        spots.into_iter().next().unwrap()
    }

    fn refused(command: &str) -> Refusal {
        match one(command) {
            Spot::Refused(r) => r,
            other => panic!("{command:?} gave {other:?}"),
        }
    }

    #[test]
    fn quotes_comments_and_substitutions() {
        assert_eq!(one("echo @"), Spot::Bare);
        assert_eq!(one("echo '@'"), Spot::Single);
        assert_eq!(one("echo \"a @\""), Spot::Double);
        assert_eq!(one("echo $\"a @\""), Spot::Double);
        assert_eq!(one("echo \"$(echo @)\""), Spot::Bare);
        assert_eq!(one("echo \"$(echo '@')\""), Spot::Single);
        assert_eq!(one("echo <(echo @)"), Spot::Bare);
        assert_eq!(one("# it's @"), Spot::Comment);
        assert_eq!(one("echo a#b @"), Spot::Bare);
        // The apostrophe of a comment opens no quote (the injection of issue 6).
        assert_eq!(one("# don't restart here\necho deploying @"), Spot::Bare);
        assert_eq!(one("echo start # it's fine: @"), Spot::Comment);
        assert_eq!(one("echo $(echo ')') @"), Spot::Bare);
        assert_eq!(one("echo \\' @"), Spot::Bare);
        assert_eq!(one("echo 'a\\' @"), Spot::Bare);
        assert_eq!(one("echo \"\\\"\" @"), Spot::Bare);
        assert_eq!(one("echo a\\\n'@'"), Spot::Single);
        assert_eq!(one("echo $'a\\\\' @"), Spot::Bare);
        assert_eq!(one("echo ${HOME} $((1+2)) ${x:-${y}} @"), Spot::Bare);
        assert_eq!(one("[[ -n x ]] && echo @"), Spot::Bare);
        // A line continuation vanishes first…
        assert_eq!(one("echo \"$(\\\necho @)\""), Spot::Bare);
        assert_eq!(refused("echo \"$(\\\n(echo @))\""), Refusal::Arithmetic);
        assert_eq!(one("echo \"$(echo\\\n @)\""), Spot::Bare);
        assert_eq!(one("echo \\\\\n@"), Spot::Bare);
        assert_eq!(one("echo a\\\n#b @"), Spot::Bare);
        assert_eq!(one("echo a \\\n#b @"), Spot::Comment);
    }

    #[test]
    fn here_documents() {
        let here = |delimiter: &str, quoted, strip_tabs| {
            Spot::HereDoc(HereDoc {
                delimiter: delimiter.into(),
                quoted,
                strip_tabs,
            })
        };
        assert_eq!(one("cat <<EOF\n@\nEOF"), here("EOF", false, false));
        assert_eq!(one("cat <<'EOF'\n'@\nEOF"), here("EOF", true, false));
        assert_eq!(one("cat <<-\"E F\"\n@\n\tE F\n"), here("E F", true, true));
        assert_eq!(one("cat <<E\\OF\n@\nEOF"), here("EOF", true, false));
        assert_eq!(one("cat <<EOF\nx\nEOF\necho @"), Spot::Bare);
        assert_eq!(one("cat <<A <<B\na\nA\n'\nB\necho @"), Spot::Bare);
        assert_eq!(one("cat <<EOF\n$(echo @)\nEOF"), Spot::Bare);
        // The newline inside the quote is not the one after which the text begins.
        assert_eq!(one("cat <<EOF; echo '\n@\nEOF"), Spot::Single);
        assert_eq!(one("cat <<< @"), Spot::Bare);
        assert_eq!(refused("cat <<@\nx\n"), Refusal::HereDocDelimiter);
        assert_eq!(refused("cat <<EOF\n\\@\nEOF"), Refusal::AfterBackslash);
        assert_eq!(refused("sh <<EOF\necho @\nEOF"), Refusal::ShellInput);
        assert_eq!(
            refused("cat <<EOF | sudo bash\n@\nEOF"),
            Refusal::ShellInput
        );
        assert_eq!(refused("bash <<< @"), Refusal::ShellInput);
        assert_eq!(
            refused("bash 2>/dev/null >log <<EOF\n@\nEOF"),
            Refusal::ShellInput
        );
        assert_eq!(refused("ssh -p 22 web <<EOF\n@\nEOF"), Refusal::ShellInput);
        assert_eq!(one("ssh web cat <<EOF\n@\nEOF"), here("EOF", false, false));
        assert_eq!(
            one("bash deploy.sh <<EOF\n@\nEOF"),
            here("EOF", false, false)
        );
    }

    #[test]
    fn constructs_without_certain_quoting_are_refused() {
        assert_eq!(refused("echo `echo @`"), Refusal::Backtick);
        assert_eq!(refused("echo \"`@`\""), Refusal::Backtick);
        assert_eq!(refused("echo ${X:-@}"), Refusal::ParameterExpansion);
        assert_eq!(refused("echo $(( @ + 1 ))"), Refusal::Arithmetic);
        assert_eq!(refused("(( n = @ ))"), Refusal::Arithmetic);
        assert_eq!(refused("printf '%s\\n' $'@'"), Refusal::AnsiCString);
        assert_eq!(refused("echo $@"), Refusal::AfterDollar);
        assert_eq!(refused("echo \"$@\""), Refusal::AfterDollar);
        assert_eq!(refused("echo \\@"), Refusal::AfterBackslash);
        assert_eq!(refused("echo \"\\@\""), Refusal::AfterBackslash);
        assert_eq!(refused("[[ @ -eq 1 ]]"), Refusal::Conditional);
        assert_eq!(refused("[[ a == b && @ ]]"), Refusal::Conditional);
        assert_eq!(refused("a[@]=1"), Refusal::ArraySubscript);
        // dash, bash and zsh compare `[ … -gt … ]` operands as plain integers.
        assert_eq!(one("[ @ -gt 3 ]"), Spot::Bare);
        assert_eq!(refused("let n=@"), Refusal::IntegerVariable);
        assert_eq!(refused("declare -i n=@"), Refusal::IntegerVariable);
        assert_eq!(refused("eval echo @"), Refusal::Eval);
        assert_eq!(refused("sudo sh -c 'echo @'"), Refusal::CommandString);
        assert_eq!(refused("bash -ec \"x=@\""), Refusal::CommandString);
        assert_eq!(refused("python3 -c 'print(\"@\")'"), Refusal::CommandString);
        // The value as an argument after the code is what the help suggests.
        assert_eq!(one("sh -c 'echo \"$1\"' sh @"), Spot::Bare);
    }

    #[test]
    fn after_an_ambiguous_construct_nothing_is_certain() {
        let after = |command| match refused(command) {
            Refusal::After(a) => a,
            other => panic!("{command:?} gave {other:?}"),
        };
        assert_eq!(after("echo $'it\\'s' @"), Ambiguity::AnsiCEscapedQuote);
        assert_eq!(after("echo `echo \"x\"` @"), Ambiguity::QuotedBacktick);
        assert_eq!(
            after("echo ${x:-\"}\"} @"),
            Ambiguity::QuotedParameterExpansion
        );
        assert_eq!(after("echo $((echo a); (echo b)) @"), Ambiguity::Arithmetic);
        assert_eq!(
            after("echo \"$(case $x in a) echo;; esac)\" @"),
            Ambiguity::CaseInSubstitution
        );
        assert_eq!(after("echo $[1+2] @"), Ambiguity::OldArithmetic);
        assert_eq!(after("ls *(e:'@':)"), Ambiguity::GlobQualifier);
        assert_eq!(one("f() { echo @; }"), Spot::Bare);
        // …but zsh does not join `$\<newline>(` inside double quotes.
        assert_eq!(after("echo \"$\\\n(echo @)\""), Ambiguity::ContinuedDollar);
        assert_eq!(after("echo $\\\n'@'"), Ambiguity::ContinuedDollar);
        assert_eq!(
            after("cat <<EOF\na\\\nEOF\n@"),
            Ambiguity::HereDocContinuation
        );
        assert_eq!(after("x=$(cat <<EOF) @"), Ambiguity::HereDocInSubstitution);
    }

    #[test]
    fn deep_nesting_does_not_exhaust_the_stack() {
        let deep = "$(".repeat(100_000) + "echo @" + &")".repeat(100_000);
        assert_eq!(one(&deep), Spot::Bare);
        let quotes = "\"$(echo ".repeat(50_000) + "'@'";
        assert_eq!(one(&quotes), Spot::Single);
    }
}
