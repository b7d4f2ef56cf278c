//! A remote command can always be stopped, and stopping tsync leaves nothing behind: on
//! the hosts, no command it started; on the controller, no ssh process or control socket.

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{Test, of_kind, processes_mentioning, signal};

/// A lab whose first host logs in through a ForceCommand wrapper that writes to stderr
/// before it runs the command.
fn noisy_lab(hosts: usize) -> tsync_lab::Lab {
    tsync_lab::Lab::start(tsync_lab::LabOptions {
        hosts,
        per_host: vec![tsync_lab::HostOptions {
            noisy_login: true,
            ..Default::default()
        }],
        ..Default::default()
    })
    .expect("the lab starts")
}

/// Regression: the PID marker was expected on the first line of stderr. Behind a login
/// that writes to stderr first, it showed up in the output.
#[test]
fn a_noisy_login_does_not_show_the_pid_marker() {
    let lab = noisy_lab(2);
    let human = Test::new()
        .args(["run", "all"])
        .lab(&lab)
        .args(["--", "echo out; echo err >&2"])
        .run()
        .code(0)
        .stdout_has("lab-1 │ out")
        .stdout_has("lab-1 │ err")
        .stdout_has("lab-2 │ err");
    assert!(!human.stdout.contains("tsync-pid"), "{}", human.stdout);
    assert!(!human.stdout.contains('\u{1e}'), "{}", human.stdout);

    let json = Test::new()
        .args(["run", "lab-1", "--output", "json"])
        .lab(&lab)
        .args(["--", "echo err >&2"])
        .run()
        .code(0);
    let stderr: Vec<String> = json
        .events()
        .iter()
        .filter(|e| e["event"] == "output" && e["stream"] == "stderr")
        .map(|e| e["line"].as_str().unwrap().to_string())
        .collect();
    // What the login prints is the host's output too, as plain ssh shows it; only the
    // marker is taken out.
    assert_eq!(
        stderr,
        [
            "Welcome to a noisy lab host",
            "motd without a newline ",
            "err"
        ]
    );
}

/// Regression: behind a noisy login the PID was never learnt, so a timeout left the
/// command running on the host.
#[test]
fn a_step_timeout_stops_the_command_behind_a_noisy_login() {
    let lab = noisy_lab(1);
    let started = Instant::now();
    Test::new()
        .args(["run", "all", "--timeout", "1s"])
        .lab(&lab)
        .args(["--", "echo before; sleep 47.3; echo late"])
        .run()
        .code(3)
        .stdout_has("lab-1 │ before")
        .stdout_has("✗ lab-1: run step 1 timed out after 1.00s");
    assert!(started.elapsed() < Duration::from_secs(20));
    // The host's processes are the lab sshd's children, visible here.
    assert!(
        processes_mentioning("sleep 47.3").is_empty(),
        "the remote command was stopped"
    );
    assert!(
        processes_mentioning(&lab.ssh_config().display().to_string()).is_empty(),
        "no ssh process outlives tsync"
    );
}

/// The control directory of a running tsync, found on its ssh masters' command lines
/// (`-S DIR/.ssh-connectionXXXX/master`).
fn control_dir(lab: &tsync_lab::Lab) -> std::path::PathBuf {
    let masters = processes_mentioning(&lab.ssh_config().display().to_string());
    let line = masters
        .iter()
        .find(|m| m.contains(" -S "))
        .expect("an ssh master runs");
    let words: Vec<&str> = line.split(' ').collect();
    let socket = words[words.iter().position(|w| *w == "-S").expect("-S") + 1];
    std::path::Path::new(socket)
        .ancestors()
        .nth(2)
        .expect("DIR/.ssh-connectionXXXX/master")
        .to_path_buf()
}

/// Starts `apply --output json` of one step on every host and returns once every host
/// has printed `started`.
fn start_two_hosts(
    lab: &tsync_lab::Lab,
    step: &str,
) -> (
    std::process::Child,
    Vec<Value>,
    std::io::Lines<BufReader<std::process::ChildStdout>>,
    Vec<tempfile::TempDir>,
) {
    let (dir, file) = crate::support::playbook(&format!(
        "stage \"s\" {{\n    on \"all\"\n    run \"{step}\"\n}}\n"
    ));
    let (mut child, home) = Test::new()
        .args(["apply", "--output", "json"])
        .args([&file])
        .lab(lab)
        .spawn();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut events = Vec::new();
    for line in lines.by_ref() {
        let event: Value = serde_json::from_str(&line.unwrap()).unwrap();
        let started = event["line"] == "started";
        events.push(event);
        if started && of_kind(&events, "output").len() == 2 {
            break;
        }
    }
    (child, events, lines, vec![dir, home])
}

