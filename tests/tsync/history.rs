//! The run history: runs recorded against a lab, listed and recapped by `tsync history`;
//! many tsync processes writing at once; a damaged or unwritable history never fails a run.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde_json::Value;
use tsync::history::{History, NewRun, RunKind};

use crate::support::{Test, lab, playbook};

/// A command that fails on the host whose `/srv` holds `bad`, saying why on stderr.
const FAILS_ON_BAD: &str = "if [ -e /srv/bad ]; then echo noise >&2; echo disk is full >&2; \
                            exit 7; fi; echo fine";

fn history(db: &Path, args: &[&str]) -> Value {
    Test::new()
        .no_inventory()
        .env("TSYNC_HISTORY", db)
        .args(["history"])
        .args(args)
        .args(["--output", "json"])
        .run()
        .code(0)
        .json()
}

fn kinds(runs: &Value) -> Vec<&str> {
    runs.as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect()
}

fn temp_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state/tsync/history.db");
    (dir, db)
}

#[test]
fn history_lists_runs_and_applies_with_each_hosts_outcome() {
    let lab = lab(2);
    std::fs::write(lab.srv(1).join("bad"), "").unwrap();
    let (_dir, db) = temp_db();
    Test::new()
        .env("TSYNC_HISTORY", &db)
        .args(["run", "all"])
        .lab(&lab)
        .args(["--", FAILS_ON_BAD])
        .run()
        .code(3);
    let (_pb, file) = playbook("stage \"hello\" {\n    on \"lab-1\"\n    run \"echo hello\"\n}\n");
    Test::new()
        .env("TSYNC_HISTORY", &db)
        .args(["apply"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(0);

    let runs = history(&db, &[]);
    assert_eq!(kinds(&runs), ["apply", "run"], "newest first: {runs}");
    let (apply, run) = (&runs[0], &runs[1]);
    assert_eq!(apply["target"], file.display().to_string());
    assert_eq!(apply["exit_code"], 0);
    assert_eq!(apply["hosts"].as_array().unwrap().len(), 1);
    assert_eq!(apply["hosts"][0]["host"], "lab-1");
    assert_eq!(apply["hosts"][0]["outcome"], "ok");
    assert_eq!(run["target"], format!("all -- {FAILS_ON_BAD}"));
    assert_eq!(run["exit_code"], 3);
    assert_eq!(run["hosts"][0]["outcome"], "ok");
    assert_eq!(run["hosts"][1]["host"], "lab-2");
    assert_eq!(run["hosts"][1]["outcome"], "failed");
    let failure = run["hosts"][1]["failure"].as_str().unwrap();
    assert!(failure.ends_with("exit code 7: disk is full"), "{failure}");
    assert!(run["hosts"][0].get("failure").is_none(), "{run}");
    assert!(run["ended_ms"].as_i64().unwrap() >= run["started_ms"].as_i64().unwrap());
    assert!(!run["user"].as_str().unwrap().is_empty());

    let listed = Test::new()
        .no_inventory()
        .env("TSYNC_HISTORY", &db)
        .args(["history"])
        .run()
        .code(0)
        .stdout_has("ID")
        .stdout_has("1 ok, 1 failed")
        .stdout_has("s ago (");
    let lines: Vec<&str> = listed.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", listed.stdout);
    assert!(
        lines[1].contains("apply") && lines[2].contains(" run "),
        "{}",
        listed.stdout
    );

    let id = run["id"].to_string();
    Test::new()
        .no_inventory()
        .env("TSYNC_HISTORY", &db)
        .args(["history", "show", &id])
        .run()
        .code(0)
        .stdout_has(&format!("run {id}: run all -- "))
        .stdout_has("exit code 3")
        .stdout_has("lab-2  failed")
        .stdout_has("exit code 7: disk is full");
    let shown = history(&db, &["show", &id]);
    assert_eq!(shown["hosts"], run["hosts"]);

    let events = History::open_at(&db)
        .unwrap()
        .events(tsync::history::RunId(run["id"].as_i64().unwrap()))
        .unwrap();
    let names: Vec<&str> = events
        .iter()
        .map(|e| e.event["event"].as_str().unwrap())
        .collect();
    assert_eq!(names.first(), Some(&"run_started"), "{names:?}");
    assert_eq!(names.last(), Some(&"run_finished"), "{names:?}");
    assert!(
        !names.contains(&"output"),
        "output is not stored: {names:?}"
    );
    assert!(events.windows(2).all(|w| w[0].at_secs <= w[1].at_secs));

    let seen = History::open_at(&db)
        .unwrap()
        .last_seen(&["lab-1", "lab-2", "nowhere"])
        .unwrap();
    assert_eq!(seen.len(), 2, "{seen:?}");
}

#[test]
fn history_filters_by_host_and_keeps_the_last_runs() {
    let lab = lab(2);
    let (_dir, db) = temp_db();
    for selector in ["lab-1", "lab-2", "all"] {
        Test::new()
            .env("TSYNC_HISTORY", &db)
            .args(["run", selector])
            .lab(&lab)
            .args(["--", "true"])
            .run()
            .code(0);
    }
    let targets = |runs: &Value| -> Vec<String> {
        runs.as_array()
            .unwrap()
            .iter()
            .map(|r| r["target"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        targets(&history(&db, &["--host", "lab-2"])),
        ["all -- true", "lab-2 -- true"]
    );
    assert_eq!(targets(&history(&db, &["--last", "1"])), ["all -- true"]);
    assert_eq!(history(&db, &["--host", "lab-9"]), serde_json::json!([]));
    Test::new()
        .no_inventory()
        .env("TSYNC_HISTORY", &db)
        .args(["history", "show", "999"])
        .run()
        .code(2)
        .stderr_has("no run 999");
}

#[test]
fn eight_tsync_processes_at_once_all_land_in_a_sound_history() {
    let lab = lab(2);
    let (_dir, db) = temp_db();
    let children: Vec<_> = (0..8)
        .map(|i| {
            Test::new()
                .env("TSYNC_HISTORY", &db)
                .args(["run", "all"])
                .lab(&lab)
                .args(["--", &format!("echo {i}")])
                .spawn()
        })
        .collect();
    for (child, _home) in children {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(!stderr.contains("warning"), "{stderr}");
    }
    let runs = history(&db, &[]);
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 8);
    for run in runs {
        assert_eq!(run["exit_code"], 0, "{run}");
        assert_eq!(run["hosts"].as_array().unwrap().len(), 2, "{run}");
    }
    let check = rusqlite::Connection::open(&db).unwrap();
    let verdict: String = check
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(verdict, "ok");
}

#[test]
fn a_damaged_or_unwritable_history_is_a_warning_and_the_run_keeps_its_exit_code() {
    let lab = lab(2);
    std::fs::write(lab.srv(1).join("bad"), "").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![0x5a_u8; 64 * 1024]).unwrap();
    let a_file = dir.path().join("a-file");
    std::fs::write(&a_file, "not a directory").unwrap();
    for db in [garbage.clone(), a_file.join("history.db")] {
        let run = Test::new()
            .env("TSYNC_HISTORY", &db)
            .args(["run", "all"])
            .lab(&lab)
            .args(["--", FAILS_ON_BAD])
            .run()
            .code(3)
            .stderr_has("warning: history: ")
            .stderr_has(&db.parent().unwrap().display().to_string())
            .stdout_has("lab-1 │ fine");
        assert_eq!(
            run.stderr.matches("warning: history").count(),
            1,
            "{}",
            run.stderr
        );
    }
    Test::new()
        .no_inventory()
        .env("TSYNC_HISTORY", &garbage)
        .args(["history"])
        .run()
        .code(1)
        .stderr_has("error: history: ")
        .stderr_has("move it away");
}

#[test]
fn runs_older_than_the_retention_are_pruned_when_a_run_is_recorded() {
    let lab = lab(1);
    let (_dir, db) = temp_db();
    let days = |n: u64| SystemTime::now() - Duration::from_secs(n * 86_400);
    {
        let mut history = History::open_at(&db).unwrap();
        for (target, age) in [("ancient", 100), ("last-month", 30), ("last-week", 7)] {
            let mut run = NewRun::new(RunKind::Run, target.to_string());
            run.started = days(age);
            let id = history.begin(&run).unwrap();
            history.finish(id, 0, &[]).unwrap();
        }
    }
    let targets = |db: &Path| -> Vec<String> {
        history(db, &[])
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["target"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        targets(&db),
        ["last-week", "last-month"],
        "pruned on finish"
    );

    Test::new()
        .env("TSYNC_HISTORY", &db)
        .env("TSYNC_HISTORY_DAYS", "10")
        .args(["run", "all"])
        .lab(&lab)
        .args(["--", "true"])
        .run()
        .code(0);
    assert_eq!(targets(&db), ["all -- true", "last-week"]);
}

#[test]
fn the_history_lives_in_the_xdg_state_dir_else_under_home() {
    let state = tempfile::tempdir().unwrap();
    Test::new()
        .no_inventory()
        .env("TSYNC_HISTORY", "")
        .env("XDG_STATE_HOME", state.path())
        .args(["history"])
        .run()
        .code(0)
        .stdout_has("no runs recorded in");
    assert!(state.path().join("tsync/history.db").is_file());

    let home = tempfile::tempdir().unwrap();
    Test::new()
        .no_inventory()
        .env("TSYNC_HISTORY", "")
        .env("XDG_STATE_HOME", "")
        .env("HOME", home.path())
        .args(["history"])
        .run()
        .code(0);
    assert!(home.path().join(".local/state/tsync/history.db").is_file());
}

#[test]
fn an_unreachable_host_is_recorded_with_its_error_and_not_as_seen() {
    let mut lab = lab(2);
    lab.stop(1).unwrap();
    let (_dir, db) = temp_db();
    Test::new()
        .env("TSYNC_HISTORY", &db)
        .args(["run", "all"])
        .lab(&lab)
        .args(["--", "true"])
        .run()
        .code(4);
    let runs = history(&db, &[]);
    let hosts = &runs[0]["hosts"];
    assert_eq!(runs[0]["exit_code"], 4);
    assert_eq!(hosts[1]["host"], "lab-2");
    assert_eq!(hosts[1]["outcome"], "unreachable");
    let failure = hosts[1]["failure"].as_str().unwrap();
    assert!(!failure.is_empty() && !failure.contains('\n'), "{failure}");
    let seen = History::open_at(&db)
        .unwrap()
        .last_seen(&["lab-1", "lab-2"])
        .unwrap();
    assert!(
        seen.contains_key("lab-1") && !seen.contains_key("lab-2"),
        "{seen:?}"
    );
}

#[test]
fn a_recorded_rollout_is_drawn_as_a_timeline_naming_every_host() {
    let lab = lab(3);
    std::fs::write(lab.srv(2).join("bad"), "").unwrap();
    let (_dir, db) = temp_db();
    let (_pb, file) = playbook(&format!(
        "stage \"deploy\" {{\n    on \"all\"\n    rolling batch=1 max-fail=1\n    run \"sleep 0.3; {}\"\n}}\n",
        FAILS_ON_BAD.replace('"', "\\\"")
    ));
    Test::new()
        .env("TSYNC_HISTORY", &db)
        .args(["apply"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(3);
    let runs = history(&db, &[]);
    let id = runs[0]["id"].as_i64().unwrap().to_string();
    let out = tempfile::tempdir().unwrap();
    let svg = out.path().join("run.svg");
    Test::new()
        .no_inventory()
        .env("TSYNC_HISTORY", &db)
        .args(["history", "show", &id, "--timeline"])
        .args([&svg])
        .run()
        .code(0);
    let text = std::fs::read_to_string(&svg).unwrap();
    let doc = roxmltree::Document::parse(&text).expect("valid XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    for host in ["lab-1", "lab-2", "lab-3"] {
        assert!(
            doc.descendants()
                .any(|n| n.text().is_some_and(|t| t.contains(host))),
            "{host} is named"
        );
    }
    // Every batch is marked, with its hover text; its label may give way to a neighbour's
    // when a slow start squeezes the batches together.
    assert!(text.contains("batch 2 of 3 starts"), "batches are marked");
    // A run that does not exist draws nothing and says so.
    Test::new()
        .no_inventory()
        .env("TSYNC_HISTORY", &db)
        .args(["history", "show", "999", "--timeline"])
        .args([out.path().join("none.svg")])
        .run()
        .code(2);
    assert!(!out.path().join("none.svg").exists());
}
