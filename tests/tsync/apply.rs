//! `tsync apply` against labs of real sshd hosts.

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{Test, lab, of_kind, playbook, processes_mentioning, signal};

#[test]
fn stages_run_in_dependency_order_on_every_host() {
    let lab = lab(3);
    // Each step appends to a file on its host; the order in the file is the order run.
    let (_dir, file) = playbook(
        r#"
stage "second" {
    needs "first"
    on "all"
    run "echo second-{{host}} >> {{where}}/order"
}
stage "first" {
    on "all"
    run "echo first-{{host}} >> {{where}}/order"
    run "echo also-first >> {{where}}/order"
}
stage "third" {
    needs "second"
    on "lab-1, lab-3"
    run "echo third >> {{where}}/order; cat {{where}}/order"
}
"#,
    );
    let where_ = lab.host_srv(0).display().to_string();
    let run = Test::new()
        .args(["apply"])
        .args([&file])
        .lab(&lab)
        .args(["--var", &format!("where={where_}")])
        .run()
        .code(0);
    for (i, host) in ["lab-1", "lab-2", "lab-3"].iter().enumerate() {
        let order = std::fs::read_to_string(lab.srv(i).join("order")).unwrap();
        let mut expected = format!("first-{host}\nalso-first\nsecond-{host}\n");
        if *host != "lab-2" {
            expected.push_str("third\n");
        }
        assert_eq!(order, expected, "{host}");
    }
    assert!(run.stdout.contains("lab-3 │ third"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("succeeded: 3 hosts, 0 failed, 0 unreachable"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_failing_host_keeps_its_exit_code_and_stderr_and_dependents_are_skipped() {
    let lab = lab(3);
    let (_dir, file) = playbook(
        r#"
stage "build" {
    on "all"
    run "if [ {{host}} = lab-2 ]; then echo 'disk full on lab-2' >&2; exit 7; fi; echo built"
}
stage "deploy" {
    needs "build"
    on "all"
    run "echo deployed"
}
"#,
    );
    let human = Test::new()
        .args(["apply"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(3);
    assert!(
        human
            .stdout
            .contains("✗ lab-2: build step 1 exited with code 7"),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("    disk full on lab-2"),
        "{}",
        human.stdout
    );
    assert!(
        human
            .stdout
            .contains("- deploy skipped: it needs `build`, which failed"),
        "{}",
        human.stdout
    );
    assert!(!human.stdout.contains("deployed"));
    assert!(
        !human.stdout.contains('\x1b'),
        "escape codes off a terminal"
    );

    let json = Test::new()
        .args(["apply", "--output", "json"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(3);
    let events = json.events();
    let finished = of_kind(&events, "step_finished");
    let failed: Vec<_> = finished.iter().filter(|e| e["ok"] == false).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["host"], "lab-2");
    assert_eq!(failed[0]["exit_code"], 7);
    assert_eq!(failed[0]["stderr"], "disk full on lab-2\n");
    // The others were unaffected.
    let ok_hosts: Vec<_> = finished
        .iter()
        .filter(|e| e["ok"] == true)
        .map(|e| e["host"].as_str().unwrap())
        .collect();
    assert_eq!(ok_hosts.len(), 2);
    assert!(!ok_hosts.contains(&"lab-2"));
    let summary = &events.last().unwrap()["summary"];
    assert_eq!(summary["exit_code"], 3);
    assert_eq!(summary["stages"][1]["status"], "skipped");
    let lab2 = summary["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["host"] == "lab-2")
        .unwrap();
    assert_eq!(
        (lab2["failed"].as_u64(), lab2["skipped"].as_u64()),
        (Some(1), Some(1))
    );
}

#[test]
fn json_events_follow_the_schema() {
    let lab = lab(2);
    let (_dir, file) =
        playbook("stage \"s\" {\n    on \"all\"\n    run \"echo out; echo err >&2\"\n}\n");
    let run = Test::new()
        .args(["apply", "--output", "json"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(0);
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(format!(
            "{}/schema/events.schema.json",
            crate::support::ROOT
        ))
        .unwrap(),
    )
    .unwrap();
    let events = run.events();
    for event in &events {
        let kind = event["event"].as_str().unwrap();
        let def = &schema["$defs"][kind];
        assert!(def.is_object(), "event `{kind}` is not in the schema");
        for field in def["required"].as_array().unwrap() {
            let field = field.as_str().unwrap();
            assert!(
                event.get(field).is_some(),
                "`{kind}` lacks `{field}`: {event}"
            );
        }
        for field in event.as_object().unwrap().keys() {
            assert!(
                def["properties"].get(field).is_some() || schema["properties"].get(field).is_some(),
                "`{kind}` has `{field}`, not in the schema"
            );
        }
    }
    assert_eq!(events.first().unwrap()["event"], "run_started");
    assert_eq!(events.last().unwrap()["event"], "run_finished");
    // Timestamps: RFC 3339 in UTC, in the order the lines were written.
    let times: Vec<_> = events
        .iter()
        .map(|e| humantime::parse_rfc3339(e["at"].as_str().unwrap()).expect("RFC 3339"))
        .collect();
    assert!(times.is_sorted(), "{times:?}");
    let lines: Vec<_> = of_kind(&events, "output")
        .iter()
        .map(|e| (e["stream"].clone(), e["line"].clone()))
        .collect();
    assert!(lines.contains(&(Value::from("stdout"), Value::from("out"))));
    assert!(lines.contains(&(Value::from("stderr"), Value::from("err"))));
}

#[test]
fn a_stopped_host_is_unreachable_and_the_others_finish() {
    let mut lab = lab(3);
    lab.stop(1).unwrap();
    let (_dir, file) = playbook("stage \"s\" {\n    on \"all\"\n    run \"echo fine\"\n}\n");
    let run = Test::new()
        .args(["apply"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(4);
    assert!(run.stdout.contains("✗ lab-2 unreachable"), "{}", run.stdout);
    assert!(
        run.stdout.contains("lab-1 │ fine") && run.stdout.contains("lab-3 │ fine"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("lab-2  unreachable"), "{}", run.stdout);
}

#[test]
fn a_frozen_host_is_cut_off_by_the_connect_timeout() {
    let mut lab = lab(3);
    lab.freeze(2).unwrap();
    let (_dir, file) = playbook("stage \"s\" {\n    on \"all\"\n    run \"echo fine\"\n}\n");
    let started = Instant::now();
    let run = Test::new()
        .args(["apply", "--connect-timeout", "2s", "--output", "json"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(4);
    let events = run.events();
    let unreachable = of_kind(&events, "host_unreachable");
    assert_eq!(unreachable.len(), 1);
    assert_eq!(unreachable[0]["host"], "lab-3");
    assert_eq!(of_kind(&events, "step_finished").len(), 2);
    // Generous: the point is that it ends, long before any default would.
    assert!(started.elapsed() < Duration::from_secs(30));
    lab.thaw(2).unwrap();
}

#[test]
fn a_host_freezing_mid_run_is_cut_off_by_the_step_timeout_while_others_finish() {
    let mut lab = lab(3);
    let (_dir, file) = playbook(
        r#"
stage "connect" {
    on "all"
    run "true"
}
stage "work" {
    needs "connect"
    on "all"
    run "sleep 1; echo worked" timeout="3s"
}
"#,
    );
    let (mut child, _home) = Test::new()
        .args(["apply", "--output", "json"])
        .args([&file])
        .lab(&lab)
        .spawn();
    let stdout = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut frozen = false;
    for line in BufReader::new(stdout).lines() {
        let event: Value = serde_json::from_str(&line.unwrap()).unwrap();
        // Once lab-3 is connected and `work` has started, freeze it.
        if !frozen && event["event"] == "stage_started" && event["stage"] == "work" {
            lab.freeze(2).unwrap();
            frozen = true;
        }
        seen.push(event);
    }
    let status = child.wait().unwrap();
    lab.thaw(2).unwrap();
    assert_eq!(status.code(), Some(3));
    let timed_out = of_kind(&seen, "step_timed_out");
    assert_eq!(timed_out.len(), 1, "{seen:?}");
    assert_eq!(timed_out[0]["host"], "lab-3");
    let worked: Vec<_> = of_kind(&seen, "output")
        .iter()
        .filter(|e| e["line"] == "worked")
        .map(|e| e["host"].clone())
        .collect();
    assert_eq!(worked.len(), 2);
    assert!(processes_mentioning(&lab.ssh_config().display().to_string()).is_empty());
}

#[test]
fn first_ctrl_c_lets_running_steps_finish_and_starts_nothing_new() {
    let lab = lab(2);
    let (_dir, file) = playbook(
        r#"
stage "slow" {
    on "all"
    run "sleep 1.5; echo finished-anyway"
}
stage "next" {
    needs "slow"
    on "all"
    run "echo must-not-run"
}
"#,
    );
    let (mut child, _home) = Test::new()
        .args(["apply", "--output", "json"])
        .args([&file])
        .lab(&lab)
        .spawn();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut events = Vec::new();
    for line in lines.by_ref() {
        let event: Value = serde_json::from_str(&line.unwrap()).unwrap();
        events.push(event);
        // Interrupt once both hosts run their step.
        if of_kind(&events, "step_started").len() == 2 {
            signal(&child, "INT");
            break;
        }
    }
    events.extend(lines.map(|l| serde_json::from_str::<Value>(&l.unwrap()).unwrap()));
    assert_eq!(child.wait().unwrap().code(), Some(130));
    assert_eq!(of_kind(&events, "cancel_requested")[0]["forced"], false);
    let finished: Vec<_> = of_kind(&events, "output")
        .iter()
        .filter(|e| e["line"] == "finished-anyway")
        .cloned()
        .collect();
    assert_eq!(finished.len(), 2, "running steps finish");
    assert!(!events.iter().any(|e| e["line"] == "must-not-run"));
    assert!(
        processes_mentioning(&lab.ssh_config().display().to_string()).is_empty(),
        "no ssh left"
    );
}

#[test]
fn second_ctrl_c_stops_running_steps_and_leaves_nothing_behind() {
    let lab = lab(2);
    // A distinctive duration, to find this test's remote processes among all others.
    let (_dir, file) = playbook("stage \"slow\" {\n    on \"all\"\n    run \"sleep 41.7\"\n}\n");
    let (mut child, _home) = Test::new()
        .args(["apply", "--output", "json"])
        .args([&file])
        .lab(&lab)
        .spawn();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut started = 0;
    for line in lines.by_ref() {
        let event: Value = serde_json::from_str(&line.unwrap()).unwrap();
        if event["event"] == "step_started" {
            started += 1;
            if started == 2 {
                break;
            }
        }
    }
    // Give the remote shells a moment to start their sleeps.
    std::thread::sleep(Duration::from_millis(300));
    let began = Instant::now();
    signal(&child, "INT");
    std::thread::sleep(Duration::from_millis(100));
    signal(&child, "INT");
    let rest: Vec<Value> = lines
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    assert_eq!(child.wait().unwrap().code(), Some(130));
    assert!(
        began.elapsed() < Duration::from_secs(20),
        "stopped long before the sleep would end"
    );
    assert!(
        of_kind(&rest, "cancel_requested")
            .iter()
            .any(|e| e["forced"] == true)
    );
    assert!(
        processes_mentioning("sleep 41.7").is_empty(),
        "remote commands were stopped"
    );
    assert!(
        processes_mentioning(&lab.ssh_config().display().to_string()).is_empty(),
        "no ssh left"
    );
}

#[test]
fn the_demo_playbook_applies_end_to_end() {
    let lab = lab(3);
    let run = Test::new()
        .args(["apply", "examples/demo.kdl"])
        .lab(&lab)
        .run()
        .code(0);
    assert!(run.stdout.contains("built 2026.11.26"), "{}", run.stdout);
    for i in 1..3 {
        // `current` links to /srv as the host sees it; read the release itself.
        let version =
            std::fs::read_to_string(lab.srv(i).join("app/releases/2026.11.26/VERSION")).unwrap();
        let link = std::fs::read_link(lab.srv(i).join("app/current")).unwrap();
        assert_eq!(link, std::path::Path::new("/srv/app/releases/2026.11.26"));
        assert_eq!(version, format!("2026.11.26 built for lab-{}\n", i + 1));
    }
}

#[test]
fn on_a_terminal_progress_is_live_and_coloured() {
    let lab = lab(2);
    // The step lasts long enough for the status line to be drawn while it runs.
    let (_dir, file) =
        playbook("stage \"s\" {\n    on \"all\"\n    run \"sleep 0.5; echo hi\"\n}\n");
    // `script` gives tsync a pseudo-terminal, as a person's shell would.
    let command = format!(
        "{} apply {} --ssh-config {} --no-tailscale",
        env!("CARGO_BIN_EXE_tsync"),
        file.display(),
        lab.ssh_config().display()
    );
    let home = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("HOME", home.path())
        .env_remove("NO_COLOR")
        .output()
        .expect("script(1) runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("\r\x1b[2K"),
        "a status line is drawn and erased: {text:?}"
    );
    assert!(
        text.contains("s 0/2 hosts") || text.contains("s 1/2 hosts"),
        "{text:?}"
    );
    assert!(
        text.contains("\x1b[32m✓ s"),
        "colour on a terminal: {text:?}"
    );
}

#[test]
fn jobs_limits_how_many_hosts_work_at_once() {
    let lab = lab(3);
    let (_dir, file) = playbook("stage \"s\" {\n    on \"all\"\n    run \"sleep 0.2\"\n}\n");
    let run = Test::new()
        .args(["apply", "--jobs", "1", "--output", "json"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(0);
    // With one job, a host starts only after the previous one finished.
    let mut busy = 0;
    for event in run.events() {
        match event["event"].as_str().unwrap() {
            "step_started" => {
                busy += 1;
                assert_eq!(busy, 1, "two hosts at once with --jobs 1");
            }
            "host_finished" => busy -= 1,
            _ => {}
        }
    }
    Test::new()
        .args(["apply", "--jobs", "0"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(2);
}

#[test]
fn more_parallel_steps_on_one_host_than_sshd_allows_sessions_all_succeed() {
    let lab = lab(1);
    // Twelve independent stages on the same host run at once: more channels than sshd's
    // MaxSessions (10) on the one shared connection.
    let stages: String = (1..=12)
        .map(|i| {
            format!(
                "stage \"s{i}\" {{\n    on \"lab-1\"\n    run \"sleep 0.5; echo done-{i}\"\n}}\n"
            )
        })
        .collect();
    let (_dir, file) = playbook(&stages);
    let run = Test::new()
        .args(["apply", "--output", "json"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(0);
    let done = run
        .events()
        .iter()
        .filter(|e| e["event"] == "output")
        .count();
    assert_eq!(done, 12);
}

#[test]
fn host_keys_are_checked_strictly() {
    let lab = lab(1);
    // The same config, but with a known_hosts that does not list the host.
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("known_hosts");
    std::fs::write(&empty, "").unwrap();
    let config = std::fs::read_to_string(lab.ssh_config()).unwrap();
    let config: String = config
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("UserKnownHostsFile") {
                format!(
                    "  UserKnownHostsFile \"{}\"\n  StrictHostKeyChecking accept-new",
                    empty.display()
                )
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let path = dir.path().join("ssh_config");
    std::fs::write(&path, config).unwrap();
    // Even a config that would accept new keys does not make tsync accept them.
    Test::new()
        .args(["run", "all", "--ssh-config"])
        .args([&path])
        .args(["--", "true"])
        .run()
        .code(4)
        .stdout_has("unreachable")
        .stdout_has("Host key verification failed");
    assert_eq!(
        std::fs::read_to_string(&empty).unwrap(),
        "",
        "no key was learnt"
    );
}
