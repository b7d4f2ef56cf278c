//! `tsync run SELECTOR -- COMMAND` against a lab.

use crate::support::{Test, lab};

#[test]
fn runs_one_command_on_a_group_with_the_same_exit_codes() {
    let lab = lab(3);
    let inventory = tempfile::Builder::new().suffix(".kdl").tempfile().unwrap();
    std::fs::write(inventory.path(), "group \"web\" \"lab-2\" \"lab-3\"\n").unwrap();
    let run = Test::new()
        .args(["run", "web", "--inventory"])
        .args([inventory.path()])
        .lab(&lab)
        .args(["--", "echo", "on", "$(hostname)-ish", "as", "$(id", "-un)"])
        .run()
        .code(0);
    assert!(run.stdout.contains("lab-2 │ on"), "{}", run.stdout);
    assert!(!run.stdout.contains("lab-1 │"), "{}", run.stdout);

    let failing = Test::new()
        .args(["run", "web & !lab-3"])
        .args(["--inventory"])
        .args([inventory.path()])
        .lab(&lab)
        .args(["--output", "json", "--", "echo boom >&2; exit 42"])
        .run()
        .code(3);
    let events = failing.events();
    let last = events.last().unwrap();
    assert_eq!(last["summary"]["hosts"][0]["host"], "lab-2");
    assert_eq!(last["summary"]["hosts"][0]["failed"], 1);
    assert!(failing.stdout.contains("\"exit_code\":42"));
    assert!(failing.stdout.contains("boom"));
}

#[test]
fn a_step_timeout_cuts_off_a_slow_host_and_stops_its_command() {
    let lab = lab(2);
    std::fs::write(lab.srv(1).join("slow"), "").unwrap();
    let run = Test::new()
        .args(["run", "all", "--timeout", "1s"])
        .lab(&lab)
        .args(["--", "[ -e /srv/slow ] && sleep 33.3; echo quick"])
        .run()
        .code(3)
        .stdout_has("✗ lab-2: run step 1 timed out after 1.00s")
        .stdout_has("lab-1 │ quick");
    assert!(!run.stdout.contains("lab-2 │ quick"));
    assert!(crate::support::processes_mentioning("sleep 33.3").is_empty());
}

#[test]
fn a_selector_that_matches_nothing_is_invalid_input() {
    let lab = lab(1);
    Test::new()
        .args(["run", "web-*"])
        .lab(&lab)
        .args(["--", "true"])
        .run()
        .code(2)
        .stderr_has("`web-*` selects no hosts");
    Test::new()
        .args(["run", "lab-1 |"])
        .lab(&lab)
        .args(["--", "true"])
        .run()
        .code(2)
        .stderr_has("selector:1:7");
}

#[test]
fn output_without_newlines_arrives_in_bounded_pieces() {
    let lab = lab(1);
    let run = Test::new()
        .args(["run", "all", "--output", "json"])
        .lab(&lab)
        .args(["--", "head -c 200000 /dev/zero | tr '\\0' a"])
        .run()
        .code(0);
    let pieces: Vec<usize> = run
        .events()
        .into_iter()
        .filter(|e| e["event"] == "output")
        .map(|e| e["line"].as_str().unwrap().len())
        .collect();
    assert_eq!(pieces.iter().sum::<usize>(), 200_000);
    assert!(pieces.iter().all(|&n| n <= 64 * 1024), "{pieces:?}");
}

/// Regression: a command over ~256 KB failed with "Broken pipe" (and one over 128 KiB is
/// too long for the remote shell's argument).
#[test]
fn a_very_long_command_runs() {
    let lab = lab(1);
    // Words of 100 KiB each: one argument of tsync's own is limited to 128 KiB too.
    let word = "x".repeat(100 * 1024);
    Test::new()
        .args(["run", "all"])
        .lab(&lab)
        .args(["--", ":", &word, &word, &word, "; echo long-ok"])
        .run()
        .code(0)
        .stdout_has("lab-1 │ long-ok");
}

#[test]
fn glued_help_flag_is_invalid_input_not_help() {
    // Regression: clap read `-h1` as `-h`, so `tsync run -h1 -- …` printed the help and
    // exited 0 without running anything.
    let run = Test::new().args(["run", "-h1", "--", "true"]).run().code(2);
    assert!(
        run.stderr
            .contains("unexpected argument `-h1`: `-h` asks for help"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    // `-h` alone is still help, and `-h1` after `--` belongs to the command.
    Test::new()
        .args(["run", "-h"])
        .run()
        .code(0)
        .stdout_has("Usage:");
}

#[test]
fn timeouts_beyond_a_day_or_of_zero_are_invalid_input() {
    // Regression: `--connect-timeout 10000000000000000000s` panicked (deadline arithmetic
    // overflowed) and `--connect-timeout 70years` failed every host as unreachable.
    for (flag, value, says) in [
        (
            "--connect-timeout",
            "10000000000000000000s",
            "a timeout is at most 24h",
        ),
        ("--connect-timeout", "70years", "a timeout is at most 24h"),
        ("--connect-timeout", "0s", "a timeout of zero"),
        ("--timeout", "25h", "a timeout is at most 24h"),
        ("--timeout", "soon", "write a duration like 30s"),
    ] {
        let run = Test::new()
            .args(["run", "all", flag, value, "--", "true"])
            .run()
            .code(2);
        assert!(run.stderr.contains(says), "{flag} {value}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
}

#[test]
fn hosts_from_the_home_config_are_the_ones_ssh_reaches() {
    // Regression: tsync read $HOME/.ssh/config but ssh reads the config of the passwd home,
    // so with HOME set elsewhere (sudo -E, CI, this test) `plan` listed lab-1 and `run`
    // failed it as unreachable ("Could not resolve hostname lab-1").
    let lab = lab(1);
    let config = std::fs::read_to_string(lab.ssh_config()).unwrap();
    Test::new()
        .home_file(".ssh/config", &config)
        .args(["run", "lab-1", "--", "echo", "reached"])
        .run()
        .code(0)
        .stdout_has("lab-1 │ reached");
}
