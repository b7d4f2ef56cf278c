//! File sync through the CLI (`tsync push` / `tsync pull`) against real lab hosts: what lands
//! on each host byte for byte, what a rerun sends, deletes, trailing slashes, odd names, an
//! interrupted transfer and a full disk.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use crate::support::{Test, of_kind};

/// Writes `contents` at `dir/rel` (creating folders) with `mode` and an mtime in whole
/// seconds, `secs` after the epoch.
fn write(dir: &Path, rel: &str, contents: &[u8], mode: u32, secs: u64) {
    let path = dir.join(rel);
    fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    fs::write(&path, contents).expect("write");
    fs::set_permissions(&path, fs::Permissions::from_mode(mode)).expect("chmod");
    let file = fs::File::options().write(true).open(&path).expect("open");
    file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
        .expect("set mtime");
}

/// A small tree: files of several modes, a nested directory, an empty one and symlinks
/// (one dangling, one pointing outside the tree).
fn sample_tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("app");
    write(&root, "README", b"hello\n", 0o644, 1_600_000_000);
    write(
        &root,
        "bin/run",
        b"#!/bin/sh\necho run\n",
        0o755,
        1_600_000_100,
    );
    write(&root, "conf/secret", b"s3cret", 0o600, 1_600_000_200);
    write(&root, "data/blob", &[7u8; 300_000], 0o644, 1_600_000_300);
    fs::create_dir_all(root.join("empty")).expect("mkdir");
    symlink("README", root.join("readme-link")).expect("symlink");
    symlink("/etc/hostname", root.join("outside")).expect("symlink");
    symlink("missing", root.join("dangling")).expect("symlink");
    // A directory as old as its files, which a sync must carry like theirs.
    fs::File::open(root.join("data"))
        .and_then(|d| d.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_400)))
        .expect("set a directory's mtime");
    dir
}

/// Whole seconds since the epoch of an entry's mtime.
fn secs(m: &fs::Metadata) -> u64 {
    m.modified()
        .expect("mtime")
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after the epoch")
        .as_secs()
}

/// Asserts that `remote` holds exactly what `local` holds: bytes, modes and whole-second
/// mtimes of files and directories, symlink targets (not followed).
#[track_caller]
fn assert_same_tree(local: &Path, remote: &Path) {
    let mut local_names: Vec<_> = fs::read_dir(local)
        .expect("read local")
        .map(|e| e.expect("entry").file_name())
        .collect();
    let mut remote_names: Vec<_> = fs::read_dir(remote)
        .unwrap_or_else(|e| panic!("reading {}: {e}", remote.display()))
        .map(|e| e.expect("entry").file_name())
        .filter(|n| !n.to_string_lossy().contains(".tsync-tmp-"))
        .collect();
    local_names.sort();
    remote_names.sort();
    assert_eq!(local_names, remote_names, "entries of {}", remote.display());
    for name in local_names {
        let (l, r) = (local.join(&name), remote.join(&name));
        let (lm, rm) = (
            fs::symlink_metadata(&l).expect("local"),
            fs::symlink_metadata(&r).expect("remote"),
        );
        if lm.file_type().is_symlink() {
            assert!(rm.file_type().is_symlink(), "{} is a symlink", r.display());
            assert_eq!(fs::read_link(&l).ok(), fs::read_link(&r).ok());
        } else if lm.is_dir() {
            assert!(rm.is_dir(), "{} is a directory", r.display());
            assert_same_tree(&l, &r);
            assert_eq!(
                lm.permissions().mode() & 0o7777,
                rm.permissions().mode() & 0o7777
            );
            assert_eq!(secs(&lm), secs(&rm), "mtime of {}", r.display());
        } else {
            assert!(rm.is_file(), "{} is a file", r.display());
            assert_eq!(fs::read(&l).ok(), fs::read(&r).ok(), "{}", r.display());
            assert_eq!(
                lm.permissions().mode() & 0o7777,
                rm.permissions().mode() & 0o7777
            );
            assert_eq!(secs(&lm), secs(&rm), "mtime of {}", r.display());
        }
    }
}