/// Regression: SIGTERM was reported as "Ctrl-C".
#[test]
fn sigterm_stops_running_steps_and_says_so() {
    let lab = crate::support::lab(2);
    let (mut child, mut events, lines, _dirs) = start_two_hosts(&lab, "echo started; sleep 43.1");
    signal(&child, "TERM");
    events.extend(lines.map(|l| serde_json::from_str::<Value>(&l.unwrap()).unwrap()));
    assert_eq!(child.wait().unwrap().code(), Some(130));
    let cancel = of_kind(&events, "cancel_requested");
    assert_eq!(cancel.len(), 1);
    assert_eq!(
        (&cancel[0]["forced"], &cancel[0]["reason"]),
        (&Value::from(true), &Value::from("SIGTERM"))
    );
    let finished = of_kind(&events, "step_finished");
    assert_eq!(finished.len(), 2);
    for f in finished {
        assert_eq!(f["end"], "cancelled");
        assert_eq!(f["error"], "stopped by SIGTERM");
    }
    let summary = &events.last().unwrap()["summary"];
    assert!(
        summary["hosts"][0]["failure"]
            .as_str()
            .unwrap()
            .contains("stopped by SIGTERM")
    );
    assert!(
        processes_mentioning("sleep 43.1").is_empty(),
        "remote commands stopped"
    );
}

/// Regression: SIGHUP (the terminal closed) killed tsync on the spot, leaving the remote
/// commands running, the ssh masters up and the control directory behind, with no recap.
#[test]
fn sighup_ends_the_run_like_sigterm() {
    let lab = crate::support::lab(2);
    let (mut child, mut events, lines, _dirs) = start_two_hosts(&lab, "echo started; sleep 43.2");
    let control = control_dir(&lab);
    assert!(control.is_dir());
    signal(&child, "HUP");
    events.extend(lines.map(|l| serde_json::from_str::<Value>(&l.unwrap()).unwrap()));
    assert_eq!(child.wait().unwrap().code(), Some(130));
    assert_eq!(of_kind(&events, "cancel_requested")[0]["reason"], "SIGHUP");
    let last = events.last().unwrap();
    assert_eq!(last["event"], "run_finished");
    assert_eq!(last["summary"]["interrupted"], true);
    assert!(
        processes_mentioning("sleep 43.2").is_empty(),
        "remote commands stopped"
    );
    assert!(
        processes_mentioning(&lab.ssh_config().display().to_string()).is_empty(),
        "no ssh left"
    );
    assert!(!control.exists(), "the control directory is removed");
}

/// Regression: a lost connection left a `step_started` without its `step_finished`.
#[test]
fn a_lost_connection_still_finishes_its_step() {
    let mut lab = crate::support::lab(2);
    let (mut child, mut events, lines, _dirs) = start_two_hosts(&lab, "echo started; sleep 2");
    lab.stop(1).unwrap();
    events.extend(lines.map(|l| serde_json::from_str::<Value>(&l.unwrap()).unwrap()));
    assert_eq!(child.wait().unwrap().code(), Some(4));
    let finished = of_kind(&events, "step_finished");
    assert_eq!(finished.len(), of_kind(&events, "step_started").len());
    let lost = finished
        .iter()
        .find(|e| e["host"] == "lab-2")
        .expect("lab-2 finished");
    assert_eq!(lost["end"], "connection_lost");
    assert!(
        lost["error"]
            .as_str()
            .unwrap()
            .starts_with("connection lost"),
        "{lost}"
    );
    let ok = finished.iter().find(|e| e["host"] == "lab-1").unwrap();
    assert_eq!(
        (&ok["end"], &ok["exit_code"]),
        (&Value::from("exited"), &Value::from(0))
    );
}

/// tsync's masters are its own children with no idle timer: a tsync killed outright must
/// not leave them running (PR_SET_PDEATHSIG ends them).
#[test]
fn a_killed_tsync_leaves_no_ssh_master() {
    let lab = crate::support::lab(2);
    let (mut child, _events, _lines, _dirs) = start_two_hosts(&lab, "echo started; sleep 9.7");
    let config = lab.ssh_config().display().to_string();
    let masters = || {
        processes_mentioning(&config)
            .into_iter()
            .filter(|line| line.starts_with("ssh ") && line.contains(" -M "))
            .count()
    };
    assert_eq!(masters(), 2, "one master per host while the step runs");
    child.kill().expect("SIGKILL tsync");
    child.wait().expect("tsync is reaped");
    let deadline = Instant::now() + Duration::from_secs(10);
    while masters() > 0 {
        assert!(Instant::now() < deadline, "an ssh master outlived tsync");
        std::thread::sleep(Duration::from_millis(50));
    }
}
