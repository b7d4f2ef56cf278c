//! Executes a [`Plan`]: stages in DAG order (independent ones at once), each stage's hosts in
//! parallel up to `--jobs`, each host's steps in order over one SSH connection that lives for
//! the whole run. Failures stay with their host; a stage with a failed host fails, and the
//! stages that need it are skipped. Everything that happens is sent as an [`Event`].
//!
//! Cancellation has two levels, as in cargo-nextest: the first request lets running steps
//! finish and starts nothing new; the second stops running steps at once. Either way every
//! connection is closed before `run` returns.
//!
//! Events go through a bounded queue: when the reporter falls behind (a slow terminal or
//! pipe), sending waits, reading from the hosts waits, and the hosts' output waits in the
//! SSH channels. Memory stays flat whatever the hosts print, and nothing is dropped.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OnceCell, Semaphore, mpsc, watch};
use tokio::task::JoinSet;

use super::event::{CancelReason, Event, HostOutcome, HostTotals, StageTotals, StepEnd, Summary};
use crate::exit_code;
use crate::plan::Plan;
use crate::transport::{ConnectError, Connection, Connector, ExecError, Executed, Output, Stream};

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Hosts worked on at once, across all running stages.
    pub jobs: usize,
    pub connect_timeout: Duration,
    /// SSH handshakes in flight at once.
    pub max_connecting: usize,
}

/// How many batches of events may wait for the reporter. A batch holds at most about
/// [`BATCH_BYTES`] (lines and their events), so the queue holds at most about 2 MiB, and
/// usually a few KiB.
pub const EVENT_QUEUE: usize = 32;
/// A step's output lines travel to the reporter in batches of about this size: one hand-off
/// between threads per batch, not per line.
const BATCH_BYTES: usize = 64 * 1024;

/// How far a cancellation has gone, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancel {
    No,
    /// Start nothing new; let running steps finish.
    Graceful(CancelReason),
    /// Stop running steps now.
    Forced(CancelReason),
}

impl Cancel {
    /// Nothing new may start.
    pub fn graceful(self) -> bool {
        self != Cancel::No
    }

    /// Running steps must stop.
    pub fn forced(self) -> bool {
        matches!(self, Cancel::Forced(_))
    }

    pub fn reason(self) -> Option<CancelReason> {
        match self {
            Cancel::No => None,
            Cancel::Graceful(reason) | Cancel::Forced(reason) => Some(reason),
        }
    }
}

pub struct Runner {
    plan: Arc<Plan>,
    options: RunOptions,
    events: mpsc::Sender<Vec<Event>>,
    cancel: watch::Receiver<Cancel>,
}

/// Shared by every task of a run.
struct Context {
    plan: Arc<Plan>,
    connector: Connector,
    /// One slot per plan host: the connection, or why there is none.
    connections: Vec<OnceCell<Result<Arc<Connection>, ConnectError>>>,
    /// Hosts whose connection broke during the run, with ssh's message.
    lost: Mutex<Vec<Option<String>>>,
    jobs: Semaphore,
    totals: Mutex<Vec<HostTotals>>,
    /// The plan's names, shared by every event that carries them.
    stage_names: Vec<Arc<str>>,
    host_names: Vec<Arc<str>>,
    events: mpsc::Sender<Vec<Event>>,
    cancel: watch::Receiver<Cancel>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum StageState {
    Pending,
    Running,
    Ok,
    Failed,
    Skipped,
    Cancelled,
}

impl Runner {
    pub fn new(
        plan: Plan,
        options: RunOptions,
        events: mpsc::Sender<Vec<Event>>,
        cancel: watch::Receiver<Cancel>,
    ) -> Runner {
        Runner {
            plan: Arc::new(plan),
            options,
            events,
            cancel,
        }
    }

