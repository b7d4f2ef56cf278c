//! Command level: the words, commands and pipelines being read, so that each hole is known
//! as a word of a command, and what the command makes of its words applies when it ends.

use std::collections::VecDeque;

use super::here_document::Body;
use super::interpreters::{command_refusals, reads_code_from_stdin};
use super::word::Word;
use super::{Frame, Scanner};
use crate::shell::refusal::Ambiguity;
use crate::shell::{Refusal, Spot};

/// One command level (the top, or inside `$(…)`, `<(…)`, `>(…)`): what is being read there.
pub(super) struct Commands {
    /// Inside `$(…)`: how many `(` are open within it.
    pub(super) subst: Option<u32>,
    pub(super) word: Word,
    pub(super) command: Command,
    pub(super) pipeline: Pipeline,
    /// Here-documents whose text starts after the next newline, in order.
    pub(super) pending: VecDeque<Body>,
}

/// A simple command: its words so far.
#[derive(Default)]
pub(super) struct Command {
    pub(super) words: Vec<Word>,
    /// Between `[[` and `]]`.
    pub(super) in_conditional: bool,
    /// The next word is a here-string (`<<< word`).
    pub(super) here_string_next: bool,
    /// The next word is the file of a redirection, not an argument.
    pub(super) redirect_next: bool,
}

/// What a pipeline feeds to a shell's standard input, if one of its commands is a shell.
#[derive(Default)]
pub(super) struct Pipeline {
    pub(super) reads_code: bool,
    /// Here-documents registered in this pipeline: the last ones of `pending`.
    pub(super) bodies: usize,
    pub(super) here_string_holes: Vec<usize>,
}

impl Commands {
    pub(super) fn new(subst: bool) -> Commands {
        Commands {
            subst: subst.then_some(0),
            word: Word::default(),
            command: Command::default(),
            pipeline: Pipeline::default(),
            pending: VecDeque::new(),
        }
    }
}

impl Scanner {
    pub(super) fn in_commands(&mut self, c: char) {
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
    pub(super) fn close_substitution(&mut self) {
        let Some(Frame::Commands(mut commands)) = self.frames.pop() else {
            unreachable!("called on a command substitution")
        };
        self.end_pipeline(&mut commands);
        if !commands.pending.is_empty() {
            self.unsure(Ambiguity::HereDocInSubstitution);
        }
    }

    pub(super) fn end_word(&mut self) {
        if let Some(ambiguity) = finish_word(self.commands()) {
            self.unsure(ambiguity);
        }
    }

    pub(super) fn end_command_here(&mut self) {
        let Some(Frame::Commands(mut commands)) = self.frames.pop() else {
            unreachable!("called at command level")
        };
        self.end_command(&mut commands);
        self.frames.push(Frame::Commands(commands));
    }

    pub(super) fn end_pipeline_here(&mut self) {
        let Some(Frame::Commands(mut commands)) = self.frames.pop() else {
            unreachable!("called at command level")
        };
        self.end_pipeline(&mut commands);
        self.frames.push(Frame::Commands(commands));
    }

    pub(super) fn end_command(&mut self, commands: &mut Commands) {
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

    pub(super) fn end_pipeline(&mut self, commands: &mut Commands) {
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
    pub(super) fn refuse(&mut self, hole: usize, refusal: Refusal) {
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
pub(super) fn is_subscript(word: &str) -> bool {
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
