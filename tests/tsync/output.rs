//! Where run output goes: nothing lost, memory flat however much the hosts print, and a
//! closed or full output ends tsync cleanly.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::{Test, fixture, lab, playbook};

/// tsync with a fresh HOME, for the tests that need to choose where its stdout goes.
fn tsync(home: &tempfile::TempDir) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tsync"));
    command
        .current_dir(crate::support::ROOT)
        .env("HOME", home.path())
        .env_remove("XDG_CONFIG_HOME")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    command
}

/// The largest resident set of any child this test process has waited for, in KiB.
fn peak_child_rss_kib() -> i64 {
    // SAFETY: getrusage only writes the struct it is given.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage.ru_maxrss
    }
}

/// A two-stage playbook whose first stage prints a lot and whose second leaves a mark on
/// the host: whether the second ran tells whether the run was cancelled.
fn two_stages() -> (tempfile::TempDir, std::path::PathBuf) {
    playbook(
        r#"
stage "talk" {
    on "all"
    run "yes 'a line of output' | head -n 200000; sleep 0.5"
}
stage "mark" {
    needs "talk"
    on "all"
    run "touch {{where}}/second-stage-ran"
}
"#,
    )
}

/// Regression: 5 hosts printing 50 MB each drove tsync past 600 MB, more with a slow
/// reader (an unbounded queue between the hosts and the reporter).
#[test]
fn memory_stays_flat_with_a_slow_reader_and_nothing_is_lost() {
    let lab = lab(2);
    const BYTES: usize = 40_000_000;
    let command = format!("head -c {BYTES} /dev/zero | tr '\\0' a | fold -w 4000");
    let (mut child, _home) = Test::new()
        .args(["run", "all"])
        .lab(&lab)
        .args(["--", &command])
        .spawn();
    let stdout = BufReader::with_capacity(64 * 1024, child.stdout.take().unwrap());
    let mut received = [0usize; 2];
    let mut since_pause = 0;
    for line in stdout.split(b'\n') {
        let line = line.unwrap();
        for (i, prefix) in ["lab-1 │ ", "lab-2 │ "].iter().enumerate() {
            if let Some(rest) = line.strip_prefix(prefix.as_bytes()) {
                received[i] += rest.len();
            }
        }
        // A reader much slower than the hosts: about 30 MB/s.
        since_pause += line.len();
        if since_pause > 256 * 1024 {
            std::thread::sleep(Duration::from_millis(8));
            since_pause = 0;
        }
    }
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0), "{stderr}");
    assert_eq!(received, [BYTES, BYTES], "every byte arrived");
    let peak = peak_child_rss_kib();
    assert!(peak < 24 * 1024, "tsync peaked at {peak} KiB");
}

/// Regression: a multi-byte character split at the 64 KiB piece boundary was lost.
#[test]
fn characters_are_never_split_between_pieces() {
    let lab = lab(1);
    // "a" then 30,000 "😀" (4 bytes each) without a newline: the 64 KiB boundary falls
    // inside a character (where exactly depends on how the bytes arrive, but at most one
    // position in four is a boundary).
    let run = Test::new()
        .args(["run", "all", "--output", "json"])
        .lab(&lab)
        .args(["--", "printf a; yes 😀 | head -n 30000 | tr -d '\\n'"])
        .run()
        .code(0);
    let text: String = run
        .events()
        .iter()
        .filter(|e| e["event"] == "output")
        .map(|e| e["line"].as_str().unwrap().to_string())
        .collect();
    assert!(!text.contains('\u{fffd}'), "a character was replaced");
    assert_eq!(text, format!("a{}", "😀".repeat(30_000)));
}

/// Regression: `tsync plan … | head -1` panicked on the closed pipe.
#[test]
fn plan_ends_quietly_when_its_reader_is_gone() {
    let home = tempfile::tempdir().unwrap();
    let mut child = tsync(&home)
        .args(["plan", "examples/web.kdl", "--no-tailscale"])
        .args(["--ssh-config", &fixture("fleet/ssh_config")])
        .args(["--inventory", &fixture("fleet/inventory.kdl")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before tsync writes a byte.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn plan_to_a_full_disk_is_a_clear_error() {
    let home = tempfile::tempdir().unwrap();
    let out = tsync(&home)
        .args(["plan", "examples/web.kdl", "--no-tailscale"])
        .args(["--ssh-config", &fixture("fleet/ssh_config")])
        .args(["--inventory", &fixture("fleet/inventory.kdl")])
        .stdout(std::fs::File::create("/dev/full").unwrap())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: cannot write the plan to stdout: No space left on device"),
        "{stderr}"
    );
}

/// Regression: a write error on stdout was ignored and the run went on.
#[test]
fn a_run_whose_reader_is_gone_is_cancelled_quietly() {
    let lab = lab(2);
    let (_dir, file) = two_stages();
    let where_ = lab.host_srv(0).display().to_string();
    let (mut child, _home) = Test::new()
        .args(["apply"])
        .args([&file])
        .lab(&lab)
        .args(["--var", &format!("where={where_}")])
        .spawn();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    drop(stdout);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "cancelled: {stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("error"),
        "{stderr}"
    );
    for i in 0..2 {
        assert!(
            !lab.srv(i).join("second-stage-ran").exists(),
            "lab-{}",
            i + 1
        );
    }
    assert!(
        crate::support::processes_mentioning(&lab.ssh_config().display().to_string()).is_empty()
    );
}

#[test]
fn a_run_to_a_full_disk_is_cancelled_with_a_clear_error() {
    let lab = lab(1);
    let (_dir, file) = two_stages();
    let where_ = lab.host_srv(0).display().to_string();
    let home = tempfile::tempdir().unwrap();
    let out = tsync(&home)
        .args(["apply"])
        .args([&file])
        .args(["--ssh-config"])
        .args([lab.ssh_config()])
        .args(["--no-tailscale", "--var", &format!("where={where_}")])
        .stdout(std::fs::File::create("/dev/full").unwrap())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: cannot write the report to stdout: No space left on device"),
        "{stderr}"
    );
    assert!(!lab.srv(0).join("second-stage-ran").exists());
}

/// Regression: remote output and names with terminal escape sequences were printed raw in
/// the human output (a host could clear the screen, retitle the terminal, hide lines).
#[test]
fn control_characters_are_neutralised_for_people_and_kept_for_programs() {
    let lab = lab(1);
    let (_dir, file) = playbook(
        r##"
stage "evil\u{1b}[2J" {
    on "all"
    run #"printf 'a\033[31mred\033]0;title\007\rback\n'; printf 'err\033[8m' >&2; exit 1"#
}
"##,
    );
    let human = Test::new()
        .args(["apply"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(3);
    assert!(!human.stdout.contains('\x1b'), "{:?}", human.stdout);
    assert!(!human.stdout.contains('\r'), "{:?}", human.stdout);
    assert!(
        human.stdout.contains("lab-1 │ a␛[31mred␛]0;title␇␍back"),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("▶ evil␛[2J on lab-1"),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("    err␛[8m"),
        "stderr tail: {}",
        human.stdout
    );

    let json = Test::new()
        .args(["apply", "--output", "json"])
        .args([&file])
        .lab(&lab)
        .run()
        .code(3);
    let events = json.events();
    // stdout and stderr arrive in either order.
    let output = events
        .iter()
        .find(|e| e["event"] == "output" && e["stream"] == "stdout")
        .unwrap();
    assert_eq!(output["line"], "a\x1b[31mred\x1b]0;title\x07\rback");
    assert_eq!(output["stage"], "evil\x1b[2J");
}
