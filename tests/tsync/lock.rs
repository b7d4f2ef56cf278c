//! The deploy lock of `tsync apply`: two controllers never run a playbook at once, a held
//! lock fails fast, waits or skips, Ctrl-C gives it back, and a killed controller leaves a
//! stale lock that is reported and can be released by its id.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::Child;
use std::time::{Duration, Instant};

use crate::support::{Test, lab, playbook, signal};

/// Each host appends the run's tag to `ran` in its lock directory's parent (the lab host's
/// own `/srv/.tsync`), then waits `{{pause}}` seconds.
const PLAYBOOK: &str = r#"
stage "deploy" {
    on "all"
    run "mkdir -p \"$TSYNC_LOCK_DIR\" && echo {{tag}} >> \"$TSYNC_LOCK_DIR/../ran\"; sleep {{pause}}"
}
"#;

/// What the runs wrote on lab host `i`.
fn ran(lab: &tsync_lab::Lab, i: usize) -> String {
    std::fs::read_to_string(lab.srv(i).join(".tsync/ran")).unwrap_or_default()
}

/// Where the lock `playbook` lives on lab host `i`, seen from here.
fn lock_dir(lab: &tsync_lab::Lab, i: usize) -> PathBuf {
    lab.srv(i).join(".tsync/locks/playbook")
}

fn record(lab: &tsync_lab::Lab, i: usize, name: &str) -> serde_json::Value {
    let path = lab
        .srv(i)
        .join(".tsync/locks")
        .join(name)
        .join("record.json");
    let text = std::fs::read_to_string(path).expect("a record");
    serde_json::from_str(&text).expect("the record is JSON")
}

/// An apply of `file` on `limit` that runs `pause` seconds per host, started in the
/// background.
fn start(
    lab: &tsync_lab::Lab,
    file: &std::path::Path,
    limit: &str,
    tag: &str,
    pause: &str,
    extra: &[&str],
) -> Child {
    let (child, home) = Test::new()
        .args(["apply"])
        .args([file])
        .lab(lab)
        .args([
            "--limit",
            limit,
            "--var",
            &format!("tag={tag}"),
            "--var",
            &format!("pause={pause}"),
        ])
        .args(extra)
        .spawn();
    // The home only holds this run's local lock and history: it may go once started.
    std::mem::forget(home);
    child
}