    pub async fn run(self) -> std::io::Result<Summary> {
        let started = Instant::now();
        let plan = self.plan;
        let connector = Connector::new(
            plan.ssh_config.as_deref(),
            self.options.connect_timeout,
            self.options.max_connecting,
        )?;
        let context = Arc::new(Context {
            connections: plan.hosts.iter().map(|_| OnceCell::new()).collect(),
            lost: Mutex::new(vec![None; plan.hosts.len()]),
            jobs: Semaphore::new(self.options.jobs.max(1)),
            totals: Mutex::new(
                plan.hosts
                    .iter()
                    .map(|h| HostTotals {
                        host: h.name.clone(),
                        ..HostTotals::default()
                    })
                    .collect(),
            ),
            stage_names: plan
                .stages
                .iter()
                .map(|s| Arc::from(s.name.as_str()))
                .collect(),
            host_names: plan
                .hosts
                .iter()
                .map(|h| Arc::from(h.name.as_str()))
                .collect(),
            events: self.events,
            cancel: self.cancel,
            connector,
            plan: plan.clone(),
        });
        context
            .emit(Event::RunStarted {
                playbook: plan.name.clone(),
                stages: plan.stages.len(),
                hosts: plan.hosts.len(),
            })
            .await;

        let mut states = vec![StageState::Pending; plan.stages.len()];
        let mut running: JoinSet<(usize, bool)> = JoinSet::new();
        loop {
            for &i in &plan.order {
                if states[i] != StageState::Pending {
                    continue;
                }
                let stage = &plan.stages[i];
                let needs: Vec<StageState> = stage.needs.iter().map(|&n| states[n]).collect();
                let blocked_by = stage.needs.iter().find(|&&n| {
                    matches!(
                        states[n],
                        StageState::Failed | StageState::Skipped | StageState::Cancelled
                    )
                });
                if let Some(&n) = blocked_by {
                    states[i] = StageState::Skipped;
                    context.skip_all(i);
                    let why = if states[n] == StageState::Failed {
                        "failed"
                    } else {
                        "did not run"
                    };
                    context
                        .emit(Event::StageSkipped {
                            stage: context.stage_names[i].clone(),
                            reason: format!("it needs `{}`, which {why}", plan.stages[n].name),
                        })
                        .await;
                } else if needs.iter().all(|s| *s == StageState::Ok) {
                    if let Some(reason) = context.cancelled().reason() {
                        states[i] = StageState::Cancelled;
                        context.skip_all(i);
                        context
                            .emit(Event::StageSkipped {
                                stage: context.stage_names[i].clone(),
                                reason: format!("the run was interrupted by {reason}"),
                            })
                            .await;
                    } else if stage.hosts.is_empty() {
                        // Nothing to do (a --limit left no host here): it does not hold back
                        // the stages that need it.
                        states[i] = StageState::Ok;
                        context
                            .emit(Event::StageSkipped {
                                stage: context.stage_names[i].clone(),
                                reason: "no hosts selected".into(),
                            })
                            .await;
                    } else {
                        states[i] = StageState::Running;
                        let context = context.clone();
                        running.spawn(async move { (i, run_stage(context, i).await) });
                    }
                }
            }
            // `order` is topological, so one pass settles every stage whose needs are settled;
            // the rest wait for a running stage to finish.
            match running.join_next().await {
                Some(Ok((i, ok))) => {
                    states[i] = if ok {
                        StageState::Ok
                    } else {
                        StageState::Failed
                    };
                }
                Some(Err(join_error)) => {
                    // A stage task panicked: a bug in tsync, not a host failure.
                    std::panic::resume_unwind(join_error.into_panic());
                }
                None => break,
            }
        }

        let interrupted = context.cancelled().graceful();
        let Some(context) = Arc::into_inner(context) else {
            unreachable!("every task holding the context has ended");
        };
        let Context {
            connections,
            totals,
            events,
            ..
        } = context;
        let warnings = close_all(connections, &plan).await;
        for message in warnings {
            // The reporter drains the queue until the run ends, even after it failed to write.
            let _ = events.send(vec![Event::Warning { message }]).await;
        }
        let hosts = totals.into_inner().expect("no panics while locked");
        let failed = hosts.iter().any(|h| h.failed > 0);
        let unreachable = hosts.iter().any(|h| h.unreachable > 0);
        let exit_code = if interrupted {
            exit_code::INTERRUPTED
        } else if failed {
            exit_code::HOSTS_FAILED
        } else if unreachable {
            exit_code::UNREACHABLE
        } else {
            exit_code::SUCCESS
        };
        let summary = Summary {
            ok: exit_code == exit_code::SUCCESS,
            interrupted,
            duration_secs: started.elapsed().as_secs_f64(),
            exit_code,
            hosts,
            stages: plan
                .order
                .iter()
                .map(|&i| StageTotals {
                    stage: plan.stages[i].name.clone(),
                    status: match states[i] {
                        StageState::Ok => "ok",
                        StageState::Failed => "failed",
                        StageState::Cancelled => "cancelled",
                        _ => "skipped",
                    },
                })
                .collect(),
        };
        let _ = events
            .send(vec![Event::RunFinished {
                summary: summary.clone(),
            }])
            .await;
        Ok(summary)
    }
}

impl Context {
    /// Waits while the reporter is behind.
    async fn emit(&self, event: Event) {
        // The reporter drains the queue until the run ends, even after it failed to write.
        let _ = self.events.send(vec![event]).await;
    }

