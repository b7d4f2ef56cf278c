//! The release workflows of playbooks/ (deploy, rollback, rolling-restart), applied end to
//! end to labs of real sshd hosts with real HTTP services. Only their timings and their build
//! command are changed; `systemctl` is replaced, through its var, by a stand-in that
//! "restarts" the lab service with the health of the current release.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::support::{ROOT, Run, Test, lab, of_kind, playbook, services};

/// A copy of playbooks/NAME and of playbooks/scripts/ in `dir`, with its waits shortened and
/// each `(from, to)` of `changes` made.
pub fn copied(name: &str, dir: &Path, changes: &[(&str, &str)]) -> PathBuf {
    let mut text = std::fs::read_to_string(Path::new(ROOT).join("playbooks").join(name)).unwrap();
    for (from, to) in [
        ("retries 10", "retries 2"),
        ("retries 5", "retries 2"),
        ("interval \"2s\"", "interval \"50ms\""),
        ("interval \"1s\"", "interval \"50ms\""),
        ("delay \"1s\"", "delay \"50ms\""),
        ("pause=\"5s\"", "pause=\"50ms\""),
    ]
    .iter()
    .chain(changes)
    {
        text = text.replace(from, to);
    }
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    std::fs::create_dir_all(dir.join("scripts")).unwrap();
    for entry in std::fs::read_dir(Path::new(ROOT).join("playbooks/scripts")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.join("scripts").join(path.file_name().unwrap())).unwrap();
    }
    file
}

pub fn write(path: &Path, text: &str, mode: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Makes `dir` and everything in it writable by the lab's login.
pub fn open_up(dir: &Path) {
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() && !path.is_symlink() {
            open_up(&path);
        }
    }
}

/// Every host: an empty, writable /srv/web, an HTTP service answering with /srv/health, and
/// a stand-in `systemctl` whose `restart` copies the current release's `health` there, or
/// answers 500 where /srv/broken-RELEASE exists. The builder (host 0) has a source tree
/// whose "build" makes a `dist` with a healthy `health`.
fn release_lab(lab: &tsync_lab::Lab) -> (Vec<tsync_lab::HttpService>, u16) {
    let (services, port) = services(lab, &[]);
    let srv = lab.host_srv(0).display().to_string();
    for i in 0..lab.hosts().len() {
        std::fs::create_dir_all(lab.srv(i).join("web")).unwrap();
        open_up(&lab.srv(i).join("web"));
        write(&lab.srv(i).join("health"), "200", 0o666);
        write(
            &lab.srv(i).join("systemctl"),
            &format!(
                "#!/bin/sh\n[ \"$1\" = restart ] || exit 0\n\
                 r=$(readlink {srv}/web/current)\n\
                 if [ -e {srv}/broken-${{r#releases/}} ]; then printf 500 > {srv}/health\n\
                 else cp {srv}/web/current/health {srv}/health; fi\n"
            ),
            0o755,
        );
    }
    write(&lab.srv(0).join("src/health"), "200", 0o644);
    open_up(&lab.srv(0).join("src"));
    (services, port)
}

fn current(lab: &tsync_lab::Lab, i: usize) -> String {
    std::fs::read_link(lab.srv(i).join("web/current"))
        .map(|l| l.display().to_string())
        .unwrap_or_default()
}

