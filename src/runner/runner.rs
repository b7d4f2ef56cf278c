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

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OnceCell, Semaphore, mpsc, watch};
use tokio::task::JoinSet;

use super::cancel::Cancel;
use super::context::Context;
use super::event::Event;
use super::stage::run_stage;
use super::summary::{HostTotals, StageStatus, StageTotals, Summary};
use crate::exit_code;
use crate::fleet::KnownDisks;
use crate::lock::HeldLock;
use crate::plan::Plan;
use crate::transport::{ConnectError, Connection, Connector, HttpClient, Masters};

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Hosts worked on at once, across all running stages.
    pub jobs: usize,
    pub connect_timeout: Duration,
    /// SSH handshakes in flight at once.
    pub max_connecting: usize,
    /// Change nothing: connect, evaluate guards and checks, report what would run.
    pub dry_run: bool,
    /// Keep each host's master this long after the run, and reuse live ones (`--persist`).
    pub persist: Option<Duration>,
    /// Disk figures that spare `least-loaded(…)` a `df` on each candidate; it adds those it
    /// measures.
    pub disks: Arc<KnownDisks>,
}

/// How many batches of events may wait for the reporter. A batch holds at most about
/// 64 KiB of lines and their events, so the queue holds at most about 2 MiB, and usually a
/// few KiB.
pub const EVENT_QUEUE: usize = 32;

pub struct Runner {
    plan: Arc<Plan>,
    options: RunOptions,
    events: mpsc::Sender<Vec<Event>>,
    cancel: watch::Receiver<Cancel>,
    /// The deploy lock, held from before the run: given back once every connection of the
    /// run is closed, and before `run_finished`.
    lock: Option<HeldLock>,
}

/// Where a stage is in the walk of the DAG.
#[derive(Debug, Clone, Copy, PartialEq)]
enum StageState {
    Pending,
    Running,
    Done(StageStatus),
}

impl Runner {
    pub fn new(
        plan: Plan,
        options: RunOptions,
        events: mpsc::Sender<Vec<Event>>,
        cancel: watch::Receiver<Cancel>,
        lock: Option<HeldLock>,
    ) -> Runner {
        Runner {
            plan: Arc::new(plan),
            options,
            events,
            cancel,
            lock,
        }
    }

    pub async fn run(self) -> std::io::Result<Summary> {
        let started = Instant::now();
        let plan = self.plan;
        let mut connector = match Connector::new(
            plan.ssh_config.as_deref(),
            self.options.connect_timeout,
            self.options.max_connecting,
        ) {
            Ok(connector) => connector,
            Err(e) => {
                // Nothing ran: the lock goes back at once (its problems are moot next to
                // this error).
                if let Some(lock) = self.lock {
                    lock.release().await;
                }
                return Err(e);
            }
        };
        // The lock's hosts are already connected: the run goes over those masters.
        if let Some(lock) = &self.lock {
            connector = connector.share(lock.masters().iter().cloned());
        }
        // Warm masters are a speed-up, never a reason to fail: without them the run is cold.
        let mut persist_warning = None;
        if let Some(idle) = self.options.persist {
            match Masters::open(idle, plan.ssh_config.as_deref()) {
                Ok(masters) => connector = connector.persist(masters),
                Err(e) => {
                    persist_warning = Some(format!("connections are not kept (--persist): {e}"))
                }
            }
        }
        let context = Arc::new(Context {
            connections: plan.hosts.iter().map(|_| OnceCell::new()).collect(),
            lost: Mutex::new(lost_before(&plan, self.lock.as_ref())),
            jobs: Semaphore::new(self.options.jobs.max(1)),
            http: HttpClient::default(),
            dry_run: self.options.dry_run,
            disks: self.options.disks.clone(),
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
        if let Some(lock) = &self.lock {
            context
                .emit(Event::LockTaken {
                    name: lock.name().to_string(),
                    hosts: lock.hosts().to_vec(),
                    id: lock.id().to_string(),
                })
                .await;
        }
        if let Some(message) = persist_warning {
            context.emit(Event::Warning { message }).await;
        }

        let mut states = vec![StageState::Pending; plan.stages.len()];
        let mut running: JoinSet<(usize, StageStatus)> = JoinSet::new();
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
                        StageState::Done(
                            StageStatus::Failed | StageStatus::Skipped | StageStatus::Cancelled
                        )
                    )
                });
                if let Some(&n) = blocked_by {
                    states[i] = StageState::Done(StageStatus::Skipped);
                    context.skip_all(i);
                    let why = if states[n] == StageState::Done(StageStatus::Failed) {
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
                } else if needs
                    .iter()
                    .all(|s| *s == StageState::Done(StageStatus::Ok))
                {
                    if let Some(reason) = context.cancelled().reason() {
                        states[i] = StageState::Done(StageStatus::Cancelled);
                        context.skip_all(i);
                        context
                            .emit(Event::StageSkipped {
                                stage: context.stage_names[i].clone(),
                                reason: format!("the run was interrupted by {reason}"),
                            })
                            .await;
                    } else if stage.hosts.is_empty() {
                        // Nothing to do (a --limit left no host here, or a retry found it
                        // done): it does not hold back the stages that need it.
                        states[i] = StageState::Done(StageStatus::Ok);
                        let reason = if stage.done.is_empty() {
                            "no hosts selected".into()
                        } else {
                            format!(
                                "done on its {} host(s) in the run retried",
                                stage.done.len()
                            )
                        };
                        context
                            .emit(Event::StageSkipped {
                                stage: context.stage_names[i].clone(),
                                reason,
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
                Some(Ok((i, status))) => states[i] = StageState::Done(status),
                Some(Err(join_error)) => {
                    // A stage task panicked: a bug in tsync, not a host failure.
                    std::panic::resume_unwind(join_error.into_panic());
                }
                None => break,
            }
        }

        let interrupted = context.cancelled().graceful();
        let context = Arc::into_inner(context).expect("every task holding the context has ended");
        let Context {
            connections,
            totals,
            events,
            ..
        } = context;
        let mut warnings = close_all(connections, &plan).await;
        let mut released = None;
        if let Some(lock) = self.lock {
            let (name, hosts) = (lock.name().to_string(), lock.hosts().to_vec());
            warnings.extend(lock.release().await);
            released = Some(Event::LockReleased { name, hosts });
        }
        for event in warnings
            .into_iter()
            .map(|message| Event::Warning { message })
            .chain(released)
        {
            // The reporter drains the queue until the run ends, even after it failed to write.
            let _ = events.send(vec![event]).await;
        }
        let hosts = totals.into_inner().expect("no panics while locked");
        // A rollout that stopped failed the run, even when only unreachable hosts stopped it.
        let failed = hosts.iter().any(|h| h.failed > 0 || h.not_started > 0);
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
            dry_run: self.options.dry_run,
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
                        StageState::Done(status) => status,
                        // The walk settles every stage before it ends.
                        StageState::Pending | StageState::Running => StageStatus::Skipped,
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

/// The hosts the run starts without: those the deploy lock could not reach are not locked,
/// so the run must not touch them even if they answer now.
fn lost_before(plan: &Plan, lock: Option<&HeldLock>) -> Vec<Option<String>> {
    let mut lost = vec![None; plan.hosts.len()];
    for (host, error) in lock.map_or(&[][..], HeldLock::unreachable) {
        if let Some(i) = plan.hosts.iter().position(|h| &h.name == host) {
            lost[i] = Some(format!(
                "unreachable when the deploy lock was taken: {error}"
            ));
        }
    }
    lost
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