    fn cancelled(&self) -> Cancel {
        *self.cancel.borrow()
    }

    /// Resolves when the run is cancelled as far as `reached` asks; returns why.
    async fn until(&self, reached: fn(Cancel) -> bool) -> CancelReason {
        let mut cancel = self.cancel.clone();
        let reason = match cancel.wait_for(|c| reached(*c)).await {
            Ok(c) => c.reason(),
            // The sender is gone: no cancellation can come any more.
            Err(_) => None,
        };
        match reason {
            Some(reason) => reason,
            None => std::future::pending().await,
        }
    }

    /// Counts every step of a stage that will not run as skipped on each of its hosts.
    fn skip_all(&self, stage: usize) {
        let planned = &self.plan.stages[stage];
        let mut totals = self.totals.lock().expect("no panics while locked");
        for &host in &planned.hosts {
            totals[host].skipped += planned.steps.len();
        }
    }

    fn tally(&self, host: usize, update: impl FnOnce(&mut HostTotals)) {
        update(&mut self.totals.lock().expect("no panics while locked")[host]);
    }

    /// The host's connection, opened on first use and shared by every later step and stage.
    async fn connection(&self, host: usize) -> Result<Arc<Connection>, String> {
        if let Some(message) = &self.lost.lock().expect("no panics while locked")[host] {
            return Err(message.clone());
        }
        let destination = self.plan.hosts[host].destination().to_string();
        self.connections[host]
            .get_or_init(|| async { self.connector.connect(&destination).await.map(Arc::new) })
            .await
            .clone()
            .map_err(|e| e.message)
    }

