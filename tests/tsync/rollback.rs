//! Rollback on labs of real sshd hosts: failed hosts put back, a failed rollout putting
//! back every host it changed, and a rollback that fails said so.

use std::os::unix::fs::PermissionsExt;

use serde_json::Value;

use crate::support::{Test, lab, of_kind, playbook, services};

/// Every host starts at v1; the stage writes v2, gates on the service, and its rollback
/// writes v1 back (or runs `rollback_step`).
fn release(
    lab: &tsync_lab::Lab,
    port: u16,
    extra: &str,
    rollback: &str,
) -> (tempfile::TempDir, std::path::PathBuf) {
    for i in 0..lab.hosts().len() {
        // Written here as the test's user, rewritten on the host as the login's.
        let file = lab.srv(i).join("version");
        std::fs::write(&file, "v1\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
    }
    let where_ = lab.host_srv(0).display().to_string();
    playbook(&format!(
        r#"
stage "release" {{
    on "all"
    {extra}
    run "echo v2 > {where_}/version"
    check "up" {{ http "http://{{{{address}}}}:{port}/up" }}
    {rollback}
}}
"#
    ))
}

fn versions(lab: &tsync_lab::Lab) -> Vec<String> {
    (0..lab.hosts().len())
        .map(|i| {
            std::fs::read_to_string(lab.srv(i).join("version"))
                .unwrap()
                .trim()
                .to_string()
        })
        .collect()
}

fn rolled_back(events: &[Value]) -> Vec<(String, bool)> {
    let mut hosts: Vec<(String, bool)> = of_kind(events, "rollback_finished")
        .iter()
        .map(|e| {
            (
                e["host"].as_str().unwrap().to_string(),
                e["ok"].as_bool().unwrap(),
            )
        })
        .collect();
    hosts.sort();
    hosts
}

#[test]
fn only_the_failed_hosts_are_rolled_back_and_the_run_still_fails() {
    let lab = lab(3);
    let (_services, port) = services(&lab, &[1]);
    let where_ = lab.host_srv(0).display().to_string();
    let (_dir, file) = release(
        &lab,
        port,
        "",
        &format!(r#"rollback {{ run "echo v1 > {where_}/version" }}"#),
    );
    let run = Test::new()
        .args(["apply", "--output", "json"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(3);
    assert_eq!(versions(&lab), ["v2", "v1", "v2"]);
    let events = run.events();
    assert_eq!(rolled_back(&events), [("lab-2".to_string(), true)]);
    let summary = &events.last().unwrap()["summary"];
    let lab2 = &summary["hosts"][1];
    assert_eq!(
        (&lab2["host"], &lab2["rolled_back"]),
        (&Value::from("lab-2"), &Value::from(true))
    );
    assert!(summary["hosts"][0].get("rolled_back").is_none());

    // As people see it.
    let run = Test::new()
        .args(["apply"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(3);
    for needle in [
        "↺ lab-2: release rolling back",
        "↺ lab-2: release rolled back",
        "rolled back",
    ] {
        assert!(run.stdout.contains(needle), "{needle}\n{}", run.stdout);
    }
}

#[test]
fn a_failed_rollout_with_scope_stage_puts_back_every_host_it_changed() {
    let lab = lab(4);
    let (_services, port) = services(&lab, &[2]);
    let where_ = lab.host_srv(0).display().to_string();
    let (_dir, file) = release(
        &lab,
        port,
        r#"rolling batch="2 1""#,
        &format!(r#"rollback scope="stage" {{ run "echo v1 > {where_}/version" }}"#),
    );
    let run = Test::new()
        .args(["apply", "--output", "json"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(3);
    // lab-3 failed in the second batch: it and the first batch are put back; lab-4 was
    // never touched.
    assert_eq!(versions(&lab), ["v1", "v1", "v1", "v1"]);
    let events = run.events();
    assert_eq!(
        rolled_back(&events),
        [
            ("lab-1".to_string(), true),
            ("lab-2".to_string(), true),
            ("lab-3".to_string(), true)
        ]
    );
    let stopped = of_kind(&events, "rollout_stopped");
    assert_eq!(stopped[0]["not_started"], serde_json::json!(["lab-4"]));
}

#[test]
fn a_rollback_that_fails_is_reported_as_failed() {
    let lab = lab(2);
    let (_services, port) = services(&lab, &[0]);
    let (_dir, file) = release(
        &lab,
        port,
        "",
        r#"rollback { run "echo cannot restore >&2; exit 9" }"#,
    );
    let run = Test::new()
        .args(["apply"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(3);
    for needle in [
        "✗ lab-1: release rollback failed: rollback step 1 `echo cannot restore >&2; exit 9`: exit code 9",
        "rollback failed",
    ] {
        assert!(run.stdout.contains(needle), "{needle}\n{}", run.stdout);
    }
    assert_eq!(versions(&lab), ["v2", "v2"]);
}
