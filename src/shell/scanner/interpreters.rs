//! Commands that run a word they are given, or their standard input, as code: a hole there
//! is refused whatever its quotes, since the value would be read twice.

use super::word::Word;
use crate::shell::Refusal;

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
pub(super) fn command_refusals(words: &[Word]) -> Vec<(usize, Refusal)> {
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
pub(super) fn reads_code_from_stdin(words: &[Word]) -> bool {
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