    fn mark_lost(&self, host: usize, message: &str) {
        self.lost.lock().expect("no panics while locked")[host] = Some(message.to_string());
    }
}

/// Runs one stage on all its hosts; true when every host succeeded.
async fn run_stage(context: Arc<Context>, stage: usize) -> bool {
    let started = Instant::now();
    let planned = &context.plan.stages[stage];
    context
        .emit(Event::StageStarted {
            stage: context.stage_names[stage].clone(),
            hosts: planned
                .hosts
                .iter()
                .map(|&h| context.host_names[h].clone())
                .collect(),
        })
        .await;
    let mut hosts = JoinSet::new();
    for position in 0..planned.hosts.len() {
        let context = context.clone();
        hosts.spawn(async move { run_host(&context, stage, position).await });
    }
    let mut ok = true;
    while let Some(outcome) = hosts.join_next().await {
        match outcome {
            Ok(HostOutcome::Ok) => {}
            Ok(_) => ok = false,
            Err(join_error) => std::panic::resume_unwind(join_error.into_panic()),
        }
    }
    context
        .emit(Event::StageFinished {
            stage: context.stage_names[stage].clone(),
            ok,
            duration_secs: started.elapsed().as_secs_f64(),
        })
        .await;
    ok
}

/// How one step ended on one host, for the host's tally.
enum StepOutcome {
    Ok,
    /// The step failed; why, for the recap.
    Failed(String),
    /// The connection broke: ssh's message.
    Lost(String),
}

/// How waiting for a step's command ended.
enum Ended {
    Ran(Result<Executed, ExecError>),
    TimedOut,
    Cancelled(CancelReason),
}

/// Runs a stage's steps on the host at `position` in the stage's host list.
async fn run_host(context: &Context, stage: usize, position: usize) -> HostOutcome {
    let planned = &context.plan.stages[stage];
    let host = planned.hosts[position];
    let steps = planned.steps.len();

    let outcome = async {
        let _job = tokio::select! {
            permit = context.jobs.acquire() => permit.expect("the semaphore is never closed"),
            _ = context.until(Cancel::graceful) => return (HostOutcome::Skipped, 0),
        };
        if context.cancelled().graceful() {
            return (HostOutcome::Skipped, 0);
        }
        let connection = tokio::select! {
            c = context.connection(host) => c,
            _ = context.until(Cancel::forced) => return (HostOutcome::Skipped, 0),
        };
        let connection = match connection {
            Ok(c) => c,
            Err(error) => {
                unreachable(context, stage, host, error, "unreachable").await;
                return (HostOutcome::Unreachable, 0);
            }
        };
        for k in 0..steps {
            if context.cancelled().graceful() {
                return (HostOutcome::Skipped, k);
            }
            match run_step(context, &connection, stage, position, k).await {
                StepOutcome::Ok => context.tally(host, |t| {
                    t.ok += 1;
                    t.changed += 1;
                }),
                StepOutcome::Failed(why) => {
                    context.tally(host, |t| {
                        t.failed += 1;
                        t.failure
                            .get_or_insert(format!("{}: step {}{why}", planned.name, k + 1));
                    });
                    return (HostOutcome::Failed, k + 1);
                }
                StepOutcome::Lost(error) => {
                    context.mark_lost(host, &error);
                    unreachable(context, stage, host, error, "connection lost").await;
                    return (HostOutcome::Unreachable, k + 1);
                }
            }
        }
        (HostOutcome::Ok, steps)
    };
    let started = Instant::now();
    let (outcome, ran) = outcome.await;
    // Steps after a failure, or never started, are skipped.
    context.tally(host, |t| {
        t.skipped += steps - ran.min(steps);
        t.duration_secs += started.elapsed().as_secs_f64();
    });
    context
        .emit(Event::HostFinished {
            stage: context.stage_names[stage].clone(),
            host: context.host_names[host].clone(),
            outcome,
            duration_secs: started.elapsed().as_secs_f64(),
        })
        .await;
    outcome
}

/// Reports a host that could not be reached, or whose connection broke, and counts it.
async fn unreachable(context: &Context, stage: usize, host: usize, error: String, what: &str) {
    let name = &context.plan.stages[stage].name;
    context.tally(host, |t| {
        t.unreachable += 1;
        t.failure.get_or_insert(format!("{name}: {what}: {error}"));
    });
    context
        .emit(Event::HostUnreachable {
            stage: context.stage_names[stage].clone(),
            host: context.host_names[host].clone(),
            error,
        })
        .await;
}

/// Runs step `k` of a stage on one host, within its timeout and until a forced cancel.
async fn run_step(
    context: &Context,
    connection: &Connection,
    stage: usize,
    position: usize,
    k: usize,
) -> StepOutcome {
    let planned = &context.plan.stages[stage];
    let step = &planned.steps[k];
    let host = planned.hosts[position];
    let command = &step.commands[position];
    context
        .emit(Event::StepStarted {
            stage: context.stage_names[stage].clone(),
            host: context.host_names[host].clone(),
            step: k + 1,
            kind: step.kind.to_string(),
            command: command.clone(),
        })
        .await;
    let started = Instant::now();
    let mut output = StepOutput {
        context,
        stage: context.stage_names[stage].clone(),
        host: context.host_names[host].clone(),
        step: k + 1,
        batch: Vec::new(),
        bytes: 0,
    };
    let group = AtomicU32::new(0);
    let exec = connection.exec(
        command,
        step.stdin.as_deref().map(str::as_bytes),
        &group,
        &mut output,
    );
    let result = tokio::select! {
        r = tokio::time::timeout(step.timeout, exec) => match r {
            Ok(r) => Ended::Ran(r),
            Err(_elapsed) => Ended::TimedOut,
        },
        reason = context.until(Cancel::forced) => {
            connection.stop(group.load(Ordering::SeqCst)).await;
            Ended::Cancelled(reason)
        }
    };
    // Lines read before a timeout or a cancel are shown too, before the step's end.
    output.flush().await;
    // Every path below reports the step's end, whatever it was.
    let finished = |exit_code: Option<i32>, end: StepEnd, stderr: String, error: Option<String>| {
        Event::StepFinished {
            stage: context.stage_names[stage].clone(),
            host: context.host_names[host].clone(),
            step: k + 1,
            command: command.clone(),
            exit_code,
            ok: exit_code == Some(0),
            duration_secs: started.elapsed().as_secs_f64(),
            end,
            stderr,
            error,
        }
    };
    let (event, outcome) = match result {
        Ended::Ran(Ok(done)) if done.exit_code == Some(0) => (
            finished(done.exit_code, StepEnd::Exited, String::new(), None),
            StepOutcome::Ok,
        ),
        Ended::Ran(Ok(done)) => {
            let (how, end) = match done.exit_code {
                Some(code) => (format!("exit code {code}"), StepEnd::Exited),
                None => ("killed by a signal".to_string(), StepEnd::Signalled),
            };
            (
                finished(done.exit_code, end, done.stderr_tail, None),
                StepOutcome::Failed(format!(" `{}`: {how}", step.written)),
            )
        }
        Ended::Ran(Err(ExecError::Disconnected(error))) => (
            finished(
                None,
                StepEnd::ConnectionLost,
                String::new(),
                Some(format!("connection lost: {error}")),
            ),
            StepOutcome::Lost(error),
        ),
        Ended::Ran(Err(ExecError::Failed(error))) => (
            finished(None, StepEnd::Error, String::new(), Some(error.clone())),
            StepOutcome::Failed(format!(": {error}")),
        ),
        Ended::Cancelled(reason) => (
            finished(
                None,
                StepEnd::Cancelled,
                String::new(),
                Some(format!("stopped by {reason}")),
            ),
            StepOutcome::Failed(format!(" `{}` stopped by {reason}", step.written)),
        ),
        Ended::TimedOut => {
            // The host stopped answering, or the command runs too long: cut it off. A
            // connection that could not serve this step is not used again.
            connection.stop(group.load(Ordering::SeqCst)).await;
            context.mark_lost(host, "a step timed out on this connection earlier");
            context
                .emit(Event::StepTimedOut {
                    stage: context.stage_names[stage].clone(),
                    host: context.host_names[host].clone(),
                    step: k + 1,
                    command: command.clone(),
                    timeout_secs: step.timeout.as_secs_f64(),
                })
                .await;
            let after = humantime::format_duration(step.timeout);
            (
                finished(
                    None,
                    StepEnd::TimedOut,
                    String::new(),
                    Some(format!("timed out after {after}")),
                ),
                StepOutcome::Failed(format!(" `{}` timed out after {after}", step.written)),
            )
        }
    };
    context.emit(event).await;
    outcome
}

/// A step's output, turned into events and sent in batches.
struct StepOutput<'a> {
    context: &'a Context,
    stage: Arc<str>,
    host: Arc<str>,
    step: usize,
    batch: Vec<Event>,
    bytes: usize,
}