/// Temp files a sync left in `dir` or below.
fn temp_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_name().to_string_lossy().contains(".tsync-tmp-") {
            found.push(path);
        } else if entry.file_type().is_ok_and(|t| t.is_dir()) {
            found.extend(temp_files(&path));
        }
    }
    found
}

/// `files_sent` of every `sync_finished` event.
fn files_sent(events: &[serde_json::Value]) -> Vec<u64> {
    of_kind(events, "sync_finished")
        .iter()
        .map(|e| e["files_sent"].as_u64().expect("files_sent"))
        .collect()
}

fn push(lab: &tsync_lab::Lab, local: &Path, remote: &str, extra: &[&str]) -> Test {
    Test::new()
        .args(["push", "all"])
        .args([local.as_os_str(), remote.as_ref()])
        .args(extra)
        .lab(lab)
}

#[test]
fn a_push_lands_everything_and_a_rerun_sends_only_what_changed() {
    let lab = crate::support::lab(3);
    let tree = sample_tree();
    let app = tree.path().join("app");
    let run = push(&lab, &app, "/srv/app", &["--output", "json"])
        .run()
        .code(0);
    // Four regular files; whether the three symlinks count as sent is the engine's call.
    let sent = files_sent(&run.events());
    assert!(sent.len() == 3 && sent.iter().all(|&n| n >= 4), "{sent:?}");
    for i in 0..3 {
        assert_same_tree(&app, &lab.srv(i).join("app"));
    }
    let again = push(&lab, &app, "/srv/app", &["--output", "json"])
        .run()
        .code(0);
    let events = again.events();
    assert_eq!(files_sent(&events), [0, 0, 0]);
    assert!(
        of_kind(&events, "step_finished")
            .iter()
            .all(|e| e["changed"] == false)
    );
    write(&app, "conf/secret", b"n3w", 0o600, 1_700_000_000);
    let one = push(&lab, &app, "/srv/app", &["--output", "json"])
        .run()
        .code(0);
    assert_eq!(files_sent(&one.events()), [1, 1, 1]);
    for i in 0..3 {
        assert_same_tree(&app, &lab.srv(i).join("app"));
    }
}

#[test]
fn delete_removes_extras_but_not_excluded_paths() {
    let lab = crate::support::lab(1);
    let tree = sample_tree();
    let app = tree.path().join("app");
    push(&lab, &app, "/srv/app", &[]).run().code(0);
    let remote = lab.srv(0).join("app");
    write(&remote, "extra.txt", b"x", 0o666, 1_600_000_000);
    write(&remote, "keep.log", b"x", 0o666, 1_600_000_000);
    push(&lab, &app, "/srv/app", &["--delete", "--exclude", "*.log"])
        .run()
        .code(0);
    assert!(!remote.join("extra.txt").exists());
    assert!(remote.join("keep.log").exists());
    fs::remove_file(remote.join("keep.log")).expect("rm");
    assert_same_tree(&app, &remote);
}

#[test]
fn a_trailing_slash_never_nests_the_directory() {
    let lab = crate::support::lab(1);
    let tree = sample_tree();
    let app = tree.path().join("app");
    for (local, remote) in [
        (format!("{}/", app.display()), "/srv/x/app"),
        (app.display().to_string(), "/srv/y/app"),
        (app.display().to_string(), "/srv/z/app/"),
    ] {
        push(&lab, Path::new(&local), remote, &[]).run().code(0);
        let landed = lab.srv(0).join(remote.trim_start_matches("/srv/"));
        assert!(
            !landed.join("app").exists(),
            "{local} to {remote} nested app/app"
        );
        assert_same_tree(&app, &landed);
    }
    // Missing parents are made, like `mkdir -p`; a parent that is a file is an error.
    fs::write(lab.srv(0).join("file"), "x").unwrap();
    let refused = push(&lab, &app, "/srv/file/app", &[]).run().code(3);
    assert!(
        refused.stdout.contains("/srv/file is not a directory"),
        "{}",
        refused.stdout
    );
}

