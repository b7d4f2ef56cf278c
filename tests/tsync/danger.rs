//! The dangerous-command guard: `check` reports, `run` and `apply` refuse before touching a
//! host, and the overrides (`dangerous=#true`, `--allow-dangerous`) let a command through
//! with a warning. Commands sent to the lab are blocked only by their form: `mkfs.` followed
//! by a name no host has, which fails harmlessly as "command not found".

use crate::support::{Test, fixture, lab, playbook};

/// Blocked by the `make-filesystem` rule, and no such program exists anywhere.
const HARMLESS_BLOCKED: &str = "mkfs.tsync-no-such-tool /dev/null 2>/dev/null || true";

#[test]
fn check_reports_each_dangerous_command_with_line_column_and_the_override() {
    let (_dir, file) = playbook(
        r#"
stage "wipe" {
    on "all"
    run "rm -fr /"
    run "echo ok" unless="rm -r -f ~"
    check "up" {
        cmd "sudo sh -c 'mkfs.ext4 /dev/sda1'"
    }
    run "true" confirm="30s" {
        revert "systemctl reboot"
    }
    rollback {
        run "cd / && chmod -R 777 ."
    }
}
"#,
    );
    let run = Test::new().args(["check"]).args([&file]).run().code(2);
    let name = file.display().to_string();
    for (place, rule) in [
        (format!("{name}:4:9]"), "rule `recursive-delete`"),
        (format!("{name}:5:26]"), "rule `recursive-delete`"),
        (format!("{name}:7:13]"), "rule `make-filesystem`"),
        (format!("{name}:10:16]"), "rule `power-off`"),
        (format!("{name}:13:13]"), "rule `recursive-permissions`"),
    ] {
        assert!(run.stderr.contains(&place), "{place}: {}", run.stderr);
        assert!(run.stderr.contains(rule), "{rule}: {}", run.stderr);
    }
    assert_eq!(run.stderr.matches("tsync::dangerous-command").count(), 5);
    assert!(run.stderr.contains("add dangerous=#true"), "{}", run.stderr);
    assert!(run.stderr.contains("--allow-dangerous"), "{}", run.stderr);

    // The same playbook passes with the flag, each command named in a warning.
    let allowed = Test::new()
        .args(["check", "--allow-dangerous"])
        .args([&file])
        .run()
        .code(0);
    assert_eq!(
        allowed
            .stderr
            .matches("allowed by --allow-dangerous")
            .count(),
        5
    );
}

#[test]
fn the_refusal_shows_the_command_the_rule_and_the_override() {
    let run = Test::new()
        .args(["check", &fixture("bad/dangerous.kdl")])
        .run()
        .code(2);
    let stderr = run.stderr.replace(crate::support::FIXTURES, "FIXTURES");
    insta::assert_snapshot!("dangerous", stderr);
}