impl Output for StepOutput<'_> {
    async fn line(&mut self, stream: Stream, line: String) {
        self.bytes += line.len() + std::mem::size_of::<Event>();
        self.batch.push(Event::Output {
            stage: self.stage.clone(),
            host: self.host.clone(),
            step: self.step,
            stream,
            line,
        });
        if self.bytes >= BATCH_BYTES {
            self.flush().await;
        }
    }

    async fn flush(&mut self) {
        if !self.batch.is_empty() {
            self.bytes = 0;
            let batch = std::mem::take(&mut self.batch);
            // The reporter drains the queue until the run ends, even after it failed to write.
            let _ = self.context.events.send(batch).await;
        }
    }
}

/// Closes every connection that was opened, all at once, each within a time limit; returns
/// what could not be closed cleanly.
async fn close_all(
    connections: Vec<OnceCell<Result<Arc<Connection>, ConnectError>>>,
    plan: &Plan,
) -> Vec<String> {
    let mut closing = JoinSet::new();
    for (i, cell) in connections.into_iter().enumerate() {
        let Some(Ok(connection)) = cell.into_inner() else {
            continue;
        };
        let host = plan.hosts[i].name.clone();
        closing.spawn(async move {
            // Every task that used the connection has ended: this is the last reference.
            let Some(connection) = Arc::into_inner(connection) else {
                return Some(format!("the connection to {host} was still in use at exit"));
            };
            match tokio::time::timeout(Duration::from_secs(5), connection.close()).await {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(format!("closing the connection to {host}: {e}")),
                Err(_) => Some(format!("closing the connection to {host} timed out")),
            }
        });
    }
    let mut warnings = Vec::new();
    while let Some(result) = closing.join_next().await {
        if let Ok(Some(message)) = result {
            warnings.push(message);
        }
    }
    warnings
}
