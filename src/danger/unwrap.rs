//! Commands that run another command: `sudo`, `env`, `nice`, `timeout`, `xargs`, … are
//! looked through to the command they start; `sh -c STRING`, `eval`, `env -S` give a
//! string that is read as a command of its own, and `sh` alone reads its input.

use super::word::Word;

/// The name a command word runs: `/usr/bin/rm` is `rm`.
pub fn command_name(word: &Word) -> Option<String> {
    let text = word.literal()?;
    let name = match text.rsplit_once('/') {
        Some((_, base)) if text.starts_with('/') => base,
        _ => &text,
    };
    Some(name.to_string())
}

/// Where the wrapped command starts, if `name` is a wrapper: the index in `args` (the
/// words after the wrapper's name), or a string to read as a command.
pub enum Inner {
    At(usize),
    Script(String),
    /// A shell reading its commands from its input (`sh`, `bash -s`).
    Stdin,
    Nothing,
}

/// The command `name` (a wrapper) starts with `args`; None when `name` is no wrapper.
pub fn inner(name: &str, args: &[Word]) -> Option<Inner> {
    let inner = match name {
        "sudo" => {
            let at = options(
                args,
                "ughpCDrtUTR",
                &[
                    "user",
                    "group",
                    "host",
                    "prompt",
                    "close-from",
                    "chdir",
                    "role",
                    "type",
                    "other-user",
                    "command-timeout",
                    "chroot",
                ],
            );
            let flags = flags_before(args, at);
            if flags.iter().any(|f| {
                matches!(
                    f.as_str(),
                    "e" | "l" | "v" | "V" | "-edit" | "-list" | "-validate" | "-version"
                )
            }) {
                Inner::Nothing
            } else {
                Inner::At(skip_assignments(args, at))
            }
        }
        "doas" => Inner::At(options(args, "uC", &[])),
        "env" => {
            let mut i = 0;
            while let Some(word) = args.get(i).and_then(Word::literal) {
                if word == "--" {
                    i += 1;
                    break;
                }
                if let Some(split) = word.strip_prefix("--split-string=") {
                    return Some(Inner::Script(script_from(split, &args[i + 1..])));
                }
                if word == "-S" || word == "--split-string" {
                    let Some(text) = args.get(i + 1) else {
                        return Some(Inner::Nothing);
                    };
                    return Some(Inner::Script(script_from(
                        &text.as_script(),
                        &args[i + 2..],
                    )));
                }
                if let Some(split) = word.strip_prefix("-S") {
                    return Some(Inner::Script(script_from(split, &args[i + 1..])));
                }
                if word == "-u" || word == "-C" || word == "--unset" || word == "--chdir" {
                    i += 2;
                } else if word.starts_with('-') {
                    i += 1;
                } else {
                    break;
                }
            }
            Inner::At(skip_assignments(args, i))
        }
        "nice" => Inner::At(options(args, "n", &["adjustment"])),
        "ionice" => Inner::At(options(
            args,
            "cnp",
            &["class", "classdata", "pid", "pgid", "uid"],
        )),
        "nohup" | "builtin" | "setsid" => Inner::At(options(args, "", &[])),
        "stdbuf" => Inner::At(options(args, "ioe", &["input", "output", "error"])),
        "time" => Inner::At(options(args, "fo", &["format", "output"])),
        "exec" => Inner::At(options(args, "a", &[])),
        "timeout" => {
            let at = options(args, "sk", &["signal", "kill-after"]);
            // The duration comes before the command.
            Inner::At(at + 1)
        }
        "command" => {
            let at = options(args, "", &[]);
            let flags = flags_before(args, at);
            if flags.iter().any(|f| f.contains('v') || f.contains('V')) {
                Inner::Nothing
            } else {
                Inner::At(at)
            }
        }
        "xargs" => Inner::At(options(
            args,
            "adEILnPs",
            &[
                "arg-file",
                "delimiter",
                "eof",
                "max-args",
                "max-procs",
                "max-chars",
                "max-lines",
                "replace",
                "process-slot-var",
            ],
        )),
        "busybox" | "toybox" => Inner::At(0),
        "eval" => Inner::Script(script_from("", args)),
        "su" | "runuser" => switch_user(name, args),
        // The words after the destination are a command line for the other host's shell.
        "ssh" => {
            let at = options(args, "BbcDEeFIiJLlmOopQRSWw", &[]);
            match args.get(at + 1..) {
                Some(rest) if !rest.is_empty() => Inner::Script(script_from("", rest)),
                _ => Inner::Nothing,
            }
        }
        "sh" | "bash" | "dash" | "zsh" | "ksh" | "ash" | "mksh" | "yash" | "posh" | "rbash" => {
            shell(args)
        }
        _ => return None,
    };
    Some(inner)
}