/// Waits until the lock directory `dir` holds its record: the lock is taken, and says by
/// whom.
#[track_caller]
fn wait_for(dir: &std::path::Path) {
    let start = Instant::now();
    while !dir.join("record.json").exists() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{} never came",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn finish(child: Child) -> (i32, String, String) {
    let output = child.wait_with_output().expect("tsync ends");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn two_applies_on_overlapping_hosts_run_one_at_a_time() {
    let lab = lab(3);
    let (_dir, file) = playbook(PLAYBOOK);
    // Started together: each takes its hosts in name order, so they meet at lab-2 and
    // exactly one goes on.
    let a = start(
        &lab,
        &file,
        "lab-1,lab-2",
        "a",
        "2",
        &["--lock-message", "release 1.2"],
    );
    let b = start(
        &lab,
        &file,
        "lab-2,lab-3",
        "b",
        "2",
        &["--lock-message", "release 1.2"],
    );
    let (a, b) = (finish(a), finish(b));
    let mut codes = [a.0, b.0];
    codes.sort();
    assert_eq!(codes, [0, 5], "a: {a:?}\nb: {b:?}");
    let refused = if a.0 == 5 { &a } else { &b };
    assert!(
        refused
            .2
            .contains("the deploy lock `playbook` is held on lab-2"),
        "{}",
        refused.2
    );
    assert!(refused.2.contains("\"release 1.2\""), "{}", refused.2);
    assert!(refused.2.contains("; id "), "{}", refused.2);
    let ran = ran(&lab, 1);
    assert_eq!(ran.lines().count(), 1, "{ran}");
    for i in 0..3 {
        assert!(!lock_dir(&lab, i).exists(), "lab-{} still locked", i + 1);
    }

    // One after the other: the second is refused while the first holds the lock, with the
    // holder's record, and the refused run touched nothing and left nothing in the history.
    let first = start(
        &lab,
        &file,
        "lab-1,lab-2",
        "c",
        "3",
        &["--lock-message", "hotfix"],
    );
    wait_for(&lock_dir(&lab, 1));
    let holder = record(&lab, 1, "playbook");
    let second = Test::new()
        .args(["apply"])
        .args([&file])
        .lab(&lab)
        .args([
            "--limit",
            "lab-2,lab-3",
            "--var",
            "tag=d",
            "--var",
            "pause=0",
        ])
        .run()
        .code(5)
        .stderr_has("\"hotfix\"")
        .stderr_has(&format!("id {}", holder["id"].as_str().unwrap()))
        .stderr_has("help: wait for it with --lock-wait");
    assert!(!second.stdout.contains("deploy:"), "{}", second.stdout);
    assert_eq!(finish(first).0, 0);
    assert!(
        !std::fs::read_to_string(lab.srv(2).join("ran"))
            .unwrap_or_default()
            .contains('d')
    );
}

#[test]
fn a_held_lock_is_skipped_waited_for_and_shown_by_a_dry_run() {
    let lab = lab(1);
    let (_dir, file) = playbook(PLAYBOOK);
    let holder = start(&lab, &file, "all", "a", "3", &[]);
    wait_for(&lock_dir(&lab, 0));

    let history = tempfile::tempdir().unwrap();
    let history = history.path().join("history.db");
    let skipped = Test::new()
        .env("TSYNC_HISTORY", &history)
        .args(["apply"])
        .args([&file])
        .lab(&lab)
        .args(["--var", "tag=b", "--var", "pause=0", "--if-locked=skip"])
        .run()
        .code(75);
    assert!(
        skipped
            .stderr
            .starts_with("skipped: the deploy lock `playbook` is held on lab-1"),
        "{}",
        skipped.stderr
    );
    assert_eq!(skipped.stderr.lines().count(), 1, "{}", skipped.stderr);
    assert!(!history.exists(), "a run the lock refused is not history");

    Test::new()
        .args(["apply", "--dry-run"])
        .args([&file])
        .lab(&lab)
        .args(["--var", "tag=b", "--var", "pause=0"])
        .run()
        .code(0)
        .stdout_has("warning: the deploy lock `playbook` is held on lab-1");

    let started = Instant::now();
    let waited = Test::new()
        .env("TSYNC_HISTORY", &history)
        .args(["apply", "--output", "json"])
        .args([&file])
        .lab(&lab)
        .args(["--var", "tag=c", "--var", "pause=0", "--lock-wait", "30s"])
        .run()
        .code(0);
    let events = waited.events();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"lock_waiting"), "{kinds:?}");
    assert_eq!(events[0]["holder"]["pid"], holder.id());
    assert!(kinds.contains(&"lock_taken"), "{kinds:?}");
    // Taken right after the run starts, given back right before it ends.
    let at = |kind| kinds.iter().position(|k| *k == kind).unwrap();
    assert_eq!(at("lock_taken"), at("run_started") + 1, "{kinds:?}");
    assert_eq!(&kinds[kinds.len() - 2..], ["lock_released", "run_finished"]);
    assert_eq!(finish(holder).0, 0);
    assert!(started.elapsed() > Duration::from_secs(1));
    assert!(history.exists());
    let ran = ran(&lab, 0);
    assert_eq!(ran, "a\nc\n");
    assert!(!lock_dir(&lab, 0).exists());
}

#[test]
fn ctrl_c_and_sigterm_during_a_step_release_the_lock() {
    let lab = lab(2);
    let (_dir, file) = playbook(PLAYBOOK);
    for (name, code) in [("INT", 130), ("TERM", 130)] {
        let mut child = start(&lab, &file, "all", "a", "2", &[]);
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        // The step has started once the stage has.
        for line in lines.by_ref() {
            if line.unwrap().contains("deploy") {
                break;
            }
        }
        assert!(lock_dir(&lab, 0).exists() && lock_dir(&lab, 1).exists());
        signal(&child, name);
        let rest: Vec<String> = lines.map_while(Result::ok).collect();
        let (got, _, stderr) = finish(child);
        assert_eq!(got, code, "{name}: {rest:?}\n{stderr}");
        assert!(
            rest.iter().any(|l| l.contains("lock `playbook` released")),
            "{name}: {rest:?}"
        );
        assert!(
            !lock_dir(&lab, 0).exists() && !lock_dir(&lab, 1).exists(),
            "{name}"
        );
    }
}

