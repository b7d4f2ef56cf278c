//! Rolling stages on labs of real sshd hosts, gated by real HTTP services on the hosts'
//! own addresses: canaries, `max-fail`, unreachable hosts, pauses.

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{Test, lab, of_kind, playbook, services};

/// A deploy of `version` files in batches, gated on each host's service, and a stage
/// after it.
fn deploy(
    lab: &tsync_lab::Lab,
    port: u16,
    rolling: &str,
) -> (tempfile::TempDir, std::path::PathBuf) {
    let where_ = lab.host_srv(0).display().to_string();
    playbook(&format!(
        r#"
stage "deploy" {{
    on "all"
    {rolling}
    run "echo v2 > {where_}/version"
    check "health" {{ http "http://{{{{address}}}}:{port}/up" }}
}}
stage "after" {{
    needs "deploy"
    on "all"
    run "echo after"
}}
"#
    ))
}

fn deployed(lab: &tsync_lab::Lab) -> Vec<bool> {
    (0..lab.hosts().len())
        .map(|i| lab.srv(i).join("version").exists())
        .collect()
}

fn names(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}

#[test]
fn a_failed_canary_stops_the_rollout_and_leaves_the_other_hosts_untouched() {
    let lab = lab(4);
    let (_services, port) = services(&lab, &[0]);
    let (_dir, file) = deploy(&lab, port, "rolling batch=1");
    let run = Test::new()
        .args(["apply", "--output", "json"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(3);
    assert_eq!(deployed(&lab), [true, false, false, false]);
    let events = run.events();
    let stopped = of_kind(&events, "rollout_stopped");
    assert_eq!(stopped.len(), 1);
    assert_eq!(
        names(&stopped[0]["not_started"]),
        ["lab-2", "lab-3", "lab-4"]
    );
    assert_eq!(
        (
            stopped[0]["failed_hosts"].as_u64(),
            stopped[0]["max_fail"].as_u64()
        ),
        (Some(1), Some(0))
    );
    let not_started: Vec<&str> = of_kind(&events, "host_finished")
        .into_iter()
        .filter(|e| e["outcome"] == "not_started")
        .map(|e| e["host"].as_str().unwrap())
        .collect();
    assert_eq!(not_started, ["lab-2", "lab-3", "lab-4"]);
    assert_eq!(of_kind(&events, "batch_started").len(), 1);
    assert_eq!(of_kind(&events, "stage_skipped")[0]["stage"], "after");

    // The same, as people see it.
    std::fs::remove_file(lab.srv(0).join("version")).unwrap();
    let run = Test::new()
        .args(["apply"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(3);
    for needle in [
        "✗ deploy: rollout stopped, 1 host failed or unreachable (max-fail 0); not started: lab-2, lab-3, lab-4",
        "not started",
    ] {
        assert!(run.stdout.contains(needle), "{needle}\n{}", run.stdout);
    }
}

#[test]
fn max_fail_tolerates_exactly_that_many_failed_hosts_across_the_stage() {
    let lab = lab(4);
    let (_services, port) = services(&lab, &[1]);
    let (_dir, file) = deploy(&lab, port, "rolling batch=1 max-fail=1");
    let run = Test::new()
        .args(["apply", "--output", "json"])
        .args([&file])
        .lab(&lab)
        .run()
        // A failed host fails the run, even within max-fail.
        .code(3);
    assert_eq!(deployed(&lab), [true, true, true, true]);
    let events = run.events();
    assert!(of_kind(&events, "rollout_stopped").is_empty());
    let deploy = of_kind(&events, "stage_finished")
        .into_iter()
        .find(|e| e["stage"] == "deploy")
        .unwrap();
    assert_eq!(
        (&deploy["ok"], &deploy["failed_hosts"]),
        (&Value::from(true), &Value::from(1))
    );
    assert_eq!(of_kind(&events, "stage_started").len(), 2, "`after` runs");

    // A second failure, in a later batch, is one too many: the rest are not started.
    for i in 0..4 {
        std::fs::remove_file(lab.srv(i).join("version")).unwrap();
    }
    std::fs::write(lab.srv(2).join("health"), "500").unwrap();
    let run = Test::new()
        .args(["apply", "--output", "json"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(3);
    assert_eq!(deployed(&lab), [true, true, true, false]);
    let events = run.events();
    assert_eq!(
        names(&of_kind(&events, "rollout_stopped")[0]["not_started"]),
        ["lab-4"]
    );
}

#[test]
fn an_unreachable_host_counts_toward_max_fail() {
    let mut lab = lab(3);
    let (_services, port) = services(&lab, &[]);
    lab.stop(0).unwrap();
    let (_dir, file) = deploy(&lab, port, "rolling batch=1");
    let run = Test::new()
        .args(["apply", "--output", "json", "--connect-timeout", "2s"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(3);
    assert_eq!(deployed(&lab), [false, false, false]);
    let events = run.events();
    assert_eq!(of_kind(&events, "host_unreachable").len(), 1);
    assert_eq!(
        names(&of_kind(&events, "rollout_stopped")[0]["not_started"]),
        ["lab-2", "lab-3"]
    );
}

#[test]
fn batches_grow_by_percentage_and_wait_out_the_pause() {
    let lab = lab(4);
    let (_services, port) = services(&lab, &[]);
    let (_dir, file) = deploy(&lab, port, r#"rolling batch="50%" pause="300ms""#);
    let started = Instant::now();
    let run = Test::new()
        .args(["apply", "--output", "json"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(0);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(deployed(&lab), [true, true, true, true]);
    let events = run.events();
    let batches: Vec<Vec<&str>> = of_kind(&events, "batch_started")
        .iter()
        .map(|b| names(&b["hosts"]))
        .collect();
    assert_eq!(batches, [vec!["lab-1", "lab-2"], vec!["lab-3", "lab-4"]]);
}

#[test]
fn ctrl_c_during_a_pause_starts_no_further_batch() {
    let lab = lab(2);
    let (_services, port) = services(&lab, &[]);
    let (_dir, file) = deploy(&lab, port, r#"rolling batch=1 pause="60s""#);
    let (mut child, _home) = Test::new()
        .args(["apply", "--output", "json"])
        .args([&file])
        .lab(&lab)
        .spawn();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        let event: Value = serde_json::from_str(&line.unwrap()).unwrap();
        if event["event"] == "host_finished" {
            break;
        }
    }
    let interrupted = Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let rest: Vec<Value> = lines
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    assert_eq!(child.wait().unwrap().code(), Some(130));
    assert!(
        interrupted.elapsed() < Duration::from_secs(30),
        "the pause was not cut short"
    );
    assert_eq!(deployed(&lab), [true, false]);
    assert!(of_kind(&rest, "step_started").is_empty(), "{rest:?}");
}

#[test]
fn a_canary_then_a_quarter_then_the_rest() {
    let lab = lab(5);
    let (_services, port) = services(&lab, &[]);
    let (_dir, file) = deploy(&lab, port, r#"rolling batch="1 25% 100%""#);
    let plan = Test::new()
        .args(["plan"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(0);
    assert!(
        plan.stdout
            .contains("rolling: batches of 1, then 25%, then 100%"),
        "{}",
        plan.stdout
    );
    let run = Test::new()
        .args(["apply", "--output", "json"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(0);
    let events = run.events();
    let batches: Vec<Vec<&str>> = of_kind(&events, "batch_started")
        .iter()
        .map(|b| names(&b["hosts"]))
        .collect();
    assert_eq!(
        batches,
        [
            vec!["lab-1"],
            vec!["lab-2"],
            vec!["lab-3", "lab-4", "lab-5"]
        ]
    );
}
