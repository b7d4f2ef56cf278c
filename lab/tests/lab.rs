//! End-to-end checks of real labs: log in with `ssh`, steer the hosts, tear
//! everything down. As root the full lab is checked; otherwise the parts a
//! reduced lab has.

use std::fs;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use tsync_lab::{HostOptions, Lab, LabOptions};

fn ssh(lab: &Lab, options: &[&str], host: &str, command: &str) -> Output {
    Command::new("ssh")
        .arg("-F")
        .arg(lab.ssh_config())
        .args(options)
        .arg(host)
        .arg(command)
        .stdin(Stdio::null())
        .output()
        .expect("running ssh")
}

fn assert_success(output: &Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The pids and command lines of all processes whose command line contains `needle`.
fn processes_mentioning(needle: &str) -> Vec<(i32, String)> {
    fs::read_dir("/proc")
        .expect("reading /proc")
        .flatten()
        .filter_map(|entry| {
            let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = fs::read(entry.path().join("cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            cmdline.contains(needle).then_some((pid, cmdline))
        })
        .collect()
}

/// The state letter in `/proc/PID/stat` (`T` when stopped).
fn state(pid: i32) -> char {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).expect("reading stat");
    let rest = &stat[stat.rfind(')').expect("stat has a command name") + 1..];
    rest.trim_start().chars().next().expect("stat has a state")
}

fn wait_until<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(50));
    }
}

fn wait_for_exit(child: &mut Child, what: &str) {
    wait_until(what, || child.try_wait().expect("checking on ssh"));
}

#[test]
fn a_lab_serves_and_can_be_steered() {
    let options = LabOptions {
        hosts: 3,
        per_host: vec![HostOptions {
            load: (1.5, 0.75, 0.25),
            ..HostOptions::default()
        }],
        ..LabOptions::default()
    };
    let mut lab = Lab::start(options).expect("starting the lab");
    let full = lab.lacks().is_empty();
    let dir = lab.dir().display().to_string();

    // Logging in, the chosen load, the lab user and a private /srv.
    let command = format!(
        "cat /proc/loadavg; id -un; touch {}/x",
        lab.host_srv(0).display()
    );
    let out = assert_success(&ssh(&lab, &[], "lab-1", &command), "ssh lab-1");
    let lines: Vec<&str> = out.lines().collect();
    if full {
        assert_eq!(lines, ["1.50 0.75 0.25 1/123 4567", "tsync-lab"]);
    }
    assert!(lab.srv(0).join("x").exists());
    assert!(!lab.srv(1).join("x").exists());

    // set_load and set_mem show at once.
    lab.set_load(0, (3.0, 2.0, 1.0)).expect("set_load");
    lab.set_mem(0, 1024 * 1024, 512 * 1024).expect("set_mem");
    let out = assert_success(
        &ssh(
            &lab,
            &[],
            "lab-1",
            "cat /proc/loadavg; grep Mem /proc/meminfo",
        ),
        "ssh lab-1 after set_load",
    );
    if full {
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "3.00 2.00 1.00 1/123 4567");
        assert!(lines.contains(&"MemTotal:        1048576 kB"), "{out}");
        assert!(lines.contains(&"MemAvailable:     524288 kB"), "{out}");
    }

    // Freezing stops a running session too; thawing resumes it.
    let marker = format!("3600.{}", std::process::id());
    let mut session = Command::new("ssh")
        .arg("-F")
        .arg(lab.ssh_config())
        .arg("lab-1")
        .arg(format!("exec sleep {marker}"))
        .stdin(Stdio::null())
        // It ends with "closed by remote host" when the lab goes.
        .stderr(Stdio::null())
        .spawn()
        .expect("starting a long ssh session");
    let sleeper = wait_until("the remote sleep", || {
        processes_mentioning(&marker)
            .into_iter()
            .find(|(_, cmdline)| cmdline.starts_with("sleep "))
            .map(|(pid, _)| pid)
    });
    lab.freeze(0).expect("freeze lab-1");
    assert_eq!(state(sleeper), 'T', "the session's sleep is stopped");
    lab.thaw(0).expect("thaw lab-1");
    wait_until("the sleep to resume", || {
        (state(sleeper) != 'T').then_some(())
    });

    // A stopped host refuses connections at once.
    fs::write(lab.srv(1).join("kept"), "kept\n").expect("writing into lab-2's /srv");
    lab.stop(1).expect("stop lab-2");
    let started = Instant::now();
    let out = ssh(&lab, &[], "lab-2", "true");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Connection refused"), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    // A frozen host lets connections hang until ssh gives up.
    lab.freeze(2).expect("freeze lab-3");
    let started = Instant::now();
    let out = ssh(&lab, &["-o", "ConnectTimeout=2"], "lab-3", "true");
    assert!(!out.status.success(), "ssh to a frozen host succeeded");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    lab.thaw(2).expect("thaw lab-3");
    assert_success(&ssh(&lab, &[], "lab-3", "true"), "ssh lab-3 after thaw");

    // A restarted host has the same key and the same /srv.
    lab.restart(1).expect("restart lab-2");
    let command = format!("cat {}/kept", lab.host_srv(1).display());
    let out = assert_success(
        &ssh(&lab, &[], "lab-2", &command),
        "ssh lab-2 after restart",
    );
    assert_eq!(out, "kept\n");

    // Dropping the lab, even with a host frozen, ends every sshd and session.
    lab.freeze(2).expect("freeze lab-3 again");
    drop(lab);
    wait_for_exit(&mut session, "the long ssh session to end");
    assert!(!Path::new(&dir).exists(), "the lab directory is removed");
    let left: Vec<_> = processes_mentioning(&dir)
        .into_iter()
        .chain(processes_mentioning(&marker))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn a_panic_with_a_lab_alive_leaves_nothing_behind() {
    let (send_dir, dir) = mpsc::channel();
    let outcome = thread::spawn(move || {
        let lab = Lab::start(LabOptions {
            hosts: 2,
            ..LabOptions::default()
        })
        .expect("starting the lab");
        send_dir
            .send(lab.dir().display().to_string())
            .expect("sending the lab directory");
        panic!("a test failing with its lab alive (expected)");
    })
    .join();
    assert!(outcome.is_err());
    let dir = dir.recv().expect("the lab directory");
    assert!(!Path::new(&dir).exists(), "the lab directory is removed");
    let left = processes_mentioning(&dir);
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn labs_started_at_once_do_not_collide() {
    let options = || LabOptions {
        hosts: 4,
        ..LabOptions::default()
    };
    let (first, second) = thread::scope(|scope| {
        let first = scope.spawn(|| Lab::start(options()));
        let second = scope.spawn(|| Lab::start(options()));
        (first.join(), second.join())
    });
    let first = first
        .expect("first lab thread")
        .expect("starting the first lab");
    let second = second
        .expect("second lab thread")
        .expect("starting the second lab");
    for host in first.hosts() {
        assert!(
            second
                .hosts()
                .iter()
                .all(|other| other.endpoint() != host.endpoint()),
            "{} is in both labs",
            host.endpoint()
        );
    }
    // Strict host key checking proves each lab reaches its own sshd.
    for lab in [&first, &second] {
        for host in lab.hosts() {
            assert_success(&ssh(lab, &[], &host.name, "true"), &host.name);
        }
    }
}

#[test]
fn bad_options_are_refused() {
    let error = |options| Lab::start(options).err().expect("an error").to_string();
    assert_eq!(
        error(LabOptions {
            hosts: 0,
            ..LabOptions::default()
        }),
        "a lab holds 1 to 1000 hosts, not 0"
    );
    assert!(
        error(LabOptions {
            prefix: "a b".to_string(),
            ..LabOptions::default()
        })
        .starts_with("host name prefix \"a b\"")
    );
}

#[test]
fn a_noisy_login_writes_to_stderr_before_the_command_runs() {
    let lab = Lab::start(LabOptions {
        hosts: 2,
        per_host: vec![HostOptions {
            noisy_login: true,
            ..HostOptions::default()
        }],
        ..LabOptions::default()
    })
    .expect("starting the lab");
    let noisy = ssh(&lab, &[], "lab-1", "echo out; echo err >&2; exit 3");
    assert_eq!(noisy.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&noisy.stdout), "out\n");
    assert_eq!(
        String::from_utf8_lossy(&noisy.stderr),
        "Welcome to a noisy lab host\nmotd without a newline err\n"
    );
    let quiet = ssh(&lab, &[], "lab-2", "echo err >&2");
    assert_eq!(String::from_utf8_lossy(&quiet.stderr), "err\n");
}