#[test]
fn a_placeholder_that_fills_in_to_root_is_caught_once_hosts_are_known() {
    let (_dir, file) = playbook(
        r#"
vars {
    dir "/srv/app"
}
stage "clean" {
    on "all"
    run "rm -rf {{dir}}"
}
"#,
    );
    let lab = lab(1);
    Test::new()
        .args(["check"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(0);
    Test::new()
        .args(["plan"])
        .args([&file])
        .lab(&lab)
        .args(["--var", "dir=/"])
        .run()
        .code(2)
        .stderr_has("as sent to lab-1")
        .stderr_has("rule `recursive-delete`");

    // An empty value makes `rm -rf {{dir}}/` the root: caught the same way.
    let (_empty_dir, empty) = playbook(
        r#"
vars {
    dir "/srv/app"
}
stage "s" {
    on "all"
    run "rm -rf {{dir}}/"
}
"#,
    );
    Test::new()
        .args(["check"])
        .args([&empty])
        .lab(&lab)
        .run()
        .code(0);
    Test::new()
        .args(["check"])
        .args([&empty])
        .lab(&lab)
        .args(["--var", "dir="])
        .run()
        .code(2)
        .stderr_has("rule `recursive-delete`");
}

#[test]
fn a_relative_path_is_judged_in_the_step_s_cwd() {
    let (_dir, file) =
        playbook("stage \"s\" {\n    on \"all\"\n    run \"rm -rf *\" cwd=\"{{dir}}\"\n}\n");
    let lab = lab(1);
    Test::new()
        .args(["plan"])
        .args([&file])
        .lab(&lab)
        .args(["--var", "dir=/srv/app/releases"])
        .run()
        .code(0);
    Test::new()
        .args(["plan"])
        .args([&file])
        .lab(&lab)
        .args(["--var", "dir=/"])
        .run()
        .code(2)
        .stderr_has("this `run` command, as sent to lab-1,")
        .stderr_has("rule `recursive-delete`");
}

#[test]
fn run_refuses_a_dangerous_command_before_touching_any_host() {
    let lab = lab(1);
    let marker = lab.srv(0).join("ran");
    let command = format!(
        "touch {}; {HARMLESS_BLOCKED}",
        lab.host_srv(0).join("ran").display()
    );
    let run = Test::new()
        .args(["run", "all"])
        .lab(&lab)
        .args(["--", &command])
        .run()
        .code(2)
        .stderr_has("tsync::dangerous-command")
        .stderr_has("rule `make-filesystem`")
        .stderr_has("pass --allow-dangerous");
    assert!(!marker.exists(), "the command ran: {}", run.stdout);
    assert!(run.stdout.is_empty(), "{}", run.stdout);

    Test::new()
        .args(["run", "all", "--allow-dangerous"])
        .lab(&lab)
        .args(["--", &command])
        .run()
        .code(0)
        .stderr_has("allowed by --allow-dangerous")
        .stderr_has("rule `make-filesystem`");
    assert!(marker.exists(), "the override did not let the command run");
}

#[test]
fn apply_runs_a_dangerous_step_only_with_an_override() {
    let lab = lab(1);
    let marker = lab.srv(0).join("applied");
    let remote = lab.host_srv(0).join("applied").display().to_string();
    let text = |property: &str| {
        format!(
            "stage \"s\" {{\n    on \"all\"\n    \
             run \"touch {remote}; {HARMLESS_BLOCKED}\"{property}\n}}\n"
        )
    };
    let (_refused_dir, refused) = playbook(&text(""));
    Test::new()
        .args(["apply"])
        .args([&refused])
        .lab(&lab)
        .run()
        .code(2)
        .stderr_has("rule `make-filesystem`");
    assert!(!marker.exists(), "apply ran a refused step");

    let (_allowed_dir, allowed) = playbook(&text(" dangerous=#true"));
    Test::new()
        .args(["apply"])
        .args([&allowed])
        .lab(&lab)
        .run()
        .code(0)
        .stderr_has("allowed by dangerous=#true");
    assert!(marker.exists(), "dangerous=#true did not let the step run");

    // An override with nothing to override is pointed out, so it does not linger.
    let (_stale_dir, stale) =
        playbook("stage \"s\" {\n    on \"all\"\n    run \"true\" dangerous=#true\n}\n");
    Test::new()
        .args(["plan"])
        .args([&stale])
        .lab(&lab)
        .run()
        .code(0)
        .stderr_has("`dangerous=#true` lets nothing through");

    std::fs::remove_file(&marker).unwrap();
    Test::new()
        .args(["apply", "--allow-dangerous"])
        .args([&refused])
        .lab(&lab)
        .run()
        .code(0)
        .stderr_has("allowed by --allow-dangerous");
    assert!(
        marker.exists(),
        "--allow-dangerous did not let the step run"
    );
}

#[test]
fn dangerous_takes_a_boolean() {
    let (_dir, file) =
        playbook("stage \"s\" {\n    on \"all\"\n    run \"reboot\" dangerous=\"yes\"\n}\n");
    Test::new()
        .args(["check"])
        .args([&file])
        .run()
        .code(2)
        .stderr_has("tsync::wrong-type")
        .stderr_has("tsync::dangerous-command");
}