#[test]
fn pull_lands_each_host_in_its_own_directory() {
    let lab = crate::support::lab(2);
    for i in 0..2 {
        write(
            &lab.srv(i),
            "logs/app.log",
            format!("host {i}\n").as_bytes(),
            0o666,
            1_600_000_000,
        );
        fs::set_permissions(lab.srv(i).join("logs"), fs::Permissions::from_mode(0o777))
            .expect("chmod");
    }
    let into = tempfile::tempdir().expect("temp dir");
    Test::new()
        .args(["pull", "all", "/srv/logs"])
        .args([into.path()])
        .lab(&lab)
        .run()
        .code(0);
    for i in 0..2 {
        let got = fs::read_to_string(into.path().join(format!("lab-{}/app.log", i + 1)));
        assert_eq!(got.expect("pulled"), format!("host {i}\n"));
    }
}

#[test]
fn odd_names_and_an_empty_directory_land_as_they_are() {
    let lab = crate::support::lab(1);
    let tree = tempfile::tempdir().expect("temp dir");
    let root = tree.path().join("odd");
    for name in [
        "with space",
        "new\nline",
        "ünïcødé ✓",
        "-rf",
        "--delete",
        "'quote\"",
    ] {
        write(&root, name, name.as_bytes(), 0o644, 1_600_000_000);
    }
    fs::create_dir_all(root.join("-empty dir")).expect("mkdir");
    push(&lab, &root, "/srv/odd", &[]).run().code(0);
    assert_same_tree(&root, &lab.srv(0).join("odd"));
}

#[test]
fn an_empty_directory_pushed_to_a_new_target_makes_it_and_a_rerun_changes_nothing() {
    let lab = crate::support::lab(1);
    let tree = tempfile::tempdir().expect("temp dir");
    let empty = tree.path().join("empty");
    fs::create_dir(&empty).expect("mkdir");
    let dry = push(&lab, &empty, "/srv/new/deep", &["--dry-run"])
        .run()
        .code(0);
    assert!(
        dry.stdout.lines().any(|l| l.trim() == "+ ./"),
        "{}",
        dry.stdout
    );
    assert!(!lab.srv(0).join("new").exists());
    let changed = |run: &crate::support::Run| {
        of_kind(&run.events(), "step_finished")
            .iter()
            .all(|e| e["changed"] == true)
    };
    let run = push(&lab, &empty, "/srv/new/deep", &["--output", "json"])
        .run()
        .code(0);
    assert!(changed(&run));
    assert!(lab.srv(0).join("new/deep").is_dir());
    let again = push(&lab, &empty, "/srv/new/deep", &["--output", "json"])
        .run()
        .code(0);
    assert!(!changed(&again));
}

#[test]
fn ten_thousand_small_files_sync_in_bounded_time() {
    let lab = crate::support::lab(1);
    let tree = tempfile::tempdir().expect("temp dir");
    let root = tree.path().join("many");
    for n in 0..10_000 {
        write(
            &root,
            &format!("d{}/f{n}", n % 100),
            n.to_string().as_bytes(),
            0o644,
            1_600_000_000,
        );
    }
    let started = Instant::now();
    let run = push(&lab, &root, "/srv/many", &["--output", "json"])
        .run()
        .code(0);
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(files_sent(&run.events()), [10_000]);
    assert_same_tree(&root, &lab.srv(0).join("many"));
}

