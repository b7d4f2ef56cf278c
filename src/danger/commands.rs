//! Tokens → the simple commands a shell would run: reserved words (`if`, `do`, `{`, …),
//! variable assignments, `case` patterns and `for` lists taken out, subshells and groups
//! flattened, each command with its redirections. Function definitions are followed far
//! enough to see a fork bomb: a function that starts itself at least twice, in a pipe or in
//! the background (one recursive call, `walk "$d" | sed …`, is only recursion).

use std::collections::HashMap;

use super::lexer::{Op, Redirect, Token};
use super::word::Word;

/// One command with its arguments, as the shell would start it.
#[derive(Debug, Default)]
pub struct SimpleCommand {
    pub words: Vec<Word>,
    /// Where its output goes: each redirection's kind and target.
    pub redirects: Vec<(Redirect, Word)>,
}

/// The commands of one token list, in order.
#[derive(Debug, Default)]
pub struct Commands {
    pub list: Vec<SimpleCommand>,
    /// A function that starts copies of itself, by name.
    pub fork_bomb: Option<String>,
}

/// What the next word means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A command name (or a reserved word, or an assignment).
    Command,
    /// An argument of the current command.
    Argument,
    /// Words that are not commands, up to the next separator (`for x in …`, `[[ … ]]`).
    SkipToSeparator,
    /// `case WORD`: words up to `in`.
    CaseWord,
    /// A `case` pattern, up to its `)`.
    CasePattern,
    /// The name after `function`.
    FunctionName,
}

pub fn commands(tokens: &[Token]) -> Commands {
    let mut b = Builder {
        out: Commands::default(),
        current: SimpleCommand::default(),
        expect: Expect::Command,
        redirect: None,
        piped: false,
        cases: 0,
        groups: Vec::new(),
        pending_function: None,
        active: HashMap::new(),
        calls: HashMap::new(),
    };
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            Token::Word(word) => b.word(word),
            // `name ( )`: a function definition.
            Token::Op(Op::Open)
                if b.expect == Expect::Argument
                    && b.current.words.len() == 1
                    && matches!(tokens.get(i + 1), Some(Token::Op(Op::Close))) =>
            {
                let name = b.current.words.pop().and_then(|w| w.literal());
                b.current = SimpleCommand::default();
                b.pending_function = name;
                b.expect = Expect::Command;
                i += 1;
            }
            Token::Op(op) => b.op(*op),
        }
        i += 1;
    }
    b.finish(false, false);
    b.out
}

struct Builder {
    out: Commands,
    current: SimpleCommand,
    expect: Expect,
    /// A redirection waiting for its target word.
    redirect: Option<Redirect>,
    /// The current command reads from a pipe.
    piped: bool,
    /// `case` statements open.
    cases: usize,
    /// Open `{ }` and `( )`, each with the function it is the body of.
    groups: Vec<Option<String>>,
    /// A function name whose body is the next group.
    pending_function: Option<String>,
    /// The functions whose bodies are open, with how many times each.
    active: HashMap<String, usize>,
    /// For each function, the calls to itself its body makes, and whether one of them is
    /// in a pipe or in the background.
    calls: HashMap<String, (usize, bool)>,
}

impl Builder {
    fn word(&mut self, word: &Word) {
        if let Some(redirect) = self.redirect.take() {
            self.current.redirects.push((redirect, word.clone()));
            return;
        }
        let literal = word.literal();
        match self.expect {
            Expect::SkipToSeparator => {
                if literal.as_deref() == Some("]]") {
                    self.expect = Expect::Command;
                }
            }
            // After the last branch, `esac` ends the `case`.
            Expect::CasePattern if literal.as_deref() == Some("esac") => {
                self.cases = self.cases.saturating_sub(1);
                self.expect = Expect::Command;
            }
            Expect::CasePattern => {}
            Expect::CaseWord => {
                if literal.as_deref() == Some("in") {
                    self.expect = Expect::CasePattern;
                }
            }
            Expect::FunctionName => {
                self.pending_function = literal;
                self.expect = Expect::Command;
            }
            Expect::Argument => self.current.words.push(word.clone()),
            Expect::Command => self.command_word(word, literal.as_deref()),
        }
    }

    fn command_word(&mut self, word: &Word, literal: Option<&str>) {
        match literal {
            Some(
                "if" | "then" | "else" | "elif" | "fi" | "do" | "done" | "while" | "until" | "!",
            ) => {}
            Some("for" | "select" | "[[") => self.expect = Expect::SkipToSeparator,
            Some("case") => {
                self.cases += 1;
                self.expect = Expect::CaseWord;
            }
            Some("esac") => self.cases = self.cases.saturating_sub(1),
            Some("function") => self.expect = Expect::FunctionName,
            Some("{") => self.open(),
            Some("}") => self.close(),
            _ if word.is_assignment() => {}
            _ => {
                self.current.words.push(word.clone());
                self.expect = Expect::Argument;
            }
        }
    }

    fn op(&mut self, op: Op) {
        match op {
            Op::Redirect(r) => self.redirect = Some(r),
            Op::Pipe => {
                self.finish(true, false);
                self.piped = true;
            }
            Op::Amp => self.finish(false, true),
            Op::Semi | Op::And | Op::Or => self.finish(false, false),
            Op::CaseEnd => {
                self.finish(false, false);
                if self.cases > 0 {
                    self.expect = Expect::CasePattern;
                }
            }
            Op::Open if self.expect == Expect::CasePattern => {}
            Op::Open => {
                self.finish(false, false);
                self.open();
            }
            Op::Close if self.expect == Expect::CasePattern => self.expect = Expect::Command,
            Op::Close => {
                self.finish(false, false);
                self.close();
            }
        }
    }

    fn open(&mut self) {
        let function = self.pending_function.take();
        if let Some(name) = &function {
            *self.active.entry(name.clone()).or_default() += 1;
            self.calls.insert(name.clone(), (0, false));
        }
        self.groups.push(function);
    }

    fn close(&mut self) {
        if let Some(Some(name)) = self.groups.pop()
            && let Some(count) = self.active.get_mut(&name)
        {
            *count -= 1;
            if *count == 0 {
                self.active.remove(&name);
            }
        }
    }

    /// Ends the current command; `pipe`: its output goes into a pipe, `background`: it
    /// runs in the background.
    fn finish(&mut self, pipe: bool, background: bool) {
        self.redirect = None;
        let command = std::mem::take(&mut self.current);
        let piped = std::mem::replace(&mut self.piped, false);
        if matches!(self.expect, Expect::Argument | Expect::SkipToSeparator) {
            self.expect = Expect::Command;
        }
        if command.words.is_empty() && command.redirects.is_empty() {
            return;
        }
        if let Some(name) = command.words.first().and_then(Word::literal)
            && self.active.contains_key(&name)
        {
            let (count, parallel) = self.calls.entry(name.clone()).or_default();
            *count += 1;
            *parallel |= pipe || piped || background;
            if *count >= 2 && *parallel {
                self.out.fork_bomb.get_or_insert(name);
            }
        }
        self.out.list.push(command);
    }
}
