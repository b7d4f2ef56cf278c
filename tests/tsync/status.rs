//! `tsync status` against real sshd hosts: each lab host has its own /proc/loadavg and
//! /proc/meminfo, so the numbers it shows are the ones the test set.

use crate::support::{Test, lab, signal};

fn host<'a>(json: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    json["hosts"]
        .as_array()
        .expect("hosts")
        .iter()
        .find(|h| h["host"] == name)
        .unwrap_or_else(|| panic!("{name} is in {json}"))
}

fn cores() -> u64 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as u64)
}

#[test]
fn each_hosts_load_and_memory_are_the_ones_it_has() {
    let lab = lab(3);
    lab.set_load(0, (1.5, 1.25, 1.0)).unwrap();
    lab.set_mem(0, 8_000_000, 2_000_000).unwrap();
    lab.set_load(1, (0.25, 0.5, 0.75)).unwrap();
    lab.set_mem(1, 4_000_000, 3_000_000).unwrap();
    let run = Test::new()
        .args(["status"])
        .lab(&lab)
        .args(["--output", "json"])
        .run()
        .code(0);
    let json = run.json();
    assert_eq!(json["online"], 3);
    let first = host(&json, "lab-1");
    assert_eq!(first["online"], true);
    assert_eq!(first["load"]["load"], serde_json::json!([1.5, 1.25, 1.0]));
    assert_eq!(first["load"]["mem_used"], 0.75);
    assert_eq!(first["load"]["mem_total_bytes"], 8_000_000u64 * 1024);
    assert_eq!(first["load"]["cpus"], cores());
    assert_eq!(first["load"]["os"], "Linux");
    let second = host(&json, "lab-2");
    assert_eq!(second["load"]["load"], serde_json::json!([0.25, 0.5, 0.75]));
    assert_eq!(second["load"]["mem_used"], 0.25);
    for h in json["hosts"].as_array().unwrap() {
        // Loopback: both latencies are there and small; the disk is the machine's own.
        assert!(h["tcp_connect_ms"].as_f64().unwrap() < 1000.0, "{h}");
        assert!(h["round_trip_ms"].as_f64().unwrap() < 1000.0, "{h}");
        let disk = h["load"]["disk_used"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&disk), "{h}");
        let busy = h["load"]["cpu_busy"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&busy), "{h}");
        assert!(h["score"]["total"].as_f64().unwrap() > 0.0, "{h}");
    }
    // The busier host scores worse: its load and memory both are higher.
    assert!(first["score"]["total"].as_f64() > second["score"]["total"].as_f64());

    let table = Test::new().args(["status"]).lab(&lab).run().code(0);
    let line = table
        .stdout
        .lines()
        .find(|l| l.starts_with("lab-1"))
        .expect("a row for lab-1");
    assert!(line.contains(&format!("1.50/{}", cores())), "{line}");
    assert!(line.contains("75%"), "{line}");
    assert!(line.contains("online"), "{line}");
    assert!(
        table.stdout.contains("3 of 3 hosts online"),
        "{}",
        table.stdout
    );
}

#[test]
fn a_stopped_host_is_offline_and_the_exit_code_says_so() {
    let mut lab = lab(2);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("history.db");
    // Both answer once: the history remembers when.
    Test::new()
        .env("TSYNC_HISTORY", &db)
        .args(["status"])
        .lab(&lab)
        .run()
        .code(0);
    lab.stop(1).unwrap();
    let run = Test::new()
        .env("TSYNC_HISTORY", &db)
        .args(["status"])
        .lab(&lab)
        .args(["--output", "json"])
        .run()
        .code(4);
    let json = run.json();
    assert_eq!(json["online"], 1);
    let down = host(&json, "lab-2");
    assert_eq!(down["online"], false);
    assert!(
        down["error"].as_str().unwrap().contains("refused"),
        "{down}"
    );
    assert!(down.get("load").is_none(), "{down}");
    // Its last sight is the first status, from the history.
    assert!(down["last_seen"].is_string(), "{down}");
    let table = Test::new()
        .env("TSYNC_HISTORY", &db)
        .args(["status"])
        .lab(&lab)
        .run()
        .code(4);
    let row = table
        .stdout
        .lines()
        .find(|l| l.starts_with("lab-2"))
        .expect("a row for lab-2");
    assert!(row.contains("s ago"), "{row}");
    // Each status is a run in the history, with how each host answered.
    let runs = Test::new()
        .no_inventory()
        .env("TSYNC_HISTORY", &db)
        .args(["history", "--output", "json"])
        .run()
        .code(0)
        .json();
    assert_eq!(runs[0]["kind"], "status");
    assert_eq!(runs[0]["exit_code"], 4);
    // Selecting only the host that answers is a success.
    Test::new()
        .args(["status", "lab-1"])
        .lab(&lab)
        .run()
        .code(0);
}

