//! Runs a plan with a reporter attached and signals handled, and records it in the history;
//! shared by `apply`, `run`, `push` and `pull`.

use std::collections::{BTreeSet, HashMap};
use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::deploy_lock::{Acquired, DeployLock};
use crate::cli::Execution;
use crate::exit_code;
use crate::fleet::{Disk, KnownDisks};
use crate::history::{History, NewRun};
use crate::plan::Plan;
use crate::report::diagnostics::Color;
use crate::report::{Reporter, Reporters};
use crate::runner::{Cancel, CancelReason, EVENT_QUEUE, Event, RunOptions, Runner};

/// Runs `plan` (or, with `dry_run`, shows what running it would do) and returns the exit
/// code. A real run is recorded in the history as `run` says; a dry run changes nothing and
/// is not. With `lock`, the run holds it from before the first host is touched until the
/// runner returned; a run the lock refuses is not recorded.
pub fn execute(
    plan: Plan,
    execution: &Execution,
    dry_run: bool,
    color: Color,
    run: &NewRun,
    lock: Option<DeployLock>,
) -> i32 {
    // File reads of a sync go through the blocking pool; a few threads serve any number of
    // hosts, where the default (up to 512) cost memory for nothing.
    let runtime = match super::start_runtime(
        tokio::runtime::Builder::new_multi_thread().max_blocking_threads(8),
    ) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let disks = Arc::new(KnownDisks::new(recorded_disks(&plan)));
    let options = RunOptions {
        jobs: execution.jobs,
        connect_timeout: execution.connect_timeout,
        max_connecting: execution.max_connecting,
        dry_run,
        persist: execution.persist,
        disks: disks.clone(),
    };
    let host_names: Vec<String> = plan.hosts.iter().map(|h| h.name.clone()).collect();
    let (events, received) = mpsc::channel::<Vec<Event>>(EVENT_QUEUE);
    let (cancel, cancelled) = watch::channel(Cancel::No);
    let cancel = Arc::new(cancel);

    // The reporter writes to stdout, which may block (a slow pipe): it gets its own thread.
    let (format, quiet) = (execution.output, execution.quiet);
    let record = (!dry_run).then(|| run.clone());
    let reporter = {
        let cancel = cancel.clone();
        std::thread::spawn(move || {
            let mut reporters = Reporters::to_stdout(format, quiet, color, &host_names, record);
            let failed_write = report(&mut reporters, received, &cancel);
            (failed_write, reporters.into_recorder())
        })
    };

    let code = runtime.block_on(async {
        let signals = match watch_signals(cancel, events.clone()) {
            Ok(task) => task,
            Err(e) => {
                complain(format_args!("error: cannot listen for signals: {e}"));
                return exit_code::INTERNAL;
            }
        };
        let held = match lock {
            Some(lock) => match lock.acquire(dry_run, &events, cancelled.clone()).await {
                Acquired::Held(held) => Some(held),
                Acquired::NotTaken => None,
                Acquired::Refused(code) => {
                    signals.abort();
                    return code;
                }
            },
            None => None,
        };
        let result = Runner::new(plan, options, events, cancelled, held)
            .run()
            .await;
        signals.abort();
        match result {
            Ok(summary) => summary.exit_code,
            Err(e) => {
                complain(format_args!("error: cannot prepare the run: {e}"));
                exit_code::INTERNAL
            }
        }
    });
    // Every sender is gone once the runner returned: the reporter drains and ends.
    let (failed_write, recorder) = reporter
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    runtime.shutdown_timeout(Duration::from_secs(1));
    let code = match failed_write {
        None => code,
        // The reader went away (`tsync run … | head`): its choice, nothing to say. The run
        // was cancelled, and its exit code says so.
        Some(e) if e.kind() == io::ErrorKind::BrokenPipe => code,
        Some(e) => {
            complain(format_args!(
                "error: cannot write the report to stdout: {e}; the run was cancelled"
            ));
            exit_code::INTERNAL
        }
    };
    if let Some(recorder) = recorder {
        recorder.finish(code);
    }
    let measured = disks.new_figures();
    if !dry_run && !measured.is_empty() {
        // The recorder has already warned about a history it cannot use; these figures
        // only save the next placement a `df`.
        let _ = History::open().and_then(|mut history| history.record_disks(&measured));
    }
    code
}

/// The disk figures the history holds for the candidates of the plan's `least-loaded(…)`
/// stages; none when it has none or cannot be read (the probes then measure the disks).
fn recorded_disks(plan: &Plan) -> HashMap<String, Disk> {
    let candidates: BTreeSet<&str> = plan
        .stages
        .iter()
        .filter(|stage| stage.pick.is_some())
        .flat_map(|stage| stage.hosts.iter().map(|&h| plan.hosts[h].name.as_str()))
        .collect();
    if candidates.is_empty() {
        return HashMap::new();
    }
    let candidates: Vec<&str> = candidates.into_iter().collect();
    History::open()
        .and_then(|history| history.disks(&candidates))
        .unwrap_or_default()
}

/// Hands every event to the reporter, flushing whenever none is waiting. After a failed
/// write the run is cancelled as by a first Ctrl-C, and events are still taken but no
/// longer written: the runner must never wait for a reporter that is gone.
fn report(
    reporter: &mut impl Reporter,
    mut events: mpsc::Receiver<Vec<Event>>,
    cancel: &watch::Sender<Cancel>,
) -> Option<io::Error> {
    let handle_all = |reporter: &mut dyn Reporter, batch: Vec<Event>| {
        batch.iter().try_for_each(|event| reporter.handle(event))
    };
    let mut failure = None;
    while let Some(batch) = events.blocking_recv() {
        if failure.is_some() {
            continue;
        }
        let mut written = handle_all(reporter, batch);
        while written.is_ok() {
            match events.try_recv() {
                Ok(batch) => written = handle_all(reporter, batch),
                Err(_) => break,
            }
        }
        if let Err(e) = written.and_then(|()| reporter.flush()) {
            cancel.send_if_modified(|c| {
                let first = *c == Cancel::No;
                if first {
                    *c = Cancel::Graceful(CancelReason::OutputFailed);
                }
                first
            });
            failure = Some(e);
        }
    }
    failure
}

/// First Ctrl-C: finish what runs, start nothing new. Second Ctrl-C, SIGTERM or SIGHUP (the
/// terminal closed, the ssh session to this machine dropped): stop now.
fn watch_signals(
    cancel: Arc<watch::Sender<Cancel>>,
    events: mpsc::Sender<Vec<Event>>,
) -> io::Result<tokio::task::JoinHandle<()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut hangup = signal(SignalKind::hangup())?;
    Ok(tokio::spawn(async move {
        loop {
            let (next, reason) = tokio::select! {
                _ = interrupt.recv() => {
                    let again = cancel.borrow().reason() == Some(CancelReason::Interrupt);
                    let level = if again { Cancel::Forced } else { Cancel::Graceful };
                    (level(CancelReason::Interrupt), CancelReason::Interrupt)
                }
                _ = terminate.recv() => (Cancel::Forced(CancelReason::Terminate), CancelReason::Terminate),
                _ = hangup.recv() => (Cancel::Forced(CancelReason::Hangup), CancelReason::Hangup),
            };
            if cancel.borrow().forced() {
                continue;
            }
            cancel.send_replace(next);
            let forced = next.forced();
            let _ = events
                .send(vec![Event::CancelRequested { forced, reason }])
                .await;
        }
    }))
}

/// Writes a message to stderr; if even that fails, there is no one left to tell.
fn complain(message: std::fmt::Arguments) {
    let _ = writeln!(io::stderr(), "{message}");
}
