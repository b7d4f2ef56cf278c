//! `least-loaded(…)` on real sshd hosts: each lab host shows its own /proc/loadavg and
//! /proc/meminfo, so the test decides which host is the least loaded.

use crate::support::{Test, lab, of_kind, playbook};

/// Makes every host but `idle` busy: a load of twice the cores and 90% of memory in use.
fn all_busy_but(lab: &tsync_lab::Lab, idle: usize) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    for i in 0..lab.hosts().len() {
        if i == idle {
            lab.set_load(i, (0.0, 0.0, 0.0)).unwrap();
            lab.set_mem(i, 8_000_000, 7_200_000).unwrap();
        } else {
            lab.set_load(i, (2.0 * cores, 2.0 * cores, 2.0 * cores))
                .unwrap();
            lab.set_mem(i, 8_000_000, 800_000).unwrap();
        }
    }
}

#[test]
fn run_picks_the_least_loaded_host_and_says_why() {
    let lab = lab(3);
    all_busy_but(&lab, 1);
    let run = Test::new()
        .args(["run", "least-loaded(all)"])
        .lab(&lab)
        .args(["--", "echo ran-here"])
        .run()
        .code(0);
    assert!(
        run.stdout.contains("✓ selected lab-2: lowest load score"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("mem 10% vs avg 63%"), "{}", run.stdout);
    assert!(
        run.stdout.contains("passed over lab-1: load score"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("lab-2 │ ran-here"), "{}", run.stdout);
    assert!(!run.stdout.contains("lab-1 │"), "{}", run.stdout);
    assert!(run.stdout.contains("lab-1  not picked"), "{}", run.stdout);
    assert!(run.stdout.contains("succeeded: 1 host,"), "{}", run.stdout);

    let json = Test::new()
        .args(["run", "least-loaded(all, 2)"])
        .lab(&lab)
        .args(["--output", "json", "--", "true"])
        .run()
        .code(0);
    let events = json.events();
    let placed = of_kind(&events, "hosts_placed");
    assert_eq!(placed.len(), 1);
    let picked: Vec<&str> = placed[0]["picked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["host"].as_str().unwrap())
        .collect();
    assert_eq!(picked[0], "lab-2");
    assert_eq!(picked.len(), 2);
    let ran: Vec<&str> = of_kind(&events, "step_finished")
        .iter()
        .map(|e| e["host"].as_str().unwrap())
        .collect();
    assert_eq!(ran.len(), 2);
    assert!(ran.contains(&"lab-2"));
}

#[test]
fn offline_and_full_hosts_are_passed_over_and_none_left_fails_the_stage() {
    let mut lab = lab(3);
    all_busy_but(&lab, 2);
    // The idlest host is out of memory: it is no candidate, whatever its load.
    lab.set_mem(2, 8_000_000, 100_000).unwrap();
    lab.stop(0).unwrap();
    let run = Test::new()
        .args(["run", "least-loaded(all)"])
        .lab(&lab)
        .args(["--", "echo ran-here"])
        .run()
        .code(0);
    assert!(
        run.stdout
            .contains("✓ selected lab-2: the only candidate left"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("passed over lab-1: unreachable"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("passed over lab-3: memory 99% used"),
        "{}",
        run.stdout
    );

    lab.stop(1).unwrap();
    let none = Test::new()
        .args(["run", "least-loaded(all)"])
        .lab(&lab)
        .args(["--output", "json", "--", "true"])
        .run()
        .code(3);
    let events = none.events();
    let failed = of_kind(&events, "placement_failed");
    assert_eq!(failed.len(), 1);
    let error = failed[0]["error"].as_str().unwrap();
    assert!(
        error.starts_with("no candidate can take the work"),
        "{error}"
    );
    assert!(error.contains("lab-3: memory 99% used"), "{error}");
    assert!(of_kind(&events, "step_started").is_empty());
}

#[test]
fn a_playbook_stage_runs_on_the_least_loaded_host() {
    let lab = lab(3);
    all_busy_but(&lab, 2);
    let (_dir, path) = playbook(
        r#"
        stage "build" {
            on "least-loaded(lab-1, lab-2, lab-3)"
            run "echo building on {{host}}"
        }
        stage "after" {
            needs "build"
            on "lab-1"
            run "true"
        }
        "#,
    );
    let path = path.to_str().unwrap();
    let plan = Test::new().args(["plan", path]).lab(&lab).run().code(0);
    assert!(
        plan.stdout.contains("runs on the one least loaded of them"),
        "{}",
        plan.stdout
    );
    let run = Test::new().args(["apply", path]).lab(&lab).run().code(0);
    assert!(run.stdout.contains("✓ selected lab-3"), "{}", run.stdout);
    assert!(
        run.stdout.contains("lab-3 │ building on lab-3"),
        "{}",
        run.stdout
    );
    // A dry run measures and picks too, and changes nothing.
    let dry = Test::new()
        .args(["apply", path, "--dry-run"])
        .lab(&lab)
        .run()
        .code(0);
    assert!(dry.stdout.contains("✓ selected lab-3"), "{}", dry.stdout);
}

#[test]
fn picking_by_load_where_it_means_nothing_is_invalid_input() {
    let lab = lab(1);
    let (_dir, path) = playbook(
        r#"
        stage "two-ways" {
            on "least-loaded(all)"
            on "lab-1"
            run "true"
        }
        stage "rolled" {
            on "least-loaded(all, 2)"
            rolling batch=1
            run "true"
        }
        "#,
    );
    let check = Test::new()
        .args(["check", path.to_str().unwrap()])
        .lab(&lab)
        .run()
        .code(2);
    assert!(
        check
            .stderr
            .contains("stage `two-ways` picks its hosts by load and also another way"),
        "{}",
        check.stderr
    );
    assert!(
        check
            .stderr
            .contains("stage `rolled` picks its hosts by load and also another way"),
        "{}",
        check.stderr
    );
    Test::new()
        .args(["run", "all"])
        .lab(&lab)
        .args(["--limit", "least-loaded(all)", "--", "true"])
        .run()
        .code(2)
        .stderr_has("`--limit` cannot pick hosts by load");
    Test::new()
        .args(["status", "least-loaded(all)"])
        .lab(&lab)
        .run()
        .code(2)
        .stderr_has("`status` shows every host it selects");
    Test::new()
        .args(["run", "lab-1, least-loaded(all)"])
        .lab(&lab)
        .args(["--", "true"])
        .run()
        .code(2)
        .stderr_has("`least-loaded(…)` must be the whole selector");
}

/// The disk figures in the history database `db`, by host: used share and age in seconds.
fn recorded_disks(db: &std::path::Path) -> Vec<(String, f64, i64)> {
    let db = rusqlite::Connection::open(db).unwrap();
    let mut query = db
        .prepare(
            "SELECT host, used, (strftime('%s') * 1000 - measured_ms) / 1000 FROM disks
             ORDER BY host",
        )
        .unwrap();
    query
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn a_recent_disk_figure_spares_the_probe_its_df_and_an_old_one_is_measured_again() {
    let lab = lab(2);
    all_busy_but(&lab, 1);
    let home = tempfile::tempdir().unwrap();
    let db = home.path().join("history.db");
    let place = || {
        Test::new()
            .env("TSYNC_HISTORY", &db)
            .args(["run", "least-loaded(all)"])
            .lab(&lab)
            .args(["--", "true"])
            .run()
    };
    // Nothing recorded: every candidate's disk is measured, and kept.
    let first = place().code(0);
    assert!(
        first.stdout.contains("✓ selected lab-2"),
        "{}",
        first.stdout
    );
    let disks = recorded_disks(&db);
    assert_eq!(disks.len(), 2, "{disks:?}");
    assert!(
        disks
            .iter()
            .all(|(_, used, age)| *used <= 0.95 && *age < 60)
    );

    // A recent figure is taken as it is: the idle host's disk, recorded as full, puts it out.
    let history = rusqlite::Connection::open(&db).unwrap();
    history
        .execute("UPDATE disks SET used = 0.99 WHERE host = 'lab-2'", [])
        .unwrap();
    let second = place().code(0);
    assert!(
        second.stdout.contains("passed over lab-2: disk 99% used"),
        "{}",
        second.stdout
    );
    assert!(
        second.stdout.contains("✓ selected lab-1"),
        "{}",
        second.stdout
    );

    // Older than ten minutes, it is measured again, and the host is a candidate once more.
    history
        .execute(
            "UPDATE disks SET measured_ms = measured_ms - 11 * 60 * 1000 WHERE host = 'lab-2'",
            [],
        )
        .unwrap();
    let third = place().code(0);
    assert!(
        third.stdout.contains("✓ selected lab-2"),
        "{}",
        third.stdout
    );
    let disks = recorded_disks(&db);
    assert!(
        disks
            .iter()
            .any(|(host, used, age)| host == "lab-2" && *used <= 0.95 && *age < 60),
        "{disks:?}"
    );

    // `tsync status` records the disks too.
    let other = tempfile::tempdir().unwrap();
    let fresh = other.path().join("history.db");
    Test::new()
        .env("TSYNC_HISTORY", &fresh)
        .args(["status"])
        .lab(&lab)
        .run()
        .code(0);
    assert_eq!(recorded_disks(&fresh).len(), 2);
}
