//! The file and fleet workflows of playbooks/ (backup, sync-from-one, build-on-least-loaded,
//! health-report, disk-report), applied end to end to labs of real sshd hosts: each one's
//! success, its failure path and its dry run.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::support::{Run, Test, lab, of_kind, playbook, services};
use crate::workflows::{copied, open_up, write};

fn apply(lab: &tsync_lab::Lab, file: &Path, vars: &[String], extra: &[&str]) -> Run {
    let mut test = Test::new().args(["apply", "--output", "json"]).args([file]);
    test = test.args(extra.iter().copied()).lab(lab);
    for var in vars {
        test = test.args(["--var", var]);
    }
    test.run()
}

/// The names of a host's snapshots, oldest first.
fn snapshots(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "latest")
        .collect();
    names.sort();
    names
}

/// Each host's outcome, by host name.
fn outcomes(run: &Run) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = of_kind(&run.events(), "host_finished")
        .iter()
        .map(|e| {
            (
                e["host"].as_str().unwrap().to_string(),
                e["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    found.sort();
    found
}

#[test]
fn backup_snapshots_each_host_with_hard_links_and_keeps_the_newest() {
    let lab = lab(2);
    let dir = tempfile::tempdir().unwrap();
    let file = copied("backup.kdl", dir.path(), &[]);
    let data = format!("{}/data", lab.host_srv(0).display());
    for i in 0..2 {
        write(&lab.srv(i).join("data/a.txt"), &format!("alpha {i}"), 0o644);
        write(
            &lab.srv(i).join("data/sub/b.bin"),
            "b".repeat(5000).as_str(),
            0o644,
        );
        open_up(&lab.srv(i).join("data"));
    }
    let backups = dir.path().join("backups");
    let vars = [format!("path={data}"), "keep=2".to_string()];
    let mirror = |i: usize| backups.join(format!("lab-{i}/latest{data}"));

    apply(&lab, &file, &vars, &["--dry-run"]).code(0);
    assert!(!backups.exists(), "a dry run writes nothing here");

    let run = apply(&lab, &file, &vars, &[]).code(0);
    assert!(run.stdout.contains("2 files, 5007 bytes"), "{}", run.stdout);
    for i in 1..=2 {
        assert_eq!(
            std::fs::read_to_string(mirror(i).join("a.txt")).unwrap(),
            format!("alpha {}", i - 1)
        );
        let taken = snapshots(&backups.join(format!("lab-{i}")));
        assert_eq!(taken.len(), 1, "{taken:?}");
        let snapshot = backups.join(format!("lab-{i}/{}{data}", taken[0]));
        assert_eq!(
            std::fs::read(snapshot.join("sub/b.bin")).unwrap(),
            "b".repeat(5000).as_bytes()
        );
    }

    // A change on lab-1: the new snapshot has it, the old one keeps the old text, and the
    // unchanged file is one file on disk, linked from both.
    write(&lab.srv(0).join("data/a.txt"), "alpha changed", 0o644);
    apply(&lab, &file, &vars, &[]).code(0);
    let host = backups.join("lab-1");
    let taken = snapshots(&host);
    assert_eq!(taken.len(), 2, "{taken:?}");
    let (old, new) = (
        host.join(&taken[0]).join(&data[1..]),
        host.join(&taken[1]).join(&data[1..]),
    );
    assert_eq!(
        std::fs::read_to_string(old.join("a.txt")).unwrap(),
        "alpha 0"
    );
    assert_eq!(
        std::fs::read_to_string(new.join("a.txt")).unwrap(),
        "alpha changed"
    );
    let inode = |p: &Path| std::fs::metadata(p.join("sub/b.bin")).unwrap().ino();
    assert_eq!(inode(&old), inode(&new));

    // keep=2: a third backup drops the oldest.
    apply(&lab, &file, &vars, &[]).code(0);
    let third = snapshots(&host);
    assert_eq!(third.len(), 2);
    assert_eq!(third[0], taken[1]);

    // lab-2 loses its data: it fails with its real error and gets no snapshot; lab-1 is
    // still backed up.
    std::fs::remove_dir_all(lab.srv(1).join("data")).unwrap();
    let before = snapshots(&backups.join("lab-2"));
    let run = apply(&lab, &file, &vars, &[]).code(3);
    assert_eq!(snapshots(&backups.join("lab-2")), before);
    assert_ne!(snapshots(&host), third);
    assert!(
        outcomes(&run).contains(&("lab-2".to_string(), "failed".to_string())),
        "{}",
        run.stdout
    );
}

#[test]
fn sync_from_one_copies_a_directory_to_a_group_and_stops_when_the_source_fails() {
    let lab = lab(3);
    let dir = tempfile::tempdir().unwrap();
    let file = copied("sync-from-one.kdl", dir.path(), &[]);
    let shared = format!("{}/shared", lab.host_srv(0).display());
    write(&lab.srv(0).join("shared/x.txt"), "from the source", 0o604);
    write(&lab.srv(0).join("shared/d/y.txt"), "nested", 0o644);
    write(&lab.srv(2).join("shared/stale.txt"), "old", 0o644);
    for i in 0..3 {
        std::fs::create_dir_all(lab.srv(i).join("shared")).unwrap();
        open_up(&lab.srv(i).join("shared"));
    }
    let vars = |from: &str, path: &str| {
        [
            format!("from={from}"),
            "to=all".to_string(),
            format!("path={path}"),
        ]
    };

    apply(&lab, &file, &vars("lab-1", &shared), &["--dry-run"]).code(0);
    assert!(lab.srv(2).join("shared/stale.txt").exists());
    assert!(!lab.srv(1).join("shared/x.txt").exists());

    apply(&lab, &file, &vars("lab-1", &shared), &[]).code(0);
    for i in 1..3 {
        assert_eq!(
            std::fs::read_to_string(lab.srv(i).join("shared/x.txt")).unwrap(),
            "from the source"
        );
        assert_eq!(
            std::fs::read_to_string(lab.srv(i).join("shared/d/y.txt")).unwrap(),
            "nested"
        );
        let mode = std::fs::metadata(lab.srv(i).join("shared/x.txt"))
            .unwrap()
            .mode();
        assert_eq!(mode & 0o777, 0o604);
    }
    assert!(!lab.srv(2).join("shared/stale.txt").exists(), "delete");

    // A source without the directory: the fetch fails, nothing is pushed.
    let missing = format!("{}/missing", lab.host_srv(0).display());
    let run = apply(&lab, &file, &vars("lab-2", &missing), &[]).code(3);
    let events = run.events();
    assert!(
        !of_kind(&events, "stage_skipped").is_empty(),
        "{}",
        run.stdout
    );
    assert!(lab.srv(2).join("shared/x.txt").exists());
}

#[test]
fn build_on_least_loaded_builds_on_the_idle_builder_and_pulls_the_artifacts() {
    let lab = lab(3);
    let dir = tempfile::tempdir().unwrap();
    let good = copied(
        "build-on-least-loaded.kdl",
        dir.path(),
        &[(
            "run \"make\"",
            "run \"mkdir -p dist && echo built on {{host}} > dist/artifact\"",
        )],
    );
    let (_groups_dir, groups) = playbook("group \"builders\" \"lab-1\" \"lab-2\" \"lab-3\"\n");
    for i in 0..3 {
        std::fs::create_dir_all(lab.srv(i).join("src")).unwrap();
        open_up(&lab.srv(i).join("src"));
        let load = if i == 1 { 0.05 } else { 7.5 };
        lab.set_load(i, (load, load, load)).unwrap();
    }
    let src = format!("src={}/src", lab.host_srv(0).display());
    let inventory = ["--inventory", groups.to_str().unwrap()];

    let run = apply(&lab, &good, std::slice::from_ref(&src), &inventory).code(0);
    let events = run.events();
    let placed = of_kind(&events, "hosts_placed");
    assert_eq!(placed[0]["picked"][0]["host"], "lab-2", "{}", run.stdout);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("artifacts/lab-2/artifact")).unwrap(),
        "built on lab-2\n"
    );

    // A failing build: its exit code and stderr, and nothing pulled.
    let broken = dir.path().join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    let bad = copied(
        "build-on-least-loaded.kdl",
        &broken,
        &[("run \"make\"", "run \"echo 'missing: libfoo' >&2; exit 7\"")],
    );
    let run = Test::new()
        .args(["apply"])
        .args([&bad])
        .args(inventory)
        .lab(&lab)
        .args(["--var", &src])
        .run()
        .code(3);
    assert!(
        run.stdout.contains("exit code 7") || run.stderr.contains("exit code 7"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert!(run.stdout.contains("missing: libfoo") || run.stderr.contains("missing: libfoo"));
    assert!(!broken.join("artifacts").exists());
}

#[test]
fn health_report_lists_who_is_healthy_and_exits_for_cron() {
    let mut lab = lab(3);
    let dir = tempfile::tempdir().unwrap();
    let file = copied("health-report.kdl", dir.path(), &[]);
    let (_services, port) = services(&lab, &[1]);
    let vars = [
        format!("http-port={port}"),
        format!("tcp-port={port}"),
        "http-path=/health".to_string(),
    ];
    // The dry run probes once and shows what it finds, and changes nothing: exit 0.
    apply(&lab, &file, &vars, &["--dry-run"]).code(0);

    let run = apply(&lab, &file, &vars, &[]).code(3);
    assert_eq!(
        outcomes(&run),
        [
            ("lab-1".to_string(), "ok".to_string()),
            ("lab-2".to_string(), "failed".to_string()),
            ("lab-3".to_string(), "ok".to_string()),
        ]
    );
    let human = Test::new().args(["apply"]).args([&file]).lab(&lab);
    let mut human = human;
    for var in &vars {
        human = human.args(["--var", var]);
    }
    let run = human.run().code(3);
    // The recap is the table of who is healthy: both checks passed on lab-1.
    assert!(
        run.stdout
            .lines()
            .any(|l| l.trim_start().starts_with("lab-1")
                && l.contains(" ok ")
                && l.contains("ok=2 ")),
        "{}",
        run.stdout
    );

    std::fs::write(lab.srv(1).join("health"), "200").unwrap();
    apply(&lab, &file, &vars, &[]).code(0);
    // A host that cannot be reached: 4.
    lab.stop(2).unwrap();
    apply(&lab, &file, &vars, &["--connect-timeout", "2s"]).code(4);
}

#[test]
fn disk_report_passes_under_the_limit_and_fails_over_it() {
    let lab = lab(2);
    let dir = tempfile::tempdir().unwrap();
    let file = copied("disk-report.kdl", dir.path(), &[]);
    let run = apply(&lab, &file, &["limit=100".to_string()], &[]).code(0);
    assert!(run.stdout.contains("root at"), "{}", run.stdout);
    apply(
        &lab,
        &file,
        &["limit=-1".to_string(), "hosts=lab-2".to_string()],
        &[],
    )
    .code(3);
}
