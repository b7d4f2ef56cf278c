//! Bad input never panics: each gets a clear error and exit code 2.

use crate::support::Test;

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