fn releases(lab: &tsync_lab::Lab, i: usize) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(lab.srv(i).join("web/releases"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `tsync apply FILE` for a release workflow, with the lab's paths, port and stand-in.
fn apply(lab: &tsync_lab::Lab, file: &Path, groups: &Path, port: u16, vars: &[&str]) -> Run {
    let srv = lab.host_srv(0).display().to_string();
    let mut test = Test::new()
        .args(["apply", "--output", "json"])
        .args([file])
        .args(["--inventory"])
        .args([groups])
        .lab(lab)
        .args(["--var", &format!("app-dir={srv}/web")])
        .args(["--var", &format!("systemctl={srv}/systemctl")])
        .args(["--var", &format!("health-port={port}")]);
    for var in vars {
        test = test.args(["--var", var]);
    }
    test.run()
}

fn rolled_back(run: &Run) -> Vec<(String, bool)> {
    of_kind(&run.events(), "rollback_finished")
        .iter()
        .map(|e| {
            (
                e["host"].as_str().unwrap().to_string(),
                e["ok"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn not_started(run: &Run) -> serde_json::Value {
    of_kind(&run.events(), "rollout_stopped")[0]["not_started"].clone()
}

#[test]
fn deploy_builds_once_ships_prunes_and_rolls_a_bad_canary_back_then_rollback_goes_back() {
    let lab = lab(5);
    let dir = tempfile::tempdir().unwrap();
    let deploy = copied(
        "deploy.kdl",
        dir.path(),
        &[(
            "git pull --ff-only && make dist",
            "mkdir -p dist && cp health dist/health",
        )],
    );
    let rollback = copied("rollback.kdl", dir.path(), &[]);
    let (_groups_dir, groups) = playbook(
        "group \"builders\" \"lab-1\"\ngroup \"staging\" \"lab-2\"\n\
         group \"production\" \"lab-3\" \"lab-4\" \"lab-5\"\n",
    );
    let (_services, port) = release_lab(&lab);
    let src = format!("src={}/src", lab.host_srv(0).display());
    let release = |r: &str| format!("release={r}");

    // The dry run builds nothing, ships nothing, switches nothing.
    let srv = lab.host_srv(0).display().to_string();
    let run = Test::new()
        .args(["apply", "--dry-run"])
        .args([&deploy])
        .args(["--inventory"])
        .args([&groups])
        .lab(&lab)
        .args(["--var", &src, "--var", &format!("app-dir={srv}/web")])
        .args(["--var", &format!("health-port={port}")])
        .run()
        .code(0);
    assert!(run.stdout.contains("selected lab-1"), "{}", run.stdout);
    assert!(
        run.stdout.contains(&format!(
            "lab-2: staging step 2 would run {}/scripts/release.sh: sh -s -- switch {srv}/web dev",
            dir.path().display()
        )),
        "{}",
        run.stdout
    );
    assert!(!dir.path().join(".build").exists());
    assert!(!lab.srv(0).join("src/dist").exists());
    assert!((1..5).all(|i| current(&lab, i).is_empty()));

    for (r, keep) in [("v1", "5"), ("v2", "5"), ("v3", "1")] {
        let run = apply(
            &lab,
            &deploy,
            &groups,
            port,
            &[&src, &release(r), &format!("keep={keep}")],
        );
        assert_eq!(run.code, 0, "{r}\n{}\n{}", run.stdout, run.stderr);
    }
    for i in 1..5 {
        assert_eq!(current(&lab, i), "releases/v3", "lab-{}", i + 1);
        assert_eq!(
            std::fs::read_to_string(lab.srv(i).join("web/current/health")).unwrap(),
            "200"
        );
        // keep=1: v3, and v2 as the previous release; v1 is pruned.
        assert_eq!(releases(&lab, i), ["v2", "v3"], "lab-{}", i + 1);
    }
    assert!(dir.path().join(".build/ship/health").exists());

    // v4 is broken on the production canary (lab-3): it goes back to v3, the rest of
    // production never starts, staging keeps v4.
    write(&lab.srv(2).join("broken-v4"), "", 0o644);
    let run = apply(&lab, &deploy, &groups, port, &[&src, &release("v4")]);
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let versions: Vec<String> = (1..5).map(|i| current(&lab, i)).collect();
    assert_eq!(
        versions,
        ["releases/v4", "releases/v3", "releases/v3", "releases/v3"]
    );
    assert_eq!(rolled_back(&run), [("lab-3".to_string(), true)]);
    assert_eq!(not_started(&run), serde_json::json!(["lab-4", "lab-5"]));
    assert_eq!(
        std::fs::read_to_string(lab.srv(2).join("health")).unwrap(),
        "200"
    );

    // rollback.kdl takes staging back to the release before v4.
    let run = apply(&lab, &rollback, &groups, port, &["hosts=staging"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(current(&lab, 1), "releases/v3");

    // Back to v2 in production: broken on the canary, which goes forward to v3 again, and
    // the rollout stops.
    write(&lab.srv(2).join("broken-v2"), "", 0o644);
    let run = apply(&lab, &rollback, &groups, port, &["release=v2"]);
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(rolled_back(&run), [("lab-3".to_string(), true)]);
    assert_eq!(not_started(&run), serde_json::json!(["lab-4", "lab-5"]));
    let versions: Vec<String> = (2..5).map(|i| current(&lab, i)).collect();
    assert_eq!(versions, ["releases/v3"; 3]);
}

#[test]
fn rolling_restart_goes_host_by_host_and_stops_at_the_first_failure() {
    let lab = lab(3);
    let dir = tempfile::tempdir().unwrap();
    let file = copied("rolling-restart.kdl", dir.path(), &[]);
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
    let restart = |hosts: &str| {
        Test::new()
            .args(["apply", "--output", "json"])
            .args([&file])
            .lab(&lab)
            .args(["--var", &format!("systemctl={srv}/systemctl")])
            .args(["--var", &format!("hosts={hosts}")])
            .run()
    };
    let run = restart("all").code(3);
    let restarted: Vec<bool> = (0..3)
        .map(|i| lab.srv(i).join("restarts").exists())
        .collect();
    assert_eq!(restarted, [true, true, false]);
    assert_eq!(not_started(&run), serde_json::json!(["lab-3"]));
    // `hosts` picks the group: lab-3 alone restarts and answers.
    restart("lab-3").code(0);
    assert!(lab.srv(2).join("restarts").exists());
}
