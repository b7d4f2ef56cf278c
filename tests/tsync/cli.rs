//! The command line itself: where options may go, `--quiet`, colour conventions, and the
//! completions and manual pages generated from the same definition as the parser.

use crate::support::{Test, lab};

#[test]
fn options_may_come_before_the_command() {
    let lab = lab(2);
    let config = lab.ssh_config();
    let run = Test::new()
        .no_inventory()
        .args(["--no-tailscale", "--ssh-config"])
        .args([config.as_os_str()])
        .args([
            "-j", "2", "--output", "json", "run", "all", "--", "echo", "hi",
        ])
        .run()
        .code(0);
    let events = run.events();
    let said = crate::support::of_kind(&events, "output");
    assert_eq!(said.len(), 2, "{}", run.stdout);
}

#[test]
fn quiet_prints_only_what_went_wrong_and_the_final_line() {
    let lab = lab(2);
    let run = Test::new()
        .args(["run", "all", "--quiet"])
        .lab(&lab)
        .args(["--", "echo noise"])
        .run()
        .code(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}", run.stdout);
    assert!(lines[0].starts_with("succeeded: 2 hosts"), "{}", run.stdout);

    let run = Test::new()
        .args(["run", "all", "-q"])
        .lab(&lab)
        .args(["--", "echo chat-$((1+1)); echo broken >&2; exit 3"])
        .run()
        .code(3);
    assert!(!run.stdout.contains("chat-2"), "{}", run.stdout);
    assert!(run.stdout.contains("exited with code 3"), "{}", run.stdout);
    assert!(run.stdout.contains("broken"), "{}", run.stdout);
    assert!(
        run.stdout
            .lines()
            .last()
            .unwrap()
            .starts_with("failed: 2 hosts, 2 failed"),
        "{}",
        run.stdout
    );
}

#[test]
fn colour_follows_no_color_and_clicolor_force() {
    let (_dir, book) = crate::support::playbook("stage \"s\" { on \"nowhere\"; bogus }");
    // Not a terminal: no colour, unless CLICOLOR_FORCE asks for it; NO_COLOR wins over it.
    for (no_color, force, coloured) in [
        ("", "", false),
        ("", "1", true),
        ("1", "1", false),
        ("", "0", false),
    ] {
        let run = Test::new()
            .env("NO_COLOR", no_color)
            .env("CLICOLOR_FORCE", force)
            .args(["check"])
            .args([&book])
            .run()
            .code(2);
        assert_eq!(
            run.stderr.contains("\x1b["),
            coloured,
            "NO_COLOR={no_color:?} CLICOLOR_FORCE={force:?}:\n{}",
            run.stderr
        );
    }
}

#[test]
fn completions_and_manual_pages_come_from_the_parser() {
    for shell in ["bash", "zsh", "fish"] {
        let run = Test::new()
            .no_inventory()
            .args(["completions", shell])
            .run()
            .code(0);
        for word in ["apply", "status", "ssh-config"] {
            assert!(run.stdout.contains(word), "{shell} lacks {word}");
        }
    }
    let run = Test::new().no_inventory().args(["man"]).run().code(0);
    assert!(run.stdout.contains(".TH tsync 1"), "{}", run.stdout);
    let dir = tempfile::tempdir().unwrap();
    Test::new()
        .no_inventory()
        .args(["man", "--dir"])
        .args([dir.path()])
        .run()
        .code(0);
    for page in [
        "tsync.1",
        "tsync-apply.1",
        "tsync-run.1",
        "tsync-history-show.1",
    ] {
        let text = std::fs::read_to_string(dir.path().join(page)).expect(page);
        assert!(text.contains(".TH"), "{page}");
    }
}
