//! The walk: command text → its commands (those inside substitutions and `sh -c` strings
//! too) → the first rule one of them breaks.

use super::MAX_DEPTH;
use super::commands::{SimpleCommand, commands};
use super::lexer::{Redirect, lex};
use super::rule::{Danger, Rule};
use super::target::{Target, is_device, target};
use super::tools::{self, is_sysrq, sysrq};
use super::unwrap::{Inner, command_name, inner};

/// The first danger in `text`, read `depth` levels of nesting down.
pub fn judge_text(text: &str, depth: usize) -> Option<Danger> {
    let lexed = lex(text, depth);
    if lexed.too_deep {
        return Some(too_deep());
    }
    for tokens in &lexed.lists {
        let found = commands(tokens);
        if let Some(name) = found.fork_bomb {
            return Some(Danger::new(
                Rule::ForkBomb,
                format!(
                    "function `{name}` starts copies of itself until the host runs out of processes"
                ),
            ));
        }
        for command in &found.list {
            if let Some(danger) = judge_command(command, depth) {
                return Some(danger);
            }
        }
    }
    None
}

fn too_deep() -> Danger {
    Danger::new(
        Rule::TooDeep,
        format!("commands nest more than {MAX_DEPTH} levels deep, too deep to read"),
    )
}

fn judge_command(command: &SimpleCommand, depth: usize) -> Option<Danger> {
    for (redirect, to) in &command.redirects {
        let writes = matches!(redirect, Redirect::Truncate | Redirect::Append);
        if writes && is_device(to) {
            return Some(Danger::new(
                Rule::DeviceWrite,
                format!(
                    "output redirected onto `{}` overwrites a disk or memory device",
                    to.unquoted_text()
                ),
            ));
        }
        if writes && is_sysrq(to) {
            return Some(sysrq(to));
        }
        if *redirect == Redirect::Truncate
            && let Some(Target::KeyFile(path)) = target(to)
        {
            return Some(Danger::new(
                Rule::KeyFile,
                format!("`>` empties `/{path}`, leaving a host nobody can log in to or boot"),
            ));
        }
    }
    // Wrappers are looked through one after another: a loop, so `sudo sudo …` cannot nest.
    let mut words = command.words.as_slice();
    loop {
        let name = command_name(words.first()?)?;
        let args = &words[1..];
        match inner(&name, args) {
            None => return tools::judge(&name, args),
            Some(Inner::At(at)) => words = &args[at.min(args.len())..],
            Some(Inner::Script(text)) if depth < MAX_DEPTH => {
                return judge_text(&text, depth + 1);
            }
            Some(Inner::Script(_)) => return Some(too_deep()),
            Some(Inner::Nothing) => return None,
        }
    }
}
