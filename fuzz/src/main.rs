//! `tsync-fuzz`: a mutation fuzzer over tsync's input readers (playbooks, selectors, ssh
//! config, sshsync config, Tailscale status).
//!
//! It needs no nightly toolchain and no coverage instrumentation, so it runs the same in CI
//! and on a laptop. A supervisor process starts a worker process that replays the corpus
//! (fuzz/corpus/TARGET/*) and then mutates it; when the worker dies (a panic, a stack
//! overflow, an allocation beyond its memory limit) or stops making progress (a hang), the
//! supervisor saves the input at fault under fuzz/findings/ and starts a new worker.
//!
//! ```text
//! cargo run -p tsync-fuzz -- [--seconds N] [--seed N] [--findings DIR]
//! cargo run -p tsync-fuzz -- --reproduce fuzz/findings/TARGET-KIND-HASH
//! ```
//!
//! Exits 0 when nothing was found, 1 when something was (listed on stderr), 2 on bad usage.

mod mutator;
mod supervisor;
mod target;
mod worker;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use supervisor::Supervisor;
use worker::Worker;

const USAGE: &str = "usage: tsync-fuzz [--seconds N] [--seed N] [--findings DIR] [--hang-seconds N] [--slow-seconds N]
       tsync-fuzz --reproduce FILE   (a finding, named TARGET-…: runs it once, in this process)";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut options = Options::default();
    let mut worker_dir: Option<PathBuf> = None;
    let mut reproduce: Option<PathBuf> = None;
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        let parsed: Result<(), String> = match arg.as_str() {
            "--seconds" => value()
                .and_then(number)
                .map(|n| options.duration = Duration::from_secs(n)),
            "--seed" => value().and_then(number).map(|n| options.seed = n),
            "--findings" => value().map(|v| options.findings = PathBuf::from(v)),
            "--hang-seconds" => value()
                .and_then(number)
                .map(|n| options.hang = Duration::from_secs(n)),
            "--slow-seconds" => value()
                .and_then(number)
                .map(|n| options.slow = Duration::from_secs(n)),
            // The supervisor starts the worker with this; people need not.
            "--worker" => value().map(|v| worker_dir = Some(PathBuf::from(v))),
            "--replay-from" => value()
                .and_then(number)
                .map(|n| options.replay_from = Some(n as usize)),
            "--reproduce" => value().map(|v| reproduce = Some(PathBuf::from(v))),
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => Err(format!("unknown argument `{other}`")),
        };
        if let Err(message) = parsed {
            eprintln!("tsync-fuzz: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    if let Some(file) = reproduce {
        return reproduce_one(&file);
    }
    match worker_dir {
        Some(dir) => Worker::new(dir, &options).run(),
        None => Supervisor::new(options).run(),
    }
}

/// Runs one saved input through the target its name starts with, and says how long it took.
fn reproduce_one(file: &std::path::Path) -> ExitCode {
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let Some(target) = target::Target::ALL
        .into_iter()
        .find(|t| name.starts_with(&format!("{}-", t.name())))
    else {
        eprintln!("tsync-fuzz: `{name}` does not start with a target name and `-`");
        return ExitCode::from(2);
    };
    let scratch = std::env::temp_dir().join(format!("tsync-fuzz-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&scratch) {
        eprintln!("tsync-fuzz: cannot make {}: {e}", scratch.display());
        return ExitCode::FAILURE;
    }
    let started = std::time::Instant::now();
    target::Context::new(&scratch).run(target, file);
    eprintln!(
        "tsync-fuzz: {} ran in {:?}",
        target.name(),
        started.elapsed()
    );
    let _ = std::fs::remove_dir_all(&scratch);
    ExitCode::SUCCESS
}

fn number(text: String) -> Result<u64, String> {
    text.parse()
        .map_err(|_| format!("`{text}` is not a whole number"))
}

/// What the command line asked for; shared by the supervisor and the worker it starts.
#[derive(Debug, Clone)]
pub struct Options {
    pub duration: Duration,
    pub seed: u64,
    pub findings: PathBuf,
    /// An input that stops the worker for this long is a hang: it is killed and saved.
    pub hang: Duration,
    /// An input that takes this long is saved as too slow (quadratic parsing, say).
    pub slow: Duration,
    /// Replay the corpus from this index (after a crash during replay), or not at all.
    pub replay_from: Option<usize>,
}

impl Default for Options {
    fn default() -> Options {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        Options {
            duration: Duration::from_secs(60),
            seed,
            findings: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/findings")),
            hang: Duration::from_secs(30),
            slow: Duration::from_secs(10),
            replay_from: None,
        }
    }
}