#[test]
fn a_dry_run_lists_changes_and_touches_nothing() {
    let lab = crate::support::lab(1);
    let tree = sample_tree();
    let app = tree.path().join("app");
    push(&lab, &app, "/srv/app", &[]).run().code(0);
    let remote = lab.srv(0).join("app");
    write(&remote, "extra.txt", b"x", 0o666, 1_600_000_000);
    write(&app, "README", b"changed\n", 0o644, 1_700_000_000);
    write(&app, "added", b"new\n", 0o644, 1_700_000_000);
    let run = push(&lab, &app, "/srv/app", &["--delete", "--dry-run"])
        .run()
        .code(0);
    let lines = |mark: char, name: &str| {
        run.stdout
            .lines()
            .any(|l| l.contains(name) && l.trim_start().contains(mark))
    };
    assert!(lines('+', "added"), "{}", run.stdout);
    assert!(lines('~', "README"), "{}", run.stdout);
    assert!(lines('-', "extra.txt"), "{}", run.stdout);
    assert!(!remote.join("added").exists());
    assert!(remote.join("extra.txt").exists());
    assert_eq!(fs::read(remote.join("README")).expect("README"), b"hello\n");
}

/// Starts a push of `root` to /srv/big, waits until a temp file or staging directory shows
/// up in `watched`, then kills the host's sshd (the connection drops) and Ctrl-Cs tsync.
fn kill_mid_transfer(lab: &mut tsync_lab::Lab, root: &Path, watched: &Path) {
    let (mut child, _home) = push(lab, root, "/srv/big", &[]).spawn();
    let deadline = Instant::now() + Duration::from_secs(30);
    while temp_files(watched).is_empty() {
        assert!(Instant::now() < deadline, "no transfer started");
        std::thread::sleep(Duration::from_millis(20));
    }
    lab.stop(0).expect("kill the connection");
    let pid = i32::try_from(child.id()).expect("a pid");
    // SAFETY: kill has no memory preconditions; the pid is our own child's.
    unsafe { libc::kill(pid, libc::SIGINT) };
    let status = child.wait().expect("tsync exits");
    assert!(!status.success());
    lab.restart(0).expect("restart the host");
}

#[test]
fn a_killed_transfer_leaves_no_partial_file_and_a_rerun_converges() {
    let mut lab = crate::support::lab(1);
    let tree = tempfile::tempdir().expect("temp dir");
    let root = tree.path().join("big");
    let old = vec![0x5a; 200 * 1024 * 1024];
    write(&root, "file", &old, 0o644, 1_600_000_000);
    let srv = lab.srv(0);
    let remote = srv.join("big");
    // A push into a missing directory is one stream into a staging directory beside it:
    // cut short, the target never appears.
    kill_mid_transfer(&mut lab, &root, &srv);
    assert!(!remote.exists(), "a partial tree at the target");
    push(&lab, &root, "/srv/big", &[]).run().code(0);
    assert_same_tree(&root, &remote);
    assert_eq!(
        temp_files(&srv),
        Vec::<PathBuf>::new(),
        "stale staging left"
    );
    // A push over an existing tree writes each file under a temp name: cut short, the old
    // file stays whole.
    write(
        &root,
        "file",
        &[0x33; 150 * 1024 * 1024],
        0o644,
        1_600_000_100,
    );
    kill_mid_transfer(&mut lab, &root, &remote);
    assert!(
        fs::read(remote.join("file")).expect("the old file") == old,
        "a partial file"
    );
    push(&lab, &root, "/srv/big", &[]).run().code(0);
    assert_same_tree(&root, &remote);
    assert_eq!(temp_files(&srv), Vec::<PathBuf>::new());
}

#[test]
fn a_full_disk_fails_its_host_clearly_and_leaves_no_partial_file() {
    let lab = tsync_lab::Lab::start(tsync_lab::LabOptions {
        hosts: 2,
        per_host: vec![tsync_lab::HostOptions {
            small_disk: Some(1024 * 1024),
            ..Default::default()
        }],
        ..Default::default()
    })
    .expect("the lab starts");
    let disk = lab.small_disk(0).expect("a full lab");
    let tree = tempfile::tempdir().expect("temp dir");
    let root = tree.path().join("d");
    write(&root, "big", &[1u8; 3 * 1024 * 1024], 0o644, 1_600_000_000);
    let remote = format!("{}/d", disk.display());
    let run = push(&lab, &root, &remote, &[]).run().code(3);
    let says_space = run
        .stdout
        .lines()
        .chain(run.stderr.lines())
        .any(|l| l.contains("lab-1") && l.contains("space"));
    assert!(says_space, "{}\n{}", run.stdout, run.stderr);
    let here = lab.small_disk_here(0).expect("host 1 runs").join("d");
    assert!(!here.join("big").exists());
    assert!(lab.srv(1).join("small/d/big").exists());
}

