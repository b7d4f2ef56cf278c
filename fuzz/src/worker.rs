//! The process that runs inputs: it replays the corpus, then mutates it until its time is up.
//! Before each run it writes the input (and which target gets it) to its work directory, so
//! that when it dies the supervisor knows what killed it.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::Options;
use crate::mutator::Mutator;
use crate::target::{Context, Target};

/// Mutated inputs are cut to this size: big enough for deep nesting and lines past column
/// 65,535, small enough that parsing them stays well under the slow-input limit (the KDL
/// parser takes about 3 s for 128 KiB of comment in a debug build: linear, but slow).
const MAX_INPUT: usize = 128 << 10;
/// Inputs kept per target for mutating, seeds and new behaviour together.
const MAX_POOL: usize = 4096;
/// A worker may use this much memory (address space); billion-laughs style blowups end as
/// a failed allocation, which the supervisor records, instead of swapping the machine.
const MEMORY_LIMIT: u64 = 3 << 30;
/// Runs of one target in a row before moving on to the next.
const BLOCK: u64 = 64;
/// The stack of the thread that runs inputs: the size of the `tsync` binary's main thread.
const STACK: usize = 8 << 20;

pub struct Worker {
    dir: PathBuf,
    options: Options,
}

/// The inputs of one target: the corpus, then whatever reached new behaviour.
struct Pool {
    target: Target,
    inputs: Vec<Vec<u8>>,
    seen: HashSet<u64>,
}

impl Worker {
    pub fn new(dir: PathBuf, options: &Options) -> Worker {
        Worker {
            dir,
            options: options.clone(),
        }
    }

    pub fn run(self) -> ExitCode {
        limit_memory();
        // SAFETY: prctl with PR_SET_PDEATHSIG takes a signal number and touches no memory. A
        // worker must not outlive its supervisor (killed at the end of a CI step, say).
        unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
        // A panic is a finding: abort so that the supervisor sees the worker die, with the
        // message already on stderr.
        let default_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            default_hook(info);
            std::process::abort();
        }));
        let home = self.dir.join("home");
        let _ = fs::create_dir_all(&home);
        // SAFETY: set before any other thread starts; the readers look up HOME (sshsync's
        // config, `~` in Includes), which must not be the developer's own.
        unsafe {
            std::env::set_var("HOME", &home);
            std::env::remove_var("XDG_CONFIG_HOME");
        }
        let runner = std::thread::Builder::new()
            .stack_size(STACK)
            .spawn(move || self.fuzz());
        match runner.map(|r| r.join()) {
            Ok(Ok(())) => ExitCode::SUCCESS,
            _ => ExitCode::FAILURE,
        }
    }

    fn fuzz(self) {
        let deadline = Instant::now() + self.options.duration;
        let input = self.dir.join("input");
        let context = Context::new(&self.dir);
        let mut pools: Vec<Pool> = Target::ALL.into_iter().map(Pool::load).collect();
        let mut execs: u64 = 0;
        let mut last_stats = Instant::now();

        if let Some(from) = self.options.replay_from {
            let corpus: Vec<(Target, Vec<u8>)> = pools
                .iter()
                .flat_map(|p| p.inputs.iter().map(|i| (p.target, i.clone())))
                .collect();
            for (index, (target, data)) in corpus.into_iter().enumerate().skip(from) {
                self.position(target, &format!("replay {index}"));
                self.execute(&context, target, &data, &input);
                execs += 1;
            }
        }

        let mut mutator = Mutator::new(self.options.seed);
        let mut current = usize::MAX;
        // Each worker starts at another target, so one that keeps failing early does not
        // starve the others.
        let first = mutator.below(pools.len()) as u64;
        while Instant::now() < deadline {
            let which = ((first + execs / BLOCK) % pools.len() as u64) as usize;
            let pool = &pools[which];
            if which != current {
                self.position(pool.target, "fuzz");
                current = which;
            }
            let base = &pool.inputs[mutator.below(pool.inputs.len())];
            let other = &pool.inputs[mutator.below(pool.inputs.len())];
            let data = mutator.mutate(base, other, pool.target.dictionary(), MAX_INPUT);
            let digest = self.execute(&context, pool.target, &data, &input);
            pools[which].add(digest, data, &mut mutator);
            execs += 1;
            if last_stats.elapsed() >= Duration::from_secs(1) {
                let _ = fs::write(self.dir.join("execs"), execs.to_string());
                last_stats = Instant::now();
            }
        }
        let _ = fs::write(self.dir.join("execs"), execs.to_string());
    }

    /// Runs one input, saving it if it was slow. Slowness is the CPU time of this thread,
    /// not wall time: a CI machine that deschedules the worker for seconds says nothing
    /// about the input. A slow input is run a second time and saved only if it is slow
    /// again, so one stall of the machine is not a finding.
    fn execute(&self, context: &Context, target: Target, data: &[u8], input: &Path) -> u64 {
        if let Err(e) = fs::write(input, data) {
            panic!("cannot write {}: {e}", input.display());
        }
        let (digest, took) = timed(|| context.run(target, input));
        if took >= self.options.slow {
            let (_, again) = timed(|| context.run(target, input));
            let name = format!("{}-slow-{:016x}", target.name(), fnv(data));
            if again < self.options.slow {
                eprintln!("slow once ({took:?}), not again ({again:?}): {name} is not kept");
                return digest;
            }
            let _ = fs::create_dir_all(&self.options.findings);
            let _ = fs::write(self.options.findings.join(&name), data);
            eprintln!("slow input ({took:?}, then {again:?} of CPU time): {name}");
        }
        digest
    }

    /// Records which target runs next and where in the run the worker is.
    fn position(&self, target: Target, phase: &str) {
        let _ = fs::write(
            self.dir.join("target"),
            format!("{}\n{phase}\n", target.name()),
        );
    }
}

impl Pool {
    fn load(target: Target) -> Pool {
        let mut files: Vec<PathBuf> = fs::read_dir(target.corpus_dir())
            .map(|dir| dir.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.sort();
        let mut inputs: Vec<Vec<u8>> = files.iter().filter_map(|f| fs::read(f).ok()).collect();
        if inputs.is_empty() {
            inputs.push(Vec::new());
        }
        Pool {
            target,
            inputs,
            seen: HashSet::new(),
        }
    }

    /// Keeps `data` if it reached behaviour not seen before.
    fn add(&mut self, digest: u64, data: Vec<u8>, mutator: &mut Mutator) {
        if !self.seen.insert(digest) {
            return;
        }
        if self.inputs.len() < MAX_POOL {
            self.inputs.push(data);
        } else {
            let i = mutator.below(self.inputs.len());
            self.inputs[i] = data;
        }
    }
}

/// A stable name for an input (FNV-1a), so the same finding is saved once.
pub fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3)
    })
}

fn limit_memory() {
    let limit = libc::rlimit {
        rlim_cur: MEMORY_LIMIT,
        rlim_max: MEMORY_LIMIT,
    };
    // SAFETY: setrlimit reads the struct it is given and nothing else.
    if unsafe { libc::setrlimit(libc::RLIMIT_AS, &limit) } != 0 {
        eprintln!(
            "warning: cannot limit memory: {}",
            std::io::Error::last_os_error()
        );
    }
}

/// Runs `work`, returning what it returned and the CPU time this thread spent on it.
fn timed<T>(work: impl FnOnce() -> T) -> (T, Duration) {
    let before = thread_cpu_time();
    let value = work();
    (value, thread_cpu_time().saturating_sub(before))
}

fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec, which `now` is.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}
