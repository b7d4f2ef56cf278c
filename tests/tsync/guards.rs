//! Step guards (`creates`, `unless`, `only-if`) and `unchanged-exit` on labs of real sshd
//! hosts: skipped steps are ok and not changed, in the events, the terminal and the recap.

use serde_json::Value;

use crate::support::{Test, lab, playbook};

fn step_finished(events: &[Value], host: &str, step: u64) -> Value {
    events
        .iter()
        .find(|e| e["event"] == "step_finished" && e["host"] == host && e["step"] == step)
        .unwrap_or_else(|| panic!("no step_finished for {host} step {step}"))
        .clone()
}

fn apply(lab: &tsync_lab::Lab, file: &std::path::Path, json: bool) -> crate::support::Run {
    let where_ = lab.host_srv(0).display().to_string();
    let mut test = Test::new().args(["apply"]);
    if json {
        test = test.args(["--output", "json"]);
    }
    test.args([file])
        .lab(lab)
        .args(["--var", &format!("where={where_}")])
        .run()
}

#[test]
fn creates_skips_the_step_on_the_second_run_and_the_recap_counts_only_changes() {
    let lab = lab(2);
    let (_dir, file) = playbook(
        r#"
stage "deploy" {
    on "all"
    run "echo once >> {{where}}/count; touch {{where}}/made" creates="{{where}}/made"
    run "echo always"
}
"#,
    );
    let first = apply(&lab, &file, false).code(0);
    assert!(first.stdout.contains("changed=2"), "{}", first.stdout);
    assert!(
        !first.stdout.contains("skipped: creates"),
        "{}",
        first.stdout
    );

    let second = apply(&lab, &file, false).code(0);
    let made = format!("{}/made", lab.host_srv(0).display());
    for host in ["lab-1", "lab-2"] {
        let line = format!("- {host}: deploy step 1 skipped: creates {made} exists");
        assert!(second.stdout.contains(&line), "{line}\n{}", second.stdout);
    }
    assert!(
        second.stdout.contains("ok=2 changed=1"),
        "{}",
        second.stdout
    );
    assert!(!second.stdout.contains("changed=2"), "{}", second.stdout);

    let third = apply(&lab, &file, true).code(0);
    let events = third.events();
    for host in ["lab-1", "lab-2"] {
        let skipped = step_finished(&events, host, 1);
        assert_eq!(skipped["ok"], true, "{skipped}");
        assert_eq!(skipped["changed"], false, "{skipped}");
        assert_eq!(skipped["end"], "skipped", "{skipped}");
        assert_eq!(skipped["exit_code"], Value::Null, "{skipped}");
        assert_eq!(skipped["skipped"], format!("creates {made} exists"));
        let ran = step_finished(&events, host, 2);
        assert_eq!(ran["changed"], true, "{ran}");
        assert!(ran.get("skipped").is_none(), "{ran}");
    }
    let summary = &events.last().unwrap()["summary"];
    for host in summary["hosts"].as_array().unwrap() {
        assert_eq!(host["ok"], 2, "{host}");
        assert_eq!(host["changed"], 1, "{host}");
    }
    // The guarded command ran once per host, on the first run only.
    for i in 0..2 {
        let count = std::fs::read_to_string(lab.srv(i).join("count")).unwrap();
        assert_eq!(count, "once\n");
    }
}

#[test]
fn unless_and_only_if_decide_per_host_and_unchanged_exit_is_ok_but_not_changed() {
    let lab = lab(2);
    std::fs::write(lab.srv(1).join("flag"), "").unwrap();
    let (_dir, file) = playbook(
        r#"
stage "converge" {
    on "all"
    run "echo unless-{{host}} >> {{where}}/log" unless="test -e {{where}}/flag"
    run "echo only-if-{{host}} >> {{where}}/log" only-if="test -e {{where}}/flag"
    run "echo checked; exit 3" unchanged-exit=3
}
"#,
    );
    let run = apply(&lab, &file, true).code(0);
    let events = run.events();
    let log = |i: usize| std::fs::read_to_string(lab.srv(i).join("log")).unwrap_or_default();
    assert_eq!(log(0), "unless-lab-1\n");
    assert_eq!(log(1), "only-if-lab-2\n");

    let flag = format!("{}/flag", lab.host_srv(0).display());
    let skipped = step_finished(&events, "lab-2", 1);
    assert_eq!(
        skipped["skipped"],
        format!("unless `test -e {flag}` exited 0")
    );
    let skipped = step_finished(&events, "lab-1", 2);
    assert_eq!(
        skipped["skipped"],
        format!("only-if `test -e {flag}` exited 1")
    );
    for host in ["lab-1", "lab-2"] {
        let unchanged = step_finished(&events, host, 3);
        assert_eq!(unchanged["ok"], true, "{unchanged}");
        assert_eq!(unchanged["changed"], false, "{unchanged}");
        assert_eq!(unchanged["exit_code"], 3, "{unchanged}");
        assert_eq!(unchanged["end"], "exited", "{unchanged}");
    }
    let summary = &events.last().unwrap()["summary"];
    for host in summary["hosts"].as_array().unwrap() {
        assert_eq!(host["ok"], 3, "{host}");
        assert_eq!(host["changed"], 1, "{host}");
        assert_eq!(host["failed"], 0, "{host}");
    }
}

