//! Here-documents: the end word after `<<`, and the text that follows the command line up
//! to the line holding that word.

use super::{Frame, Scanner, Tok};
use crate::shell::refusal::Ambiguity;
use crate::shell::{HereDoc, Refusal, Spot};

/// A here-document: waiting for its command line to end, or having its text read.
pub(super) struct Body {
    pub(super) here: HereDoc,
    /// Its text is the input of a shell: code, not data.
    pub(super) feeds_shell: bool,
    pub(super) at_line_start: bool,
}

impl Scanner {
    /// At `<<`: a here-string (`<<<`), or a here-document whose end word follows.
    pub(super) fn here_document(&mut self) {
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
    pub(super) fn start_body(&mut self) {
        if let Some(body) = self.commands().pending.pop_front() {
            self.frames.push(Frame::Body(body));
        }
    }

    pub(super) fn in_body(&mut self, c: char) {
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
    pub(super) fn at_delimiter_line(&mut self) -> bool {
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
}
