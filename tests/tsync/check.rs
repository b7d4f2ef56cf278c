//! `tsync check`: every mistake in one run, each with line, column and help.

use crate::support::{Test, fixture};

#[test]
fn examples_and_playbooks_are_valid() {
    let mut files: Vec<String> = Vec::new();
    for dir in ["examples", "playbooks"] {
        for entry in std::fs::read_dir(format!("{}/{dir}", crate::support::ROOT)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "kdl") {
                files.push(path.display().to_string());
            }
        }
    }
    assert!(files.len() >= 2, "examples and playbooks exist: {files:?}");
    // Without any inventory the language is still checked; names can't be.
    Test::new()
        .arg_list(&files)
        .run()
        .code(0)
        .stderr_has("no hosts are known");
    // With the fleet fixture every selector must resolve (the demo's hosts are a lab's: the
    // lab tests apply it for real).
    let fleet: Vec<String> = files
        .into_iter()
        .filter(|f| !f.ends_with("demo.kdl"))
        .collect();
    Test::new().arg_list(&fleet).fleet().run().code(0);
}

#[test]
fn every_mistake_is_reported_at_once_with_line_and_column() {
    let run = Test::new()
        .args(["check", &fixture("bad/mistakes.kdl")])
        .fleet()
        .run()
        .code(2);
    let stderr = run.stderr.replace(crate::support::FIXTURES, "FIXTURES");
    insta::assert_snapshot!("mistakes", stderr);
    for code in [
        "unknown-node",
        "wrong-type",
        "bad-duration",
        "unknown-property",
        "bad-amount",
        "bad-selector",
        "unsafe-placeholder",
        "duplicate-stage",
        "unknown-stage",
        "undefined-variable",
        "unknown-host",
        "cycle",
        "no-hosts",
    ] {
        assert!(stderr.contains(&format!("tsync::{code}")), "missing {code}");
    }
}

#[test]
fn a_cycle_names_every_stage_in_order_with_each_edge() {
    let run = Test::new()
        .args(["check", &fixture("bad/cycle.kdl")])
        .fleet()
        .run()
        .code(2);
    let stderr = run.stderr.replace(crate::support::FIXTURES, "FIXTURES");
    assert!(stderr.contains("stages need each other in a circle: a → c → b → a"));
    // `d` needs `a` but is not part of the circle.
    assert!(!stderr.contains("`d` needs"));
    insta::assert_snapshot!("cycle", stderr);
}

#[test]
fn kdl_syntax_errors_point_at_the_spot() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.kdl");
    std::fs::write(&file, "stage \"a\" {\n    on \"all\"\n    run \"x\n").unwrap();
    Test::new()
        .args(["check"])
        .args([&file])
        .run()
        .code(2)
        .stderr_has("tsync::kdl-syntax")
        .stderr_has("broken.kdl:3:");
}

#[test]
fn a_flag_variable_satisfies_a_placeholder() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("v.kdl");
    std::fs::write(
        &file,
        "stage \"a\" {\n    on \"all\"\n    run \"echo {{release}}\"\n}\n",
    )
    .unwrap();
    Test::new()
        .args(["check"])
        .args([&file])
        .fleet()
        .run()
        .code(2)
        .stderr_has("variable `release` is not defined");
    Test::new()
        .args(["check"])
        .args([&file])
        .fleet()
        .args(["--var", "release=v1"])
        .run()
        .code(0);
    Test::new()
        .args(["check"])
        .args([&file])
        .fleet()
        .args(["--var", "1bad"])
        .run()
        .code(2)
        .stderr_has("is not NAME=VALUE");
}

impl Test {
    fn arg_list(self, files: &[String]) -> Test {
        self.args(["check"]).args(files)
    }
}

#[test]
fn zero_and_huge_durations_in_a_playbook_are_refused() {
    // Regression: a check's `timeout "0s"` passed validation (every probe would fail), and a
    // step timeout of `70years` was accepted.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("d.kdl");
    std::fs::write(
        &file,
        "stage \"a\" {\n    on \"all\"\n    run \"true\" timeout=\"70years\"\n    \
         check \"up\" {\n        tcp \"127.0.0.1:22\"\n        timeout \"0s\"\n        \
         interval \"0s\"\n    }\n    rolling pause=\"0s\"\n}\n",
    )
    .unwrap();
    let run = Test::new()
        .args(["check"])
        .args([&file])
        .run()
        .code(2)
        .stderr_has("`70years` is longer than a day")
        .stderr_has("a timeout of zero would fail every attempt");
    // A zero interval or pause is fine: retry or go on at once.
    assert_eq!(
        run.stderr.matches("tsync::bad-duration").count(),
        2,
        "{}",
        run.stderr
    );
}

#[test]
fn what_the_kdl_parser_is_not_given_is_explained() {
    // The pre-scan's refusals (an unclosed string, here) are diagnostics like any other.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("unclosed.kdl");
    std::fs::write(
        &file,
        "stage \"deploy\" {\n    on \"web\"\n    run \"echo deploying\n}\n",
    )
    .unwrap();
    let run = Test::new().args(["check"]).args([&file]).run().code(2);
    let stderr = run.stderr.replace(&dir.path().display().to_string(), "DIR");
    insta::assert_snapshot!("unclosed_string", stderr);
    let selector = format!("{}web", "!".repeat(40));
    let run = Test::new()
        .args(["run", &selector, "--", "true"])
        .run()
        .code(2);
    insta::assert_snapshot!("selector_too_deep", run.stderr);
}

#[test]
fn an_unreadable_script_is_reported_where_it_is_written() {
    // Scripts are read after parsing (the load phase); their problems must still come in the
    // order of the file, among the parser's, and the script that exists must not be reported.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ok.sh"), "echo ok\n").unwrap();
    std::fs::write(dir.path().join("binary.sh"), [0xff, 0xfe]).unwrap();
    let file = dir.path().join("s.kdl");
    std::fs::write(
        &file,
        "stage \"a\" {\n    on \"all\"\n    script \"missing.sh\" 5\n    run \"true\" bogus=1\n    \
         script \"ok.sh\"\n}\nstage \"b\" {\n    on \"all\"\n    frob\n    \
         script \"binary.sh\"\n}\n",
    )
    .unwrap();
    let run = Test::new().args(["check"]).args([&file]).run().code(2);
    let order: Vec<usize> = [
        "cannot read script",
        "a script argument",
        "unknown property `bogus`",
        "unknown node `frob`",
        "it is not UTF-8 text",
    ]
    .iter()
    .map(|needle| {
        run.stderr
            .find(needle)
            .unwrap_or_else(|| panic!("no `{needle}` in {}", run.stderr))
    })
    .collect();
    assert!(order.is_sorted(), "{}", run.stderr);
    assert_eq!(
        run.stderr.matches("tsync::missing-script").count(),
        2,
        "{}",
        run.stderr
    );
}
