//! Template splitting, quoting in real shells, and the injection property tests.

use super::*;
use crate::shell::quote_word;
use proptest::prelude::*;
use std::path::Path;
use std::process::Command;

fn shell(text: &str) -> Result<Template, Vec<UnsafePlaceholder>> {
    Template::shell(Spanned::new(text.to_string(), (0, text.len()).into()), None)
}

/// The shells a host may log in with: dash (as `sh` on Debian), bash, and zsh where it is
/// installed.
fn shells() -> Vec<&'static str> {
    ["sh", "bash", "zsh"]
        .into_iter()
        .filter(|sh| {
            Command::new(sh)
                .args(["-c", "exit 0"])
                .status()
                .is_ok_and(|s| s.success())
        })
        .collect()
}

/// Runs `command` with `shell -c` in `dir`; returns what it printed.
fn run_in(shell: &str, dir: &Path, command: &str) -> String {
    let out = Command::new(shell)
        .arg("-c")
        .arg(command)
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Values that try to escape from every kind of spot. Each would create `pwned` in the
/// working directory if it ever ran.
const PAYLOADS: &[&str] = &[
    "$(touch pwned)",
    "`touch pwned`",
    "'; touch pwned; '",
    "\"; touch pwned; \"",
    "\\'; touch pwned #",
    "\\\"; touch pwned #",
    "'$(touch pwned)'",
    "\"$(touch pwned)\"",
    "x\ntouch pwned\n",
    "x\nEOF\ntouch pwned\n",
    "\nEOF\ntouch pwned\nEOF\n",
    "'\"'\"\n; touch pwned; #",
    "${IFS}$(touch${IFS}pwned)",
    ")\ntouch pwned\n(",
    "a[$(touch pwned)]",
];

/// A word of a command built around placeholders `{{v}}`, and what it expands to for a
/// value: the model the real shells are held to.
#[derive(Debug, Clone)]
enum Word {
    Bare,
    Single(String, String),
    Double(String, String),
    /// `"$(printf %s WORD)"`, or with a line continuation after the `(`.
    Subst(Box<Word>, bool),
    /// `"$(cat <<EOF … EOF)"` with the value on a line of the text.
    HereDoc {
        quoted: bool,
        strip_tabs: bool,
        before: String,
        after: String,
    },
    Concat(Vec<Word>),
}

impl Word {
    fn text(&self) -> String {
        match self {
            Word::Bare => "{{v}}".into(),
            Word::Single(a, b) => format!("'{a}{{{{v}}}}{b}'"),
            Word::Double(a, b) => format!("\"{a}{{{{v}}}}{b}\""),
            Word::Subst(inner, continued) => {
                let cont = if *continued { "\\\n" } else { "" };
                format!("\"$({cont}printf %s {})\"", inner.text())
            }
            Word::HereDoc {
                quoted,
                strip_tabs,
                before,
                after,
            } => {
                let dash = if *strip_tabs { "-" } else { "" };
                let delimiter = if *quoted { "'EOF'" } else { "EOF" };
                format!("\"$(cat <<{dash}{delimiter}\n{before}{{{{v}}}}{after}\nEOF\n)\"")
            }
            Word::Concat(words) => words.iter().map(Word::text).collect(),
        }
    }

    /// What the word expands to, or None where the value must be refused (it would end
    /// a here-document).
    fn expands_to(&self, v: &str) -> Option<String> {
        Some(match self {
            Word::Bare => v.to_string(),
            Word::Single(a, b) | Word::Double(a, b) => format!("{a}{v}{b}"),
            Word::Subst(inner, _) => inner.expands_to(v)?.trim_end_matches('\n').to_string(),
            Word::HereDoc {
                strip_tabs,
                before,
                after,
                ..
            } => {
                let text = format!("{before}{v}{after}");
                let lines: Vec<&str> = text
                    .split('\n')
                    .map(|l| {
                        if *strip_tabs {
                            l.trim_start_matches('\t')
                        } else {
                            l
                        }
                    })
                    .collect();
                if lines.contains(&"EOF") {
                    return None;
                }
                lines.join("\n").trim_end_matches('\n').to_string()
            }
            Word::Concat(words) => {
                let mut out = String::new();
                for w in words {
                    out.push_str(&w.expands_to(v)?);
                }
                out
            }
        })
    }
}

/// Literal text around a placeholder: anything but what would close its quotes.
fn filler(banned: &'static str) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec!['a', ' ', '#', '\'', '"', '(', ')', ';', '\t', '*']),
        0..4,
    )
    .prop_map(move |cs| cs.into_iter().filter(|c| !banned.contains(*c)).collect())
}

