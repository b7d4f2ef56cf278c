//! A remote command can always be stopped, and stopping tsync leaves nothing behind: on
//! the hosts, no command it started; on the controller, no ssh process or control socket.

use std::time::{Duration, Instant};

use crate::support::{Test, processes_mentioning};

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
        .args(["--", "sleep 47.3; echo late"])
        .run()
        .code(3)
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