#[test]
fn a_small_disk_fills_up_inside_its_host_only() {
    let mut lab = Lab::start(LabOptions {
        hosts: 2,
        per_host: vec![HostOptions {
            small_disk: Some(1024 * 1024),
            ..HostOptions::default()
        }],
        ..LabOptions::default()
    })
    .expect("starting the lab");
    assert_eq!(lab.small_disk(1), None);
    if !lab.lacks().is_empty() {
        assert_eq!(lab.small_disk(0), None);
        return;
    }
    let disk = lab.small_disk(0).expect("host 1 has a small disk");
    assert_eq!(disk, Path::new("/srv/small"));
    let write = |lab: &Lab, host: &str, dir: &Path| {
        ssh(
            lab,
            &[],
            host,
            &format!(
                "mkdir -p {dir} && head -c 2097152 /dev/zero > {dir}/big",
                dir = dir.display()
            ),
        )
    };
    let full = write(&lab, "lab-1", &disk);
    assert!(!full.status.success());
    assert!(
        String::from_utf8_lossy(&full.stderr).contains("No space left on device"),
        "{}",
        String::from_utf8_lossy(&full.stderr)
    );
    // The disk's contents are visible from here, and only on the host that has it.
    let here = lab.small_disk_here(0).expect("host 1 runs");
    assert_eq!(
        fs::metadata(here.join("big")).expect("big").len(),
        1024 * 1024
    );
    assert!(!lab.srv(0).join("small/big").exists());
    assert_success(&write(&lab, "lab-2", &disk), "writing 2 MiB on lab-2");
    // A restarted host gets an empty disk.
    lab.restart(0).expect("restarting host 1");
    let here = lab.small_disk_here(0).expect("host 1 runs");
    assert!(!here.join("big").exists());
    lab.stop(0).expect("stopping host 1");
    assert_eq!(lab.small_disk_here(0), None);
}