fn word() -> impl Strategy<Value = Word> {
    let leaf = prop_oneof![
        Just(Word::Bare),
        (filler("'"), filler("'")).prop_map(|(a, b)| Word::Single(a, b)),
        (filler("\""), filler("\"")).prop_map(|(a, b)| Word::Double(a, b)),
        (
            any::<bool>(),
            any::<bool>(),
            filler("'\"()"),
            filler("'\"()")
        )
            .prop_map(|(quoted, strip_tabs, before, after)| Word::HereDoc {
                quoted,
                strip_tabs,
                before,
                after,
            }),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            (inner.clone(), any::<bool>()).prop_map(|(w, c)| Word::Subst(Box::new(w), c)),
            prop::collection::vec(inner, 2..4).prop_map(Word::Concat),
        ]
    })
}

/// Lines before the command that print nothing but trip a naive quote scanner: quotes in
/// comments, `$'…'`, here-documents, continuations, parentheses in strings.
const NOISE: &[&str] = &[
    "# don't restart here {{v}}",
    ": 'it'\"'\"'s' # it's",
    ": \"a'b\"",
    ": $'a\\\\b'",
    ": <<'X'\n'\"`\nX",
    ": a \\\n  b",
    "x=$(echo ')')",
    ": ${HOME:-/}",
    ": $((1 + 2))",
    ": \"$(echo \"(\")\"",
    ": $(: '#' ) # ')",
    ": \"$(\\\necho \\\n')')\"",
];

/// Every byte a value may hold but NUL, weighted towards shell syntax.
fn value() -> impl Strategy<Value = String> {
    let random = prop::collection::vec(
        prop::sample::select(
            "'\"\\$`;|&()<>{}[]*?!#~=%\n\t EOFa-é"
                .chars()
                .collect::<Vec<_>>(),
        ),
        0..24,
    )
    .prop_map(String::from_iter);
    prop_oneof![
        prop::sample::select(PAYLOADS).prop_map(str::to_string),
        random.clone(),
        (random, prop::sample::select(PAYLOADS)).prop_map(|(r, p)| format!("{r}{p}")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    /// Whatever a value holds, every shell a host may log in with reads it as one literal
    /// string, and nothing else runs (issue 6: injection through variables).
    #[test]
    fn values_arrive_literally_through_real_shells(
        noise in prop::collection::vec(prop::sample::select(NOISE), 0..3),
        word in word(),
        v in value(),
    ) {
        let mut text = String::new();
        for line in noise {
            text.push_str(line);
            text.push('\n');
        }
        text.push_str(&format!("printf '[%s]' {} # it's {{{{v}}}}\n", word.text()));
        let template = shell(&text).expect("every spot of the model is quotable");
        let rendered = template.render(|_| Some(v.as_str()));
        let Some(expected) = word.expands_to(&v) else {
            prop_assert!(matches!(rendered, Err(RenderError::EndsHereDoc { .. })), "{rendered:?}");
            return Ok(());
        };
        let command = rendered.expect("the value fits");
        for sh in shells() {
            let dir = tempfile::tempdir().unwrap();
            let out = run_in(sh, dir.path(), &command);
            prop_assert!(!dir.path().join("pwned").exists(), "{sh} ran the value: {command}");
            // dash 0.5.12 drops a byte of a here-document line that starts like its end
            // word and goes on with a non-ASCII character (`Eé` under `<<EOF`), whoever
            // wrote the line: its defect, not a way out of the quotes.
            let dash_mangles = sh == "sh" && command.contains("<<") && !v.is_ascii();
            if !dash_mangles {
                prop_assert_eq!(&out, &format!("[{expected}]"), "{} ran {}", sh, command);
            }
        }
    }

    /// Directories, environment values and script arguments go in as quoted words.
    #[test]
    fn words_arrive_literally_through_real_shells(v in value()) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("d")).unwrap();
        let command = format!(
            "X={w}; export X; printf '[%s]' \"$X\"; sh -s -- {w} <<'S'\nprintf '[%s]' \"$1\"\nS\nprintf '[%s]' {w}",
            w = quote_word(&v)
        );
        for sh in shells() {
            let out = run_in(sh, dir.path(), &command);
            prop_assert!(!dir.path().join("pwned").exists(), "{sh} ran the value");
            prop_assert_eq!(&out, &format!("[{v}]").repeat(3), "{}", sh);
        }
    }
}