#[test]
fn a_host_whose_find_cannot_list_is_read_over_sftp() {
    let lab = tsync_lab::Lab::start(tsync_lab::LabOptions {
        hosts: 1,
        per_host: vec![tsync_lab::HostOptions {
            find_without_printf: true,
            ..Default::default()
        }],
        ..Default::default()
    })
    .expect("the lab starts");
    Test::new()
        .args(["run", "all"])
        .lab(&lab)
        .args(["--", "find /srv -maxdepth 0 -printf x"])
        .run()
        .code(3)
        .stdout_has("unrecognized: -printf");
    let tree = sample_tree();
    let app = tree.path().join("app");
    push(&lab, &app, "/srv/app", &[]).run().code(0);
    assert_same_tree(&app, &lab.srv(0).join("app"));
    // The walk sees what landed, links and modes included: nothing is sent again.
    let again = push(&lab, &app, "/srv/app", &["--output", "json"])
        .run()
        .code(0);
    assert_eq!(files_sent(&again.events()), [0]);
    let into = tempfile::tempdir().expect("temp dir");
    let into_text = into.path().display().to_string();
    Test::new()
        .args(["pull", "all", "/srv/app", &into_text])
        .lab(&lab)
        .run()
        .code(0);
    assert_same_tree(&app, &into.path().join("lab-1"));
}

#[test]
fn a_push_into_a_new_directory_clears_stale_staging_and_a_host_without_tar_gets_it_over_sftp() {
    let lab = tsync_lab::Lab::start(tsync_lab::LabOptions {
        hosts: 2,
        per_host: vec![
            tsync_lab::HostOptions::default(),
            tsync_lab::HostOptions {
                without_tar: true,
                ..Default::default()
            },
        ],
        ..Default::default()
    })
    .expect("the lab starts");
    Test::new()
        .args(["run", "lab-2"])
        .lab(&lab)
        .args(["--", "tar --version"])
        .run()
        .code(3)
        .stdout_has("tar: not found");
    let tree = sample_tree();
    let app = tree.path().join("app");
    // What an interrupted stream leaves: a staging directory beside the target, the
    // login's own.
    Test::new()
        .args(["run", "lab-1"])
        .lab(&lab)
        .args(["--", "mkdir -p /srv/.app.tsync-tmp-0123abcd/half && echo x > /srv/.app.tsync-tmp-0123abcd/half/blob"])
        .run()
        .code(0);
    let run = push(&lab, &app, "/srv/app", &["--output", "json"])
        .run()
        .code(0);
    assert_eq!(files_sent(&run.events()), [4, 4]);
    for i in 0..2 {
        assert_same_tree(&app, &lab.srv(i).join("app"));
        assert_eq!(temp_files(&lab.srv(i)), Vec::<PathBuf>::new());
    }
    let again = push(&lab, &app, "/srv/app", &["--output", "json"])
        .run()
        .code(0);
    assert_eq!(files_sent(&again.events()), [0, 0]);
    // Left beside a target that exists by now: a dry run keeps it, a real run removes it.
    let stale = lab.srv(0).join(".app.tsync-tmp-89abcdef");
    Test::new()
        .args(["run", "lab-1"])
        .lab(&lab)
        .args(["--", "mkdir -p /srv/.app.tsync-tmp-89abcdef/half"])
        .run()
        .code(0);
    push(&lab, &app, "/srv/app", &["--dry-run"]).run().code(0);
    assert!(stale.exists());
    push(&lab, &app, "/srv/app", &[]).run().code(0);
    assert!(!stale.exists());
    assert!(lab.srv(0).join("app/README").exists());
}