#[test]
fn a_killed_controller_leaves_a_stale_lock_that_is_reported_and_released_by_id() {
    let lab = lab(2);
    let (_dir, file) = playbook(PLAYBOOK);
    let kill_holder = || {
        let mut child = start(
            &lab,
            &file,
            "all",
            "a",
            "30",
            &["--lock-expiry", "1s", "--lock-message", "doomed"],
        );
        wait_for(&lock_dir(&lab, 1));
        child.kill().unwrap();
        child.wait().unwrap();
        let id = record(&lab, 0, "playbook")["id"]
            .as_str()
            .unwrap()
            .to_string();
        // Stale once the heartbeat is more than 1s old.
        std::thread::sleep(Duration::from_millis(2500));
        id
    };
    let id = kill_holder();

    Test::new()
        .args(["apply"])
        .args([&file])
        .lab(&lab)
        .args([
            "--var",
            "tag=b",
            "--var",
            "pause=0",
            "--if-locked=skip",
            "--lock-wait",
            "2s",
        ])
        .run()
        .code(5)
        .stderr_has("the deploy lock `playbook` is stale on lab-1")
        .stderr_has("\"doomed\"")
        .stderr_has(&format!("tsync lock release lab-1 --id {id}"));

    let status = Test::new()
        .no_inventory()
        .args(["lock", "status", "all", "--no-tailscale"])
        .lab(&lab)
        .run()
        .code(0)
        .stdout_has("HOST   LOCK      STATE")
        .stdout_has(&id);
    assert_eq!(
        status.stdout.matches("stale").count(),
        2,
        "{}",
        status.stdout
    );
    let json = Test::new()
        .no_inventory()
        .args([
            "lock",
            "status",
            "lab-2",
            "--no-tailscale",
            "--output",
            "json",
        ])
        .lab(&lab)
        .run()
        .code(0)
        .json();
    assert_eq!(json["locks"][0]["name"], "playbook");
    assert_eq!(json["locks"][0]["stale"], true);
    assert_eq!(json["locks"][0]["record"]["id"], id.as_str());

    Test::new()
        .no_inventory()
        .args([
            "lock",
            "release",
            "all",
            "--no-tailscale",
            "--id",
            "0123456789abcdef",
        ])
        .lab(&lab)
        .run()
        .code(2)
        .stderr_has(&format!("(id {id})"));
    assert!(lock_dir(&lab, 0).exists());
    Test::new()
        .no_inventory()
        .args(["lock", "release", "all", "--no-tailscale", "--id", &id])
        .lab(&lab)
        .run()
        .code(0)
        .stdout_has("released lock `playbook` on lab-1")
        .stdout_has("released lock `playbook` on lab-2");
    assert!(!lock_dir(&lab, 0).exists() && !lock_dir(&lab, 1).exists());

    // --break-stale breaks a stale lock and runs; it never breaks a live one.
    let id = kill_holder();
    Test::new()
        .args(["apply"])
        .args([&file])
        .lab(&lab)
        .args(["--var", "tag=c", "--var", "pause=0", "--break-stale"])
        .run()
        .code(0)
        .stdout_has("broke the stale lock `playbook` on lab-1")
        .stdout_has(&format!("id {id}"));
    assert!(!lock_dir(&lab, 0).exists());
    // Its heartbeat keeps a live lock fresh past its expiry.
    let live = start(&lab, &file, "all", "d", "5", &["--lock-expiry", "1s"]);
    wait_for(&lock_dir(&lab, 1));
    std::thread::sleep(Duration::from_millis(2500));
    let refused = Test::new()
        .args(["apply"])
        .args([&file])
        .lab(&lab)
        .args(["--var", "tag=e", "--var", "pause=0", "--break-stale"])
        .run()
        .code(5)
        .stderr_has("is held on lab-1");
    assert!(!refused.stderr.contains("stale"), "{}", refused.stderr);
    assert_eq!(finish(live).0, 0);
    assert!(!lock_dir(&lab, 0).exists());
}