#[test]
fn the_reported_injections_are_closed() {
    let forms = [
        // An apostrophe in a comment opened no quote for the old scanner.
        "# don't restart here\necho deploying {{v}}",
        "echo start # it's fine: {{v}}",
    ];
    for form in forms {
        let template = shell(form).unwrap();
        for value in ["v1; touch pwned", "a\ntouch pwned"] {
            let command = template.render(|_| Some(value)).unwrap();
            for sh in shells() {
                let dir = tempfile::tempdir().unwrap();
                run_in(sh, dir.path(), &command);
                assert!(!dir.path().join("pwned").exists(), "{sh}: {command}");
            }
        }
    }
    // bash decodes $'…' and dash does not: refused, not guessed.
    let err = shell("printf '%s\\n' $'{{v}}'").unwrap_err();
    assert_eq!(err[0].refusal, Refusal::AnsiCString);
}

#[test]
fn every_refused_placeholder_is_reported() {
    let err = shell("echo `{{a}}` ${x:-{{b}}} {{c}} $(( {{d}} ))").unwrap_err();
    let names: Vec<_> = err.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "d"]);
}

#[test]
fn a_comment_keeps_its_placeholder_as_written() {
    let t = shell("echo {{v}} # was {{ v }}").unwrap();
    assert_eq!(
        t.render(|_| Some("a b")).unwrap(),
        "echo 'a b' # was {{ v }}"
    );
}

#[test]
fn values_that_end_a_here_document_are_refused() {
    let t = shell("cat <<EOF\nEOF{{v}}\nEOF").unwrap();
    assert!(matches!(
        t.render(|_| Some("")),
        Err(RenderError::EndsHereDoc { .. })
    ));
    assert!(t.render(|_| Some("x")).is_ok());
    let t = shell("cat <<-EOF\n{{v}}\nEOF").unwrap();
    assert!(t.render(|_| Some("a\n\t\tEOF\nb")).is_err());
    assert!(matches!(
        shell("echo {{v}}").unwrap().render(|_| Some("a\0b")),
        Err(RenderError::Nul { .. })
    ));
}

#[test]
fn only_plain_names_are_placeholders() {
    let t = Template::plain(
        Spanned::new(
            "docker ps --format '{{.Names}}' {{ host }}".into(),
            (10, 40).into(),
        ),
        Some("\"docker ps --format '{{.Names}}' {{ host }}\""),
    );
    let names: Vec<_> = t.placeholders().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["host"]);
    assert_eq!(t.placeholders().next().unwrap().span, (10 + 33, 10).into());
    assert_eq!(
        t.render(|_| Some("web-1")).unwrap(),
        "docker ps --format '{{.Names}}' web-1"
    );
}

#[test]
fn bare_words_stay_readable() {
    assert_eq!(quote_word("/srv/web"), "/srv/web");
    assert_eq!(quote_word("a b"), "'a b'");
    assert_eq!(quote_word(""), "''");
    // A bare `a=b` in command position would be an assignment.
    assert_eq!(quote_word("PATH=/tmp"), "'PATH=/tmp'");
}
