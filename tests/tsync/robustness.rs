//! Bad input never panics: each gets a clear error and exit code 2.

use std::time::{Duration, Instant};

use crate::support::{Test, playbook};

fn check_bytes(bytes: &[u8]) -> crate::support::Run {
    let file = tempfile::Builder::new().suffix(".kdl").tempfile().unwrap();
    std::fs::write(file.path(), bytes).unwrap();
    Test::new().args(["check"]).args([file.path()]).run()
}

fn assert_clean_failure(run: &crate::support::Run) {
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn garbage_bytes() {
    let run = check_bytes(&[0xff, 0xfe, 0x00, 0x9c, b'{', 0x80]);
    assert_clean_failure(&run);
    assert!(run.stderr.contains("not UTF-8"), "{}", run.stderr);
    let run = check_bytes(b"}}}{{{ \"\\q\" = = ## /* ");
    assert_clean_failure(&run);
    assert!(run.stderr.contains("tsync::kdl-syntax"), "{}", run.stderr);
}

#[test]
fn empty_file_is_valid_but_says_it_does_nothing() {
    let run = check_bytes(b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("no stages"), "{}", run.stderr);
}

#[test]
fn huge_file() {
    let run = check_bytes(&vec![b' '; 9 << 20]);
    assert_clean_failure(&run);
    assert!(
        run.stderr.contains("larger than a playbook can be"),
        "{}",
        run.stderr
    );
    // Large but allowed: many stages parse in reasonable time.
    let mut many = String::new();
    for i in 0..5000 {
        many.push_str(&format!(
            "stage \"s{i}\" {{\n    on \"all\"\n    run \"echo {i}\"\n}}\n"
        ));
    }
    let run = check_bytes(many.as_bytes());
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn deep_nesting() {
    let run = check_bytes("a {".repeat(100_000).as_bytes());
    assert_clean_failure(&run);
    assert!(run.stderr.contains("nest deeper"), "{}", run.stderr);
}

#[test]
fn missing_file() {
    let run = Test::new().args(["check", "/nonexistent/deploy.kdl"]).run();
    assert_clean_failure(&run);
    assert!(
        run.stderr.contains("cannot read `/nonexistent/deploy.kdl`"),
        "{}",
        run.stderr
    );
}

#[test]
fn missing_explicit_ssh_config_is_an_error() {
    let run = Test::new()
        .args([
            "check",
            "examples/web.kdl",
            "--ssh-config",
            "/nonexistent/config",
        ])
        .run();
    assert_clean_failure(&run);
}

/// Runs `check` on `text`, which must fail cleanly (exit 2, no panic) and quickly.
#[track_caller]
fn refused_quickly(text: &str) -> crate::support::Run {
    let started = Instant::now();
    let run = check_bytes(text.as_bytes());
    assert_clean_failure(&run);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    run
}

#[test]
fn nesting_behind_an_unclosed_string() {
    // Regression: the nesting pre-scan took everything after an unclosed string for string
    // text, the parser recovered at the line end and recursed through 5,000 blocks: a stack
    // overflow.
    for open in ["\"", "\"\"\"\n", "#\"", "#\"\"\"\n", "\"\"\""] {
        let run = refused_quickly(&format!("a {open}\n{}", "b {".repeat(5000)));
        assert!(run.stderr.contains("tsync::kdl-syntax"), "{}", run.stderr);
    }
    let run = refused_quickly(&format!("a \"\n{}", "b {".repeat(5000)));
    assert!(run.stderr.contains("unclosed string"), "{}", run.stderr);
}

#[test]
fn chains_of_slashdashes_and_nested_comments() {
    // Regression: 3,000 `/-` in a row or 3,000 nested `/*` overflowed the parser's stack,
    // and 1,500 nested comments (3 KB) took seconds to parse.
    let run = refused_quickly(&format!("a {}b", "/- ".repeat(3000)));
    assert!(
        run.stderr.contains("more than 32 `/-` in one node"),
        "{}",
        run.stderr
    );
    let run = refused_quickly(&format!("{}{}a", "/*".repeat(3000), "*/".repeat(3000)));
    assert!(
        run.stderr.contains("comments nest deeper"),
        "{}",
        run.stderr
    );
    let run = refused_quickly(&"/* ".repeat(1500));
    assert!(run.stderr.contains("tsync::too-deep"), "{}", run.stderr);
    let run = refused_quickly("stage \"s\" { on \"all\"; run \"true\" }\n/* never closed");
    assert!(
        run.stderr.contains("unclosed `/*` comment"),
        "{}",
        run.stderr
    );
}

#[test]
fn thousands_of_stray_tokens() {
    // Regression (found by the fuzzer): the KDL parser's error recovery recursed once per
    // stray `}`, `=`, `)`, `(t)` or `\\`, and after a lone `/` it read on from inside a
    // string, so 40,000 of them overflowed the stack.
    for stray in ["}", "=", ")", "(t)", "\\ ", "a=", "\"a\"="] {
        let run = refused_quickly(&format!("a\n{}", stray.repeat(40_000)));
        assert!(run.stderr.contains("tsync::kdl-syntax"), "{}", run.stderr);
    }
    let run = refused_quickly(&format!(
        "stage \"d\" {{\n    on \"al{}={}cwd=\"/\" {}l\"\n}}\n",
        "{".repeat(40_000),
        "{".repeat(16_000),
        "{".repeat(8_000)
    ));
    assert!(run.stderr.contains("unexpected `/`"), "{}", run.stderr);
}

#[test]
fn a_control_character_inside_a_string() {
    // Regression (found by the fuzzer): KDL refuses control characters even in strings, and
    // its recovery from one read the rest of the string as 5,000 nested blocks.
    let run = refused_quickly(&format!(
        "stage \"s\" {{\n    on #\"\u{11}{}\"#\n}}\n",
        "b{".repeat(5000)
    ));
    assert!(
        run.stderr
            .contains("character U+0011 is not allowed in KDL"),
        "{}",
        run.stderr
    );
}

#[test]
fn deeply_nested_selectors() {
    // Regression: selectors of thousands of `(` or `!` overflowed the stack, through
    // `tsync run SELECTOR`, `--limit` and a stage's `on`.
    for open in ["(", "!"] {
        let selector = format!("{}web-1", open.repeat(20_000));
        Test::new()
            .args(["run", &selector, "--", "true"])
            .run()
            .code(2)
            .stderr_has("tsync::selector-too-deep")
            .stderr_has("selector nests deeper than 32 levels");
        let (_dir, file) = playbook("stage \"s\" {\n    on \"all\"\n    run \"true\"\n}\n");
        Test::new()
            .args(["plan"])
            .args([&file])
            .fleet()
            .args(["--limit", &selector])
            .run()
            .code(2)
            .stderr_has("tsync::selector-too-deep");
        let (_dir, file) = playbook(&format!(
            "stage \"s\" {{\n    on \"{selector}\"\n    run \"true\"\n}}\n"
        ));
        Test::new()
            .args(["check"])
            .args([&file])
            .fleet()
            .run()
            .code(2)
            .stderr_has("tsync::selector-too-deep");
    }
}

#[test]
fn diagnostic_far_along_a_line() {
    // Regression: miette panicked drawing a label past column 65,535 (Rust caps format
    // widths there); such a diagnostic now gives its place in words.
    let text = format!(
        "stage \"s\" {{ on \"all\"; run \"true\" }}\n{}bogus 1\n",
        " ".repeat(70_000)
    );
    let run = check_bytes(text.as_bytes());
    assert_clean_failure(&run);
    assert!(
        run.stderr
            .contains("unknown node `bogus` at the top of a playbook (at ")
            && run.stderr.contains(":2:70001)"),
        "{}",
        run.stderr
    );
}

#[test]
fn thousands_of_errors_are_counted_not_all_drawn() {
    // Regression (found by the fuzzer): a 120 KB file with 28,672 syntax errors took 40 s,
    // drawing each error from the start of the file.
    let text = "bogus\n".repeat(20_000);
    let run = refused_quickly(&text);
    assert!(run.stderr.contains("more not shown"), "{}", run.stderr);
    assert_eq!(run.stderr.matches("tsync::").count(), 50, "{}", run.stderr);
}