#[test]
fn a_failed_run_releases_the_lock() {
    let lab = lab(2);
    let (_dir, file) = playbook(
        "stage \"deploy\" {\n    on \"all\"\n    run \"exit 7\"\n}\nstage \"after\" {\n    needs \"deploy\"\n    on \"all\"\n    run \"true\"\n}\n",
    );
    Test::new()
        .args(["apply"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(3)
        .stdout_has("lock `playbook` taken on lab-1, lab-2")
        .stdout_has("lock `playbook` released");
    assert!(!lock_dir(&lab, 0).exists() && !lock_dir(&lab, 1).exists());
}

#[test]
fn a_lock_host_named_by_the_playbook_holds_the_lock_whatever_the_limit() {
    let mut lab = lab(3);
    let (_dir, file) = playbook(&format!(
        "lock on=\"lab-1\" name=\"shared\" expiry=\"1m\"\n{PLAYBOOK}"
    ));
    Test::new()
        .args(["plan"])
        .args([&file])
        .lab(&lab)
        .args(["--limit", "lab-2", "--var", "tag=a", "--var", "pause=0"])
        .run()
        .code(0)
        .stdout_has("deploy lock shared on lab-1\n");
    let planned = Test::new()
        .args(["plan", "--format", "json"])
        .args([&file])
        .lab(&lab)
        .args(["--var", "tag=a", "--var", "pause=0"])
        .run()
        .code(0)
        .json();
    assert_eq!(
        planned["lock"],
        serde_json::json!({"name": "shared", "hosts": ["lab-1"], "expiry_secs": 60})
    );
    let holder = start(&lab, &file, "lab-2", "a", "3", &[]);
    let on_lab_1 = lab.srv(0).join(".tsync/locks/shared");
    wait_for(&on_lab_1);
    assert!(!lab.srv(1).join(".tsync/locks/shared").exists());
    let held = record(&lab, 0, "shared");
    assert_eq!(held["expiry_secs"], 60);
    Test::new()
        .args(["apply"])
        .args([&file])
        .lab(&lab)
        .args(["--limit", "lab-3", "--var", "tag=b", "--var", "pause=0"])
        .run()
        .code(5)
        .stderr_has("the deploy lock `shared` is held on lab-1");
    assert_eq!(finish(holder).0, 0);
    assert!(!on_lab_1.exists());
    assert_eq!(ran(&lab, 2), "");

    // Where every controller meets cannot be left out: without it, nothing runs.
    lab.stop(0).unwrap();
    Test::new()
        .args(["apply"])
        .args([&file])
        .lab(&lab)
        .args(["--limit", "lab-3", "--var", "tag=c", "--var", "pause=0"])
        .args(["--connect-timeout", "2s"])
        .run()
        .code(4)
        .stderr_has("cannot take the deploy lock `shared` on its lock host lab-1");
    assert_eq!(ran(&lab, 2), "");
}

#[test]
fn overlapping_runs_on_one_machine_meet_at_the_local_lock() {
    let lab = lab(1);
    let (_dir, file) = playbook(PLAYBOOK);
    let home = tempfile::tempdir().unwrap();
    let run = |tag: &str, pause: &str| {
        Test::new()
            .env("HOME", home.path())
            .args(["apply"])
            .args([&file])
            .lab(&lab)
            .args([
                "--var",
                &format!("tag={tag}"),
                "--var",
                &format!("pause={pause}"),
            ])
    };
    let (first, _home) = run("a", "4").args(["--lock-expiry", "1s"]).spawn();
    let local = home.path().join(".local/state/tsync/locks/playbook.lock");
    wait_for(&lock_dir(&lab, 0));
    assert!(local.exists());
    // Past the expiry: the local lock's record is written once, but its holder is alive.
    std::thread::sleep(Duration::from_millis(2200));
    let refused = run("b", "0")
        .run()
        .code(5)
        .stderr_has("the deploy lock `playbook` is held on this machine")
        .stderr_has(&format!("(pid {})", first.id()));
    assert!(!refused.stderr.contains("stale"), "{}", refused.stderr);
    assert_eq!(finish(first).0, 0);
    run("c", "0").run().code(0);
    assert_eq!(ran(&lab, 0), "a\nc\n");
}

#[test]
fn a_bad_lock_node_is_reported_by_check() {
    let (_dir, file) = playbook(
        "lock name=\"../etc\" expiry=\"5\"\nlock\nstage \"s\" {\n    on \"all\"\n    run \"true\"\n}\n",
    );
    Test::new()
        .args(["check"])
        .args([&file])
        .args(["--ssh-config", &crate::support::fixture("fleet/ssh_config")])
        .run()
        .code(2)
        .stderr_has("bad-lock-name")
        .stderr_has("bad-duration")
        .stderr_has("duplicate-node");
    let (_dir, file) =
        playbook("lock on=\"nowhere-*\"\nstage \"s\" {\n    on \"all\"\n    run \"true\"\n}\n");
    Test::new()
        .args(["check"])
        .args([&file])
        .args(["--ssh-config", &crate::support::fixture("fleet/ssh_config")])
        .run()
        .code(2)
        .stderr_has("`lock on` picks no host");
}

#[test]
fn a_host_the_lock_cannot_reach_is_left_alone_by_the_run() {
    let mut lab = lab(2);
    let (_dir, file) = playbook(PLAYBOOK);
    lab.stop(1).unwrap();
    Test::new()
        .args(["apply"])
        .args([&file])
        .lab(&lab)
        .args([
            "--var",
            "tag=a",
            "--var",
            "pause=0",
            "--connect-timeout",
            "2s",
        ])
        .run()
        .code(4)
        .stdout_has("lock `playbook` taken on lab-1\n")
        .stdout_has("unreachable when the deploy lock was taken");
    assert_eq!(ran(&lab, 0), "a\n");
    assert!(!lock_dir(&lab, 0).exists());
}

#[test]
fn the_run_goes_over_the_locks_connections() {
    let lab = lab(2);
    let (_dir, file) = playbook(PLAYBOOK);
    let child = start(&lab, &file, "all", "shared", "2", &[]);
    wait_for(&lock_dir(&lab, 0));
    wait_for(&lock_dir(&lab, 1));
    // Both hosts are running their step: one ssh master each, the lock's, and no second
    // handshake for the run.
    std::thread::sleep(Duration::from_millis(800));
    let config = lab.ssh_config().display().to_string();
    let masters: Vec<String> = crate::support::processes_mentioning(&config)
        .into_iter()
        .filter(|line| line.starts_with("ssh ") && line.contains(" -M "))
        .collect();
    let (code, stdout, stderr) = finish(child);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(masters.len(), 2, "{masters:#?}");
    assert_eq!(ran(&lab, 0), "shared\n");
}

#[test]
fn an_ad_hoc_run_holds_the_lock_only_when_asked() {
    let lab = lab(2);
    let (_dir, file) = playbook(PLAYBOOK);
    // `tsync run --lock playbook` takes the lock the playbook's applies take.
    let (child, home) = Test::new()
        .args([
            "run",
            "all",
            "--lock",
            "playbook",
            "--lock-message",
            "by hand",
        ])
        .lab(&lab)
        .args(["--", "sleep 3"])
        .spawn();
    wait_for(&lock_dir(&lab, 0));
    assert_eq!(record(&lab, 0, "playbook")["message"], "by hand");
    let blocked = start(&lab, &file, "all", "apply", "0", &[]);
    let (code, _, stderr) = finish(blocked);
    assert_eq!(code, 5, "{stderr}");
    assert!(stderr.contains("by hand"), "{stderr}");
    let (code, stdout, stderr) = finish(child);
    assert_eq!(code, 0, "{stdout}{stderr}");
    drop(home);
    assert!(!lock_dir(&lab, 0).exists(), "released");
    // Without --lock a run takes none, and lock flags alone are refused.
    Test::new()
        .args(["run", "all", "--lock-wait", "5s"])
        .lab(&lab)
        .args(["--", "true"])
        .run()
        .code(2)
        .stderr_has("need a lock");
}

#[test]
fn a_playbook_with_lock_false_takes_no_lock_and_is_not_held_up_by_one() {
    let lab = lab(2);
    let (_dir, file) = playbook(
        r#"
lock #false
stage "report" {
    on "all"
    run "test ! -e \"$TSYNC_LOCK_DIR/playbook\" && echo unlocked"
}
"#,
    );
    Test::new()
        .args(["plan"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(0)
        .stdout_has("no deploy lock (`lock #false`)");
    // Another run holds the lock `playbook` on lab-1: the report runs regardless.
    std::fs::create_dir_all(lock_dir(&lab, 0)).unwrap();
    let run = Test::new()
        .args(["apply"])
        .args([&file])
        .lab(&lab)
        .run()
        .stdout_has("unlocked");
    // Its own step finds no lock of its own on lab-2, and lab-1's foreign one fails it.
    assert_eq!(run.code, 3, "{}", run.stdout);
    assert!(!lock_dir(&lab, 1).exists());

    let (_dir, bad) =
        playbook("lock #false name=\"x\"\nstage \"s\" { on \"all\"; run \"true\" }\n");
    Test::new()
        .args(["check"])
        .args([&bad])
        .lab(&lab)
        .run()
        .code(2)
        .stderr_has("`lock #false` takes no lock, so it takes no properties");
}
