//! The workflows in playbooks/, applied end to end to labs of real sshd hosts with real
//! HTTP services. Only their timings are shortened; `systemctl` is replaced, through its
//! var, by a stand-in that "restarts" the lab service with the health of the current
//! release.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::support::{ROOT, Test, lab, of_kind, playbook, services};

/// A copy of playbooks/NAME (and its scripts) with its waits shortened.
fn shortened(name: &str, dir: &Path) -> PathBuf {
    let mut text = std::fs::read_to_string(Path::new(ROOT).join("playbooks").join(name)).unwrap();
    for (from, to) in [
        ("retries 10", "retries 2"),
        ("retries 5", "retries 2"),
        ("interval \"2s\"", "interval \"50ms\""),
        ("delay \"1s\"", "delay \"50ms\""),
        ("pause=\"5s\"", "pause=\"50ms\""),
    ] {
        text = text.replace(from, to);
    }
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    std::fs::create_dir_all(dir.join("scripts")).unwrap();
    std::fs::copy(
        Path::new(ROOT).join("playbooks/scripts/release.sh"),
        dir.join("scripts/release.sh"),
    )
    .unwrap();
    file
}

fn write(path: &Path, text: &str, mode: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Makes `dir` and everything in it writable by the lab's login.
fn open_up(dir: &Path) {
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() && !path.is_symlink() {
            open_up(&path);
        }
    }
}

/// Each host: releases v1 (current), v2 and v3 whose health is `health[i]` per release, a
/// stand-in `systemctl`, and an HTTP service answering as the current release says.
fn hosts_with_releases(
    lab: &tsync_lab::Lab,
    health: &[[&str; 3]],
) -> (Vec<tsync_lab::HttpService>, u16) {
    let (services, port) = services(lab, &[]);
    let srv = lab.host_srv(0).display().to_string();
    for (i, releases) in health.iter().enumerate() {
        let web = lab.srv(i).join("web");
        for (r, answer) in releases.iter().enumerate() {
            write(
                &web.join(format!("releases/v{}/health", r + 1)),
                answer,
                0o644,
            );
        }
        std::os::unix::fs::symlink("releases/v1", web.join("current")).unwrap();
        write(&lab.srv(i).join("health"), "200", 0o666);
        write(
            &lab.srv(i).join("systemctl"),
            &format!(
                "#!/bin/sh\n[ \"$1\" = restart ] && cp {srv}/web/current/health {srv}/health\n"
            ),
            0o755,
        );
        open_up(&web);
    }
    (services, port)
}

fn current(lab: &tsync_lab::Lab, i: usize) -> String {
    std::fs::read_link(lab.srv(i).join("web/current"))
        .unwrap()
        .display()
        .to_string()
}

fn deploy(
    lab: &tsync_lab::Lab,
    file: &Path,
    groups: &Path,
    port: u16,
    release: &str,
) -> crate::support::Run {
    let srv = lab.host_srv(0).display().to_string();
    Test::new()
        .args(["apply", "--output", "json"])
        .args([file])
        .args(["--inventory"])
        .args([groups])
        .lab(lab)
        .args(["--var", &format!("release={release}")])
        .args(["--var", &format!("app-dir={srv}/web")])
        .args(["--var", &format!("systemctl={srv}/systemctl")])
        .args(["--var", &format!("health-port={port}")])
        .run()
}

#[test]
fn deploy_ships_a_good_release_and_rolls_a_bad_canary_back() {
    let lab = lab(4);
    let dir = tempfile::tempdir().unwrap();
    let file = shortened("deploy.kdl", dir.path());
    let (_groups_dir, groups) = playbook(
        "group \"staging\" \"lab-1\"\ngroup \"production\" \"lab-2\" \"lab-3\" \"lab-4\"\n",
    );
    // v3 is broken on lab-2, the production canary.
    let (_services, port) = hosts_with_releases(
        &lab,
        &[
            ["200", "200", "200"],
            ["200", "200", "500"],
            ["200", "200", "200"],
            ["200", "200", "200"],
        ],
    );

    let run = deploy(&lab, &file, &groups, port, "v2");
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    for i in 0..4 {
        assert_eq!(current(&lab, i), "releases/v2", "lab-{}", i + 1);
    }
    let events = run.events();
    let batches: Vec<usize> = of_kind(&events, "batch_started")
        .iter()
        .map(|b| b["hosts"].as_array().unwrap().len())
        .collect();
    assert_eq!(
        batches,
        [1, 1, 1],
        "1, then 25% of 3 (at least one), then the rest"
    );

    let run = deploy(&lab, &file, &groups, port, "v3");
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let versions: Vec<String> = (0..4).map(|i| current(&lab, i)).collect();
    // Staging took v3; the canary failed its check and went back to v2; the rest were
    // never started.
    assert_eq!(
        versions,
        ["releases/v3", "releases/v2", "releases/v2", "releases/v2"]
    );
    let events = run.events();
    let rolled: Vec<(&str, bool)> = of_kind(&events, "rollback_finished")
        .iter()
        .map(|e| (e["host"].as_str().unwrap(), e["ok"].as_bool().unwrap()))
        .collect();
    assert_eq!(rolled, [("lab-2", true)]);
    let stopped = of_kind(&events, "rollout_stopped");
    assert_eq!(
        stopped[0]["not_started"],
        serde_json::json!(["lab-3", "lab-4"])
    );
    // The service on the canary answers again as v2 does.
    assert_eq!(
        std::fs::read_to_string(lab.srv(1).join("health")).unwrap(),
        "200"
    );
}

#[test]
fn rolling_restart_goes_host_by_host_and_stops_at_the_first_failure() {
    let lab = lab(3);
    let dir = tempfile::tempdir().unwrap();
    let file = shortened("rolling-restart.kdl", dir.path());
    let srv = lab.host_srv(0).display().to_string();
    for i in 0..3 {
        // `is-active` fails on lab-2 only.
        let active = if i == 1 { "exit 3" } else { "exit 0" };
        write(
            &lab.srv(i).join("systemctl"),
            &format!(
                "#!/bin/sh\ncase $1 in restart) date +%s%N >> {srv}/restarts ;; is-active) {active} ;; esac\n"
            ),
            0o755,
        );
    }
    let run = Test::new()
        .args(["apply", "--output", "json"])
        .args([&file])
        .lab(&lab)
        .args(["--var", &format!("systemctl={srv}/systemctl")])
        .run()
        .code(3);
    let restarted: Vec<bool> = (0..3)
        .map(|i| lab.srv(i).join("restarts").exists())
        .collect();
    assert_eq!(restarted, [true, true, false]);
    let events = run.events();
    assert_eq!(
        of_kind(&events, "rollout_stopped")[0]["not_started"],
        serde_json::json!(["lab-3"])
    );
}