#[test]
fn a_frozen_host_is_cut_off_by_the_timeout() {
    let mut lab = lab(2);
    lab.freeze(0).unwrap();
    let run = Test::new()
        .args(["status"])
        .lab(&lab)
        .args(["--timeout", "2s", "--output", "json"])
        .run()
        .code(4);
    let json = run.json();
    let frozen = host(&json, "lab-1");
    assert_eq!(frozen["online"], false);
    let error = frozen["error"].as_str().unwrap();
    assert!(error.contains("timed out"), "{error}");
    // The other host is asked at the same time, not after (whether it answers within 2s
    // on a machine busy with parallel tests is not this test's question).
    assert_eq!(json["total"], 2);
    lab.thaw(0).unwrap();
}

#[test]
fn tailscales_view_is_shown_beside_the_ssh_truth() {
    let mut lab = lab(2);
    lab.stop(1).unwrap();
    // The real-format fixture, its peers web-1 and web-2 renamed to the lab's hosts: both
    // are online in Tailscale, but lab-2's sshd is down.
    let status = std::fs::read_to_string(crate::support::fixture("tailscale/status.json"))
        .unwrap()
        .replace("web-1", "lab-1")
        .replace("web-2", "lab-2");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("status.json");
    std::fs::write(&file, status).unwrap();
    let run = Test::new()
        .args(["status", "lab-1,lab-2"])
        .tailscale_status(file.to_str().unwrap())
        .lab(&lab)
        .args(["--output", "json"])
        .run()
        .code(4);
    let json = run.json();
    let up = host(&json, "lab-1");
    assert_eq!(up["online"], true);
    assert_eq!(up["tailscale"]["online"], true);
    assert_eq!(up["tailscale"]["path"], "direct 203.0.113.10:41641");
    let down = host(&json, "lab-2");
    assert_eq!(down["online"], false);
    assert_eq!(down["tailscale"]["online"], true);
    assert_eq!(down["tailscale"]["path"], "relay fra");

    let table = Test::new()
        .args(["status", "lab-1,lab-2"])
        .tailscale_status(file.to_str().unwrap())
        .lab(&lab)
        .run()
        .code(4);
    let row = table
        .stdout
        .lines()
        .find(|l| l.starts_with("lab-2"))
        .expect("a row for lab-2");
    assert!(
        row.contains("offline (tailscale: online, relay fra)"),
        "{row}"
    );
}

#[test]
fn watch_refreshes_until_interrupted() {
    let lab = lab(1);
    let (mut child, _home) = Test::new()
        .args(["status"])
        .lab(&lab)
        .args(["--watch", "200ms", "--output", "json"])
        .spawn();
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    // Three refreshes, each one JSON document on its own line.
    for _ in 0..3 {
        let line = lines.next().expect("a refresh").expect("readable");
        let json: serde_json::Value = serde_json::from_str(&line).expect("JSON");
        assert_eq!(json["online"], 1);
    }
    // The signal may land while a round is being asked, not only between rounds.
    signal(&child, "INT");
    // Keep reading, so a refresh written after the signal cannot block the child on a full
    // pipe; the stream ends when the child exits.
    for line in lines {
        line.expect("readable");
    }
    assert_eq!(child.wait().unwrap().code(), Some(130));
}

#[test]
fn ctrl_c_while_hosts_are_being_asked_ends_the_watch() {
    let mut lab = lab(2);
    lab.freeze(0).unwrap();
    let (mut child, _home) = Test::new()
        .args(["status"])
        .lab(&lab)
        .args(["--watch", "1s", "--timeout", "3s", "--output", "json"])
        .spawn();
    // The first round waits up to 3 s for the frozen host: the signal lands inside it.
    std::thread::sleep(std::time::Duration::from_millis(1000));
    signal(&child, "INT");
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().expect("stdout"), &mut out)
        .expect("readable");
    assert_eq!(child.wait().unwrap().code(), Some(130), "{out}");
    // Interrupted before the round finished: nothing half-surveyed is printed.
    assert!(out.is_empty(), "{out}");
    lab.thaw(0).unwrap();
}
