//! `local` steps: a command run on the machine running tsync, once per host of the stage,
//! in that host's step order.

use crate::support::{Test, lab, of_kind, playbook, processes_mentioning};

#[test]
fn a_local_step_runs_here_once_per_host_in_its_order() {
    let lab = lab(3);
    let (dir, file) = playbook(
        r#"
stage "collect" {
    on "all"
    run "echo on-{{host}}"
    local "mkdir -p got && echo {{host}} {{release}} > got/{{host}} && echo \"$FROM\"" {
        env FROM="from {{host}}"
    }
    // A later step of the same host sees what the earlier one made; `cwd` is relative to
    // the playbook's directory.
    local "cat -- {{host}}" cwd="got"
}
"#,
    );
    let run = Test::new()
        .args(["apply", "--output", "json"])
        .args([&file])
        .lab(&lab)
        .args(["--var", "release=v1"])
        .run()
        .code(0);
    for host in ["lab-1", "lab-2", "lab-3"] {
        let got = std::fs::read_to_string(dir.path().join("got").join(host)).unwrap();
        assert_eq!(got, format!("{host} v1\n"));
    }
    let events = run.events();
    let started = of_kind(&events, "step_started");
    let kinds: Vec<&str> = started
        .iter()
        .filter(|e| e["host"] == "lab-2")
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["run", "local", "local"]);
    let lines: Vec<&str> = of_kind(&events, "output")
        .iter()
        .filter(|e| e["host"] == "lab-2")
        .map(|e| e["line"].as_str().unwrap())
        .collect();
    assert_eq!(lines, ["on-lab-2", "from lab-2", "lab-2 v1"]);
}

#[test]
fn a_failing_local_step_fails_its_host_with_its_exit_code_and_stderr() {
    let lab = lab(2);
    let (dir, file) = playbook(
        r#"
stage "prune" {
    on "all"
    local "if [ {{host}} = lab-2 ]; then echo 'no space left' >&2; exit 9; fi; echo pruned"
    local "touch after-{{host}}"
}
"#,
    );
    let human = Test::new()
        .args(["apply"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(3)
        .stdout_has("lab-1 │ pruned")
        .stdout_has("exited with code 9")
        .stdout_has("no space left");
    let json = Test::new()
        .args(["apply", "--output", "json"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(3);
    let events = json.events();
    let failed: Vec<_> = of_kind(&events, "step_finished")
        .into_iter()
        .filter(|e| e["ok"] == false)
        .collect();
    assert_eq!(failed.len(), 1, "{}", human.stdout);
    assert_eq!(failed[0]["host"], "lab-2");
    assert_eq!(failed[0]["exit_code"], 9);
    assert_eq!(failed[0]["stderr"], "no space left\n");
    // The failed host's later steps do not run; the other host's do.
    assert!(dir.path().join("after-lab-1").exists());
    assert!(!dir.path().join("after-lab-2").exists());
}

#[test]
fn a_local_step_that_runs_too_long_is_killed_with_what_it_started() {
    let lab = lab(1);
    let (_dir, file) = playbook(
        r#"
stage "slow" {
    on "all"
    local "sleep 47.25 & wait" timeout="1s"
}
"#,
    );
    Test::new()
        .args(["apply"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(3)
        .stdout_has("timed out after 1s");
    assert_eq!(processes_mentioning("sleep 47.25"), Vec::<String>::new());
}

#[test]
fn a_dry_run_and_the_plan_show_a_local_step_without_running_it() {
    let lab = lab(2);
    let (dir, file) = playbook(
        r#"
stage "mark" {
    on "all"
    local "touch made-{{host}}" cwd="out"
}
"#,
    );
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    Test::new()
        .args(["apply", "--dry-run"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(0)
        .stdout_has("lab-1: mark step 1 would run on this machine: touch made-lab-1");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
    let plan = Test::new()
        .args(["plan"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(0)
        .stdout_has("local touch made-{{host}}")
        .stdout_has(&format!("on this machine, in {}", out.display()));
    let json = Test::new()
        .args(["plan", "--format", "json"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(0)
        .json();
    let step = &json["stages"][0]["steps"][0];
    assert_eq!(step["kind"], "local", "{}", plan.stdout);
    assert_eq!(step["commands"]["lab-2"], "touch made-lab-2");
}

#[test]
fn guards_are_refused_and_the_danger_guard_judges_local_commands() {
    let (_dir, file) = playbook(
        r#"
stage "a" {
    on "all"
    local "make" creates="out/app" confirm="30s"
    local "rm -rf /"
}
"#,
    );
    Test::new()
        .args(["check"])
        .args([&file])
        .run()
        .code(2)
        .stderr_has("`creates` does not apply to a `local` step")
        .stderr_has("guards test the host, and a `local` step runs on this machine")
        .stderr_has("`confirm` does not apply to a `local` step")
        .stderr_has("this `local` command is refused as dangerous");
}
