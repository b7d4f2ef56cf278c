//! `sync` and `pull` steps, `tsync push` and `tsync pull`: the language, the plan and the
//! command line. Tests marked "needs the engine" transfer files and wait for src/sync.

use crate::support::{Test, lab, of_kind, playbook};

#[test]
fn bad_sync_and_pull_nodes_are_reported_at_once() {
    let (dir, path) = playbook(
        r#"stage "deploy" {
    on "stage-1"
    sync "site/"
    sync "" "/srv" cwd="/tmp" delete="yes" frob=1 {
        env A="b"
        exclude ""
    }
    pull "/a" "b" "c" unchanged-exit=3 confirm="30s"
    run "true" checksum=#true {
        exclude "*.log"
    }
}
"#,
    );
    let run = Test::new()
        .args(["check", path.to_str().unwrap()])
        .fleet()
        .run()
        .code(2);
    let stderr = run.stderr.replace(dir.path().to_str().unwrap(), "DIR");
    insta::assert_snapshot!("bad_sync_nodes", stderr);
}

#[test]
fn plan_shows_the_paths_of_each_host() {
    let (dir, path) = playbook(
        r#"stage "deploy" {
    on "stage-1" "stage-2"
    sync "site/" "/srv/{{host}}/site" delete=#true {
        exclude "*.log" "{{host}}.tmp"
    }
    pull "/var/log/app" "/var/tmp/logs" checksum=#true
}
"#,
    );
    let dir = dir.path().to_str().unwrap();
    let text = Test::new()
        .args(["plan", path.to_str().unwrap()])
        .fleet()
        .run()
        .code(0)
        .stdout
        .replace(dir, "DIR");
    assert!(
        text.contains(
            "stage-2: sync DIR/site/ → /srv/stage-2/site (delete, exclude *.log stage-2.tmp)"
        ),
        "{text}"
    );
    assert!(
        text.contains("stage-1: pull /var/log/app → /var/tmp/logs/stage-1 (checksum)"),
        "{text}"
    );
    let json = Test::new()
        .args(["plan", path.to_str().unwrap(), "--format", "json"])
        .fleet()
        .run()
        .code(0)
        .json();
    let steps = &json["stages"][0]["steps"];
    assert_eq!(steps[0]["kind"], "sync");
    assert_eq!(steps[0]["written"], "site/ → /srv/{{host}}/site");
    assert_eq!(
        steps[0]["commands"]["stage-1"],
        format!("sync {dir}/site/ → /srv/stage-1/site (delete, exclude *.log stage-1.tmp)")
    );
    assert_eq!(steps[1]["kind"], "pull");
    assert_eq!(
        steps[1]["commands"]["stage-2"],
        "pull /var/log/app → /var/tmp/logs/stage-2 (checksum)"
    );
}

#[test]
fn help_lists_push_and_pull() {
    let run = Test::new().args(["--help"]).run().code(0);
    assert!(run.stdout.contains("push"), "{}", run.stdout);
    assert!(run.stdout.contains("pull"), "{}", run.stdout);
    for command in ["push", "pull"] {
        Test::new()
            .args([command, "--help"])
            .run()
            .code(0)
            .stdout_has("--exclude-from")
            .stdout_has("--delete")
            .stdout_has("--dry-run");
    }
}

#[test]
fn a_missing_exclude_from_file_is_invalid_input() {
    Test::new()
        .args(["push", "stage-1", ".", "/srv/site", "--exclude-from"])
        .args(["/nonexistent/tsync-excludes"])
        .fleet()
        .run()
        .code(2)
        .stderr_has("cannot read `--exclude-from /nonexistent/tsync-excludes`");
}

#[test]
fn pushing_a_missing_local_path_is_invalid_input_before_any_host() {
    Test::new()
        .args(["push", "stage-1", "/nonexistent/tsync-site", "/srv/site"])
        .fleet()
        .run()
        .code(2)
        .stderr_has("cannot read `/nonexistent/tsync-site`");
}

#[test]
fn an_empty_remote_path_is_invalid_input() {
    Test::new()
        .args(["pull", "stage-1", "", "logs"])
        .fleet()
        .run()
        .code(2)
        .stderr_has("the remote path is empty");
}

#[test]
fn push_then_pull_round_trips_a_directory() {
    let lab = lab(2);
    let local = tempfile::tempdir().unwrap();
    std::fs::create_dir(local.path().join("site")).unwrap();
    std::fs::write(local.path().join("site/index.html"), "hello").unwrap();
    std::fs::write(local.path().join("site/debug.log"), "noise").unwrap();
    let site = format!("{}/site/", local.path().display());
    // Each host's /srv is its own; a login's home may be shared by the lab's hosts.
    let remote = format!("{}/site", lab.host_srv(0).display());
    let pushed = Test::new()
        .args(["push", "all", &site, &remote, "--exclude", "*.log"])
        .args(["--output", "json"])
        .lab(&lab)
        .run()
        .code(0);
    let events = pushed.events();
    let finished = of_kind(&events, "sync_finished");
    assert_eq!(finished.len(), 2);
    assert!(finished.iter().all(|e| e["files_sent"] == 1));
    let pulled = tempfile::tempdir().unwrap();
    let into = pulled.path().display().to_string();
    Test::new()
        .args(["pull", "all", &remote, &into])
        .lab(&lab)
        .run()
        .code(0)
        .stdout_has("pulled 1 file");
    for host in ["lab-1", "lab-2"] {
        let copy = pulled.path().join(host).join("index.html");
        assert_eq!(std::fs::read_to_string(copy).unwrap(), "hello");
        assert!(!pulled.path().join(host).join("debug.log").exists());
    }
    // Nothing changed since: a second push sends nothing.
    Test::new()
        .args(["push", "all", &site, &remote, "--exclude", "*.log"])
        .lab(&lab)
        .run()
        .code(0)
        .stdout_has("up to date (1 file)");
}

#[test]
fn a_dry_run_lists_what_a_sync_step_would_send() {
    let lab = lab(1);
    let (dir, path) = playbook(
        r#"stage "deploy" {
    on "all"
    sync "site" "/srv/tsync-dry-site"
}
"#,
    );
    std::fs::create_dir(dir.path().join("site")).unwrap();
    std::fs::write(dir.path().join("site/a.txt"), "12345").unwrap();
    Test::new()
        .args(["apply", "--dry-run", path.to_str().unwrap()])
        .lab(&lab)
        .run()
        .code(0)
        .stdout_has("+ a.txt (5 B)")
        .stdout_has("would send 1 file (5 B), delete 0");
    // Read-only: the host still has nothing.
    assert!(!lab.srv(0).join("tsync-dry-site").exists());
}