/// `su [-] [USER] -c STRING`, `runuser -c STRING`: the string; `runuser -u USER CMD…`: the
/// command; `su USER` alone is an interactive shell.
fn switch_user(name: &str, args: &[Word]) -> Inner {
    for (i, word) in args.iter().enumerate() {
        let Some(word) = word.literal() else { continue };
        if let Some(command) = word.strip_prefix("--command=") {
            return Inner::Script(command.to_string());
        }
        let short_c = word.starts_with('-') && !word.starts_with("--") && word.contains('c');
        if word == "--command" || short_c {
            return args
                .get(i + 1)
                .map_or(Inner::Nothing, |text| Inner::Script(text.as_script()));
        }
    }
    if name == "runuser" {
        let at = options(args, "ugG", &["user", "group", "supp-group"]);
        if at < args.len() {
            return Inner::At(at);
        }
    }
    Inner::Nothing
}

/// `sh [options] -c STRING …`: the string; `sh`, `sh -s ARGS`: its input; a script file is
/// not seen.
fn shell(args: &[Word]) -> Inner {
    let mut i = 0;
    let mut command = false;
    let mut stdin = false;
    while let Some(word) = args.get(i).and_then(Word::literal) {
        if word == "--" || word == "-" {
            i += 1;
            break;
        }
        let Some(flags) = word.strip_prefix('-').or_else(|| word.strip_prefix('+')) else {
            break;
        };
        if flags.starts_with('-') {
            // Long options; these take a value.
            i += if matches!(flags, "-rcfile" | "-init-file") {
                2
            } else {
                1
            };
            continue;
        }
        command |= word.starts_with('-') && flags.contains('c');
        stdin |= word.starts_with('-') && flags.contains('s');
        // `-o NAME` and bash's `-O NAME` take the next word.
        i += if flags.contains('o') || flags.contains('O') {
            2
        } else {
            1
        };
    }
    match (command, args.get(i)) {
        (true, Some(text)) => Inner::Script(text.as_script()),
        (true, None) => Inner::Nothing,
        (false, None) => Inner::Stdin,
        (false, Some(_)) if stdin => Inner::Stdin,
        (false, Some(_)) => Inner::Nothing,
    }
}

/// A command line given as `first` and then `rest`'s words, joined by spaces as `eval` and
/// `env -S` join them.
fn script_from(first: &str, rest: &[Word]) -> String {
    let mut text = first.to_string();
    for word in rest {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&word.as_script());
    }
    text
}

/// The index of the first word that is not an option: `short` are the one-letter options
/// that take a value, `long` the long ones.
fn options(args: &[Word], short: &str, long: &[&str]) -> usize {
    let mut i = 0;
    while let Some(word) = args.get(i).and_then(Word::literal) {
        if word == "--" {
            return i + 1;
        }
        if let Some(name) = word.strip_prefix("--") {
            i += if long.contains(&name) { 2 } else { 1 };
            continue;
        }
        let Some(cluster) = word.strip_prefix('-').filter(|c| !c.is_empty()) else {
            return i;
        };
        i += 1;
        // In `-un` the value is glued; in `-n` alone it is the next word.
        if let Some(at) = cluster.find(|c| short.contains(c))
            && at + 1 == cluster.len()
        {
            i += 1;
        }
    }
    i
}

/// The option words before `at`, their leading `-` taken off.
fn flags_before(args: &[Word], at: usize) -> Vec<String> {
    args[..at.min(args.len())]
        .iter()
        .filter_map(Word::literal)
        .filter_map(|w| w.strip_prefix('-').map(str::to_string))
        .collect()
}

/// Skips `NAME=value` words (`sudo A=1 cmd`, `env A=1 cmd`).
fn skip_assignments(args: &[Word], mut at: usize) -> usize {
    while args.get(at).is_some_and(Word::is_assignment) {
        at += 1;
    }
    at
}
