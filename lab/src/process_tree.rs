//! Signalling a process together with everything it spawned.
//!
//! `sshd` moves each connection's processes into a new session (`setsid`),
//! so they leave its process group and a group signal misses them. They are
//! found instead by following parent links in `/proc`.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::thread;
use std::time::{Duration, Instant};

/// How long [`stop`] waits for its SIGSTOPs to take effect.
const STOP_WAIT: Duration = Duration::from_secs(1);

/// Stops `roots` and all their descendants with SIGSTOP, and waits until
/// they are stopped; returns every pid signalled.
pub(crate) fn stop(roots: &[i32]) -> Vec<i32> {
    let mut stopped = HashSet::new();
    let mut all = Vec::new();
    let mut next = roots.to_vec();
    while !next.is_empty() {
        for &pid in &next {
            signal(pid, libc::SIGSTOP);
            if stopped.insert(pid) {
                all.push(pid);
            }
        }
        // SIGSTOP takes effect on the way back to user space, so a process
        // inside fork may still add a child. Once it shows as stopped it
        // forks no more and all its children are in /proc, so rescanning
        // until nothing new turns up catches every one.
        wait_until_stopped(&next);
        next = descendants(roots)
            .into_iter()
            .filter(|pid| !stopped.contains(pid))
            .collect();
    }
    all
}

/// Resumes `roots` and all their descendants with SIGCONT.
pub(crate) fn resume(roots: &[i32]) {
    for pid in descendants(roots).into_iter().chain(roots.iter().copied()) {
        signal(pid, libc::SIGCONT);
    }
}

/// Kills `roots`, their process groups and all their descendants with SIGKILL.
///
/// Each root must lead its own process group, and the caller must not have
/// reaped it yet, so that neither pid can have been reused.
pub(crate) fn kill(roots: &[i32]) {
    // Stopping first pins the tree: a killed parent would hand its children
    // to init, and they could no longer be found.
    for pid in stop(roots) {
        signal(pid, libc::SIGKILL);
    }
    for &root in roots {
        signal(-root, libc::SIGKILL);
    }
}

/// Every descendant of `roots`, from one scan of `/proc`.
fn descendants(roots: &[i32]) -> Vec<i32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse().ok())
        else {
            continue;
        };
        if let Some((_, parent)) = stat(pid) {
            children.entry(parent).or_default().push(pid);
        }
    }
    let mut found = Vec::new();
    let mut queue = roots.to_vec();
    while let Some(pid) = queue.pop() {
        for &child in children.get(&pid).into_iter().flatten() {
            found.push(child);
            queue.push(child);
        }
    }
    found
}

/// Waits until each process is stopped, a zombie or gone; a process in
/// uninterruptible sleep may not stop for long, so not beyond a deadline.
fn wait_until_stopped(pids: &[i32]) {
    let deadline = Instant::now() + STOP_WAIT;
    for &pid in pids {
        while let Some((state, _)) = stat(pid) {
            if matches!(state, 'T' | 't' | 'Z' | 'X') || Instant::now() >= deadline {
                break;
            }
            thread::sleep(Duration::from_millis(1));
        }
    }
}

/// The state letter and parent pid of `pid`, or `None` once it has gone.
fn stat(pid: i32) -> Option<(char, i32)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses; after its last
    // closing parenthesis come the state and then the parent pid.
    let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace();
    let state = fields.next()?.chars().next()?;
    let parent = fields.next()?.parse().ok()?;
    Some((state, parent))
}

fn signal(pid: i32, signal: i32) {
    // SAFETY: kill has no memory-safety preconditions. It fails only for
    // processes that are already gone, which is the goal anyway.
    unsafe {
        libc::kill(pid, signal);
    }
}