#[test]
fn a_guard_that_cannot_run_fails_the_step() {
    let lab = lab(1);
    let (_dir, file) = playbook(
        r#"
stage "a" {
    on "all"
    run "echo ran >> {{where}}/ran" unless="kill -9 $$"
}
stage "b" {
    on "all"
    run "echo ran >> {{where}}/ran" only-if="sleep 10" timeout="1s"
}
"#,
    );
    let run = apply(&lab, &file, true);
    assert_ne!(run.code, 0, "{}", run.stdout);
    let events = run.events();
    let killed = events
        .iter()
        .find(|e| e["event"] == "step_finished" && e["stage"] == "a")
        .unwrap();
    assert_eq!(killed["ok"], false, "{killed}");
    assert_eq!(killed["end"], "error", "{killed}");
    assert_eq!(killed["error"], "the `unless` guard was killed by a signal");
    let timed_out = events
        .iter()
        .find(|e| e["event"] == "step_finished" && e["stage"] == "b")
        .unwrap();
    assert_eq!(timed_out["end"], "timed_out", "{timed_out}");
    assert!(!lab.srv(0).join("ran").exists());
}

#[test]
fn plan_shows_the_guards_filled_in_and_empty_guards_are_errors() {
    let lab = lab(2);
    let (_dir, file) = playbook(
        r#"
stage "deploy" {
    on "all"
    run "make install" creates="/srv/{{host}}/bin" unless="test -e '/etc/no deploy'" unchanged-exit=2
    script "/dev/null" only-if="id -u web" creates="~/done here"
}
"#,
    );
    let text = Test::new()
        .args(["plan"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(0);
    for line in [
        "      lab-1: skip if /srv/lab-1/bin exists",
        "      lab-2: skip if /srv/lab-2/bin exists",
        "      skip if `test -e '/etc/no deploy'` exits 0",
        "      exit code 2: ok, nothing changed",
        "      run only if `id -u web` exits 0",
    ] {
        assert!(text.stdout.contains(line), "{line}\n{}", text.stdout);
    }
    let json = Test::new()
        .args(["plan", "--format", "json"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(0)
        .json();
    let steps = &json["stages"][0]["steps"];
    let guards = &steps[0]["guards"];
    assert_eq!(guards[0]["kind"], "creates");
    assert_eq!(guards[0]["values"]["lab-2"], "/srv/lab-2/bin");
    assert_eq!(guards[0]["commands"]["lab-1"], "test -e /srv/lab-1/bin");
    assert_eq!(guards[1]["kind"], "unless");
    assert_eq!(steps[0]["unchanged_exit"], 2);
    // A leading `~/` stays outside the quotes, as for `cwd`.
    assert_eq!(steps[1]["guards"][0]["kind"], "creates");
    assert_eq!(
        steps[1]["guards"][0]["commands"]["lab-1"],
        "test -e ~/'done here'"
    );
    assert_eq!(steps[1]["guards"][1]["kind"], "only-if");
    assert!(steps[1].get("unchanged_exit").is_none());

    let (_dir, bad) = playbook(
        r#"
stage "deploy" {
    on "all"
    run "make" creates="" only-if="  " unchanged-exit=0
}
"#,
    );
    let check = Test::new()
        .args(["check"])
        .args([&bad])
        .lab(&lab)
        .run()
        .code(2);
    assert!(
        check.stderr.contains("`creates` needs a path"),
        "{}",
        check.stderr
    );
    assert!(
        check.stderr.contains("`only-if` needs a command"),
        "{}",
        check.stderr
    );
    assert!(check.stderr.contains("empty-value"), "{}", check.stderr);
    assert!(check.stderr.contains("out-of-range"), "{}", check.stderr);
}
