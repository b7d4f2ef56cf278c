//! Starts workers, watches them, and saves what killed them. Each finding is saved under
//! the findings directory as `TARGET-KIND-HASH` (the input) and `TARGET-KIND-HASH.log` (the
//! worker's last words): KIND is `crash` (panic, stack overflow, out of memory), `hang` or
//! `slow` (saved by the worker itself).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use crate::Options;
use crate::target::Target;
use crate::worker::fnv;

pub struct Supervisor {
    options: Options,
}

/// What a worker was doing when it stopped.
struct Position {
    target: Target,
    /// The corpus index being replayed, or None when fuzzing.
    replaying: Option<usize>,
}

impl Supervisor {
    pub fn new(options: Options) -> Supervisor {
        Supervisor { options }
    }

    pub fn run(self) -> ExitCode {
        let exe = match std::env::current_exe() {
            Ok(exe) => exe,
            Err(e) => {
                eprintln!("tsync-fuzz: cannot find its own executable: {e}");
                return ExitCode::FAILURE;
            }
        };
        let work = match tempfile_dir() {
            Ok(work) => work,
            Err(e) => {
                eprintln!("tsync-fuzz: cannot make a work directory: {e}");
                return ExitCode::FAILURE;
            }
        };
        let started = Instant::now();
        let deadline = started + self.options.duration;
        let mut findings: Vec<PathBuf> = Vec::new();
        let mut execs: u64 = 0;
        let mut workers = 0u64;
        let mut replay_from = Some(0);
        let before = slow_findings(&self.options.findings);
        while Instant::now() < deadline {
            let remaining = deadline - Instant::now();
            // What the last worker left must not be taken for what this one does.
            for stale in ["execs", "input", "target"] {
                let _ = fs::remove_file(work.join(stale));
            }
            let child = match self.spawn(&exe, &work, remaining, workers, replay_from) {
                Ok(child) => child,
                Err(e) => {
                    eprintln!("tsync-fuzz: cannot start a worker: {e}");
                    return ExitCode::FAILURE;
                }
            };
            workers += 1;
            let outcome = self.watch(child, &work);
            execs += fs::read_to_string(work.join("execs"))
                .ok()
                .and_then(|n| n.trim().parse::<u64>().ok())
                .unwrap_or(0);
            if !matches!(outcome, Outcome::Done) {
                // A running count, for long runs that end by being killed.
                eprintln!(
                    "tsync-fuzz: {execs} executions in {:.0?} so far",
                    started.elapsed()
                );
            }
            let position = read_position(&work);
            replay_from = None;
            let kind = match outcome {
                Outcome::Done => break,
                Outcome::Died => "crash",
                Outcome::Hung => "hang",
            };
            if let Some(position) = &position
                && let Some(index) = position.replaying
            {
                replay_from = Some(index + 1);
            }
            match self.save(&work, kind, position.as_ref()) {
                Some(path) => {
                    eprintln!("tsync-fuzz: {kind}: {}", path.display());
                    eprintln!("{}", describe(&path));
                    findings.push(path);
                }
                None => eprintln!("tsync-fuzz: a worker failed before running any input"),
            }
        }
        for slow in slow_findings(&self.options.findings) {
            if !before.contains(&slow) {
                eprintln!("tsync-fuzz: slow: {}", slow.display());
                eprintln!("{}", describe(&slow));
                findings.push(slow);
            }
        }
        let _ = fs::remove_dir_all(&work);
        eprintln!(
            "tsync-fuzz: {} executions in {:.0?} ({} worker{}), {} finding{}",
            execs,
            started.elapsed(),
            workers,
            if workers == 1 { "" } else { "s" },
            findings.len(),
            if findings.len() == 1 { "" } else { "s" },
        );
        if findings.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }

    fn spawn(
        &self,
        exe: &Path,
        work: &Path,
        remaining: Duration,
        workers: u64,
        replay_from: Option<usize>,
    ) -> std::io::Result<Child> {
        let log = fs::File::create(work.join("log"))?;
        let mut command = Command::new(exe);
        command
            .arg("--worker")
            .arg(work)
            .args(["--seconds", &remaining.as_secs().max(1).to_string()])
            .args([
                "--seed",
                &self.options.seed.wrapping_add(workers).to_string(),
            ])
            .args(["--slow-seconds", &self.options.slow.as_secs().to_string()])
            .arg("--findings")
            .arg(&self.options.findings)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        if let Some(from) = replay_from {
            command.args(["--replay-from", &from.to_string()]);
        }
        command.spawn()
    }

    /// Waits for the worker to finish, die, or stop making progress.
    fn watch(&self, mut child: Child, work: &Path) -> Outcome {
        let spawned = std::time::SystemTime::now();
        loop {
            match child.try_wait() {
                Ok(Some(status)) if status.success() => return Outcome::Done,
                Ok(Some(_)) | Err(_) => return Outcome::Died,
                Ok(None) => {}
            }
            // The worker writes each input before running it: an old file means a stuck run.
            let last = fs::metadata(work.join("input"))
                .and_then(|m| m.modified())
                .map_or(spawned, |modified| modified.max(spawned));
            if last.elapsed().is_ok_and(|idle| idle > self.options.hang) {
                let _ = child.kill();
                let _ = child.wait();
                return Outcome::Hung;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Copies the input at fault and the worker's log into the findings directory.
    fn save(&self, work: &Path, kind: &str, position: Option<&Position>) -> Option<PathBuf> {
        let position = position?;
        let data = fs::read(work.join("input")).ok()?;
        let log = fs::read(work.join("log")).unwrap_or_default();
        let _ = fs::create_dir_all(&self.options.findings);
        let name = format!("{}-{kind}-{:016x}", position.target.name(), fnv(&data));
        let path = self.options.findings.join(&name);
        fs::write(&path, &data).ok()?;
        let tail = &log[log.len().saturating_sub(4096)..];
        let _ = fs::write(self.options.findings.join(format!("{name}.log")), tail);
        Some(path)
    }
}

enum Outcome {
    Done,
    Died,
    Hung,
}

fn read_position(work: &Path) -> Option<Position> {
    let text = fs::read_to_string(work.join("target")).ok()?;
    let mut lines = text.lines();
    let target = Target::from_name(lines.next()?)?;
    let replaying = lines
        .next()
        .and_then(|phase| phase.strip_prefix("replay "))
        .and_then(|index| index.parse().ok());
    Some(Position { target, replaying })
}

fn slow_findings(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.contains("-slow-"))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A fresh directory for one supervisor's workers (std has no temp dir builder).
fn tempfile_dir() -> std::io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("tsync-fuzz-{}", std::process::id()));
    fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// The size and the start of a finding, for the log: findings/ is gone with a CI machine,
/// and this is often enough to rebuild the input.
fn describe(finding: &Path) -> String {
    const SHOWN: usize = 600;
    match fs::read(finding) {
        Ok(data) => format!(
            "  {} bytes, starting {:?}",
            data.len(),
            String::from_utf8_lossy(&data[..data.len().min(SHOWN)])
        ),
        Err(e) => format!("  (cannot read it back: {e})"),
    }
}
