//! Warm connections: `--persist` keeps each host's master after the run, the next run uses
//! it instead of a new handshake, a dead one is replaced silently, and `tsync disconnect`
//! closes them.

use crate::support::{Test, lab, processes_mentioning};

/// The pids of the masters kept under `runtime`.
fn masters(runtime: &std::path::Path) -> Vec<String> {
    let needle = runtime.join("tsync").display().to_string();
    let mut found: Vec<String> = processes_mentioning(&needle)
        .into_iter()
        .filter(|line| line.starts_with("ssh "))
        .collect();
    found.sort();
    found
}

/// `tsync run all -- echo ok` with `flags`, `TSYNC_PERSIST` set to `persist` if given.
fn run_true(
    lab: &tsync_lab::Lab,
    runtime: &std::path::Path,
    persist: Option<&str>,
    flags: &[&str],
) -> Test {
    let mut test = Test::new().env("XDG_RUNTIME_DIR", runtime);
    if let Some(persist) = persist {
        test = test.env("TSYNC_PERSIST", persist);
    }
    test.args(["run", "all", "--output", "json"])
        .args(flags)
        .lab(lab)
        .args(["--", "echo ok"])
}

#[test]
fn kept_masters_are_reused_then_closed() {
    let lab = lab(2);
    let runtime = tempfile::tempdir().unwrap();
    run_true(&lab, runtime.path(), None, &["--persist", "60s"])
        .run()
        .code(0);
    let first = masters(runtime.path());
    assert_eq!(first.len(), 2, "{first:?}");

    // The setting in the environment does the same; the very same masters serve the run.
    run_true(&lab, runtime.path(), Some("60s"), &[])
        .run()
        .code(0);
    assert_eq!(masters(runtime.path()), first);

    // `status` asks over them too.
    Test::new()
        .env("XDG_RUNTIME_DIR", runtime.path())
        .env("TSYNC_PERSIST", "60s")
        .args(["status"])
        .lab(&lab)
        .run()
        .code(0);
    assert_eq!(masters(runtime.path()), first);

    // A run without it opens its own connections and leaves the kept ones alone.
    run_true(&lab, runtime.path(), None, &[]).run().code(0);
    assert_eq!(masters(runtime.path()), first);

    Test::new()
        .env("XDG_RUNTIME_DIR", runtime.path())
        .no_inventory()
        .args(["disconnect"])
        .run()
        .code(0)
        .stdout_has("closed 2 kept connections");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(masters(runtime.path()), Vec::<String>::new());
}

#[test]
fn a_dead_master_is_replaced_without_a_word() {
    let lab = lab(2);
    let runtime = tempfile::tempdir().unwrap();
    run_true(&lab, runtime.path(), Some("60s"), &[])
        .run()
        .code(0);
    let needle = runtime.path().join("tsync").display().to_string();
    let killed = std::process::Command::new("pkill")
        .args(["-KILL", "-f", &needle])
        .status()
        .unwrap();
    assert!(killed.success());
    std::thread::sleep(std::time::Duration::from_millis(200));
    let run = run_true(&lab, runtime.path(), Some("60s"), &[])
        .run()
        .code(0);
    assert!(!run.stdout.contains("warning"), "{}", run.stdout);
    assert_eq!(masters(runtime.path()).len(), 2);
    // Only the selected host's master is closed.
    Test::new()
        .env("XDG_RUNTIME_DIR", runtime.path())
        .args(["disconnect", "lab-1"])
        .lab(&lab)
        .run()
        .code(0)
        .stdout_has("closed 1 kept connection");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(masters(runtime.path()).len(), 1);
    Test::new()
        .env("XDG_RUNTIME_DIR", runtime.path())
        .no_inventory()
        .args(["disconnect"])
        .run()
        .code(0);
}
