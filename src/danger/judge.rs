//! The walk: command text → its commands (those inside substitutions and `sh -c` strings
//! too) → the first rule one of them breaks.

use super::MAX_DEPTH;
use super::commands::{SimpleCommand, commands};
use super::lexer::{Redirect, lex};
use super::rule::{Danger, Rule};
use super::target::{Target, is_device, target};
use super::tools::{self, is_sysrq, sysrq};
use super::unwrap::{Inner, command_name, inner};
use super::word::{Part, Word};

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
        // Where a `cd` earlier in the list went, for relative paths after it (`cd / && rm
        // -rf *`); None when unknown.
        let mut cwd = None;
        for command in &found.list {
            if let Some(danger) = judge_command(command, depth, &mut cwd) {
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

fn judge_command(
    command: &SimpleCommand,
    depth: usize,
    cwd: &mut Option<Vec<Part>>,
) -> Option<Danger> {
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
            None if name == "cd" => {
                *cwd = change_directory(args, cwd.as_deref());
                return None;
            }
            None => match cwd {
                Some(dir) if tools::takes_paths(&name) => {
                    return tools::judge(&name, &rebase(args, dir));
                }
                _ => return tools::judge(&name, args),
            },
            Some(Inner::At(at)) => words = &args[at.min(args.len())..],
            Some(Inner::Script(text)) if depth < MAX_DEPTH => {
                return judge_text(&text, depth + 1);
            }
            Some(Inner::Script(_)) => return Some(too_deep()),
            // A shell reading a here-document or here-string reads it as commands.
            Some(Inner::Stdin) => {
                let input = command.redirects.iter().rev().find_map(|(r, text)| {
                    matches!(r, Redirect::HereDoc { .. } | Redirect::HereString).then_some(text)
                })?;
                if depth >= MAX_DEPTH {
                    return Some(too_deep());
                }
                return judge_text(&input.as_script(), depth + 1);
            }
            Some(Inner::Nothing) => return None,
        }
    }
}

/// Where `cd ARGS` goes from `current`: an absolute path or a home directory as written, a
/// relative one under `current`; None when that is not known (a variable, `cd -`).
fn change_directory(args: &[Word], current: Option<&[Part]>) -> Option<Vec<Part>> {
    let operand = args.iter().find(|w| {
        !w.literal()
            .is_some_and(|t| t.starts_with('-') && t.len() > 1)
    });
    let Some(word) = operand else {
        return Some(vec![Part::Tilde]);
    };
    match word.parts.first() {
        Some(Part::Tilde) => Some(word.parts.clone()),
        Some(Part::Lit(text)) if text.starts_with('/') => Some(word.parts.clone()),
        Some(Part::Lit(_)) => Some(rebase(std::slice::from_ref(word), current?).pop()?.parts),
        _ => None,
    }
}

/// `args` with each relative path (a word not starting with `-`, `/`, `~` or an expansion)
/// put under `dir`.
fn rebase(args: &[Word], dir: &[Part]) -> Vec<Word> {
    args.iter()
        .map(|word| match word.parts.first() {
            Some(Part::Lit(text)) if text.starts_with(['-', '/']) => word.clone(),
            Some(Part::Lit(_) | Part::Glob) => {
                let mut parts = dir.to_vec();
                parts.push(Part::Lit("/".into()));
                parts.extend(word.parts.iter().cloned());
                Word::new(parts)
            }
            _ => word.clone(),
        })
        .collect()
}
