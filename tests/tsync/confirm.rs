//! Confirm-or-revert on a real sshd host whose login key a step can take away: the host
//! undoes a step that cut tsync off, by itself, and keeps one that tsync confirmed.

use std::time::{Duration, Instant};

use crate::support::{Test, of_kind, playbook};

/// One host whose login key is read from its own /srv/.ssh/authorized_keys.
fn breakable_host() -> tsync_lab::Lab {
    tsync_lab::Lab::start(tsync_lab::LabOptions {
        hosts: 1,
        per_host: vec![tsync_lab::HostOptions {
            keys_in_srv: true,
            ..Default::default()
        }],
        ..Default::default()
    })
    .expect("the lab starts")
}

fn wait_for(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !done() {
        assert!(Instant::now() < deadline, "waited too long for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_step_that_cuts_tsync_off_is_reverted_by_the_host() {
    let lab = breakable_host();
    let srv = lab.host_srv(0).display().to_string();
    let (_dir, file) = playbook(&format!(
        r#"
stage "access" {{
    on "lab-1"
    run "mv {srv}/.ssh/authorized_keys {srv}/.ssh/off" confirm="2s" {{
        revert "mv {srv}/.ssh/off {srv}/.ssh/authorized_keys && echo reverted > {srv}/reverted"
    }}
}}
"#
    ));
    let run = Test::new()
        .args(["apply", "--output", "json", "--connect-timeout", "1s"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(3);
    let events = run.events();
    let confirmation = of_kind(&events, "confirmation");
    assert_eq!(confirmation.len(), 1);
    assert_eq!(confirmation[0]["ok"], false);
    let error = confirmation[0]["error"].as_str().unwrap();
    assert!(
        error.starts_with("not confirmed within 2s: the host reverts step 1 by itself"),
        "{error}"
    );
    // The host puts its key back by itself, and tsync can log in again.
    wait_for("the revert", || lab.srv(0).join("reverted").exists());
    assert!(lab.srv(0).join(".ssh/authorized_keys").exists());
    Test::new()
        .args(["run"])
        .lab(&lab)
        .args(["lab-1", "--", "true"])
        .run()
        .code(0);
}

#[test]
fn a_confirmed_step_is_kept() {
    let lab = breakable_host();
    let srv = lab.host_srv(0).display().to_string();
    let (_dir, file) = playbook(&format!(
        r#"
stage "access" {{
    on "lab-1"
    run "echo new > {srv}/config" confirm="2s" {{
        revert "echo reverted > {srv}/reverted"
    }}
}}
"#
    ));
    let run = Test::new()
        .args(["apply"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(0);
    assert!(
        run.stdout
            .contains("✓ lab-1: access step 1 confirmed over a new connection"),
        "{}",
        run.stdout
    );
    // Past the deadline, the watchdog has ended without reverting.
    std::thread::sleep(Duration::from_secs(3));
    assert!(!lab.srv(0).join("reverted").exists());
    assert_eq!(
        std::fs::read_to_string(lab.srv(0).join("config")).unwrap(),
        "new\n"
    );
}
