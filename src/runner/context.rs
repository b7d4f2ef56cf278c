//! What every task of a run shares: the plan, the connections, the `--jobs` permits, the
//! totals, and the way out to the reporter.

use std::sync::{Arc, Mutex};

use tokio::sync::{OnceCell, Semaphore, mpsc, watch};

use super::cancel::{Cancel, CancelReason};
use super::event::Event;
use super::summary::HostTotals;
use crate::fleet::KnownDisks;
use crate::plan::Plan;
use crate::transport::{ConnectError, Connection, Connector, HttpClient};

pub(super) struct Context {
    pub(super) plan: Arc<Plan>,
    pub(super) connector: Connector,
    /// One slot per plan host: the connection, or why there is none.
    pub(super) connections: Vec<OnceCell<Result<Arc<Connection>, ConnectError>>>,
    /// Hosts whose connection broke during the run, with ssh's message.
    pub(super) lost: Mutex<Vec<Option<String>>>,
    pub(super) jobs: Semaphore,
    /// Makes the requests of http checks; its TLS settings are built once per run.
    pub(super) http: HttpClient,
    /// A dry run: nothing that changes a host is sent.
    pub(super) dry_run: bool,
    /// What placement knows of the hosts' disks.
    pub(super) disks: Arc<KnownDisks>,
    pub(super) totals: Mutex<Vec<HostTotals>>,
    /// The plan's names, shared by every event that carries them.
    pub(super) stage_names: Vec<Arc<str>>,
    pub(super) host_names: Vec<Arc<str>>,
    pub(super) events: mpsc::Sender<Vec<Event>>,
    pub(super) cancel: watch::Receiver<Cancel>,
}

impl Context {
    /// Waits while the reporter is behind.
    pub(super) async fn emit(&self, event: Event) {
        self.send(vec![event]).await;
    }

    /// Sends several events at once (a step's output lines); waits while the reporter is
    /// behind.
    pub(super) async fn send(&self, batch: Vec<Event>) {
        // The reporter drains the queue until the run ends, even after it failed to write.
        let _ = self.events.send(batch).await;
    }

    /// Sends an event if the reporter has room for it now, and drops it otherwise: for
    /// progress, which must not hold up the work it reports on.
    pub(super) fn offer(&self, event: Event) {
        let _ = self.events.try_send(vec![event]);
    }

    pub(super) fn cancelled(&self) -> Cancel {
        *self.cancel.borrow()
    }

    /// Resolves when the run is cancelled as far as `reached` asks; returns why.
    pub(super) async fn until(&self, reached: fn(Cancel) -> bool) -> CancelReason {
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
    pub(super) fn skip_all(&self, stage: usize) {
        let planned = &self.plan.stages[stage];
        let mut totals = self.totals.lock().expect("no panics while locked");
        for &host in &planned.hosts {
            totals[host].skipped += planned.steps.len();
        }
    }

    pub(super) fn tally(&self, host: usize, update: impl FnOnce(&mut HostTotals)) {
        update(&mut self.totals.lock().expect("no panics while locked")[host]);
    }

    /// The host's connection, opened on first use and shared by every later step and stage.
    pub(super) async fn connection(&self, host: usize) -> Result<Arc<Connection>, String> {
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

    /// Reports a host that could not be reached, or whose connection broke, and counts it.
    pub(super) async fn unreachable(&self, stage: usize, host: usize, error: String, what: &str) {
        let name = &self.plan.stages[stage].name;
        self.tally(host, |t| {
            t.unreachable += 1;
            t.failure.get_or_insert(format!("{name}: {what}: {error}"));
        });
        self.emit(Event::HostUnreachable {
            stage: self.stage_names[stage].clone(),
            host: self.host_names[host].clone(),
            error,
        })
        .await;
    }

    /// The host's connection broke earlier in the run.
    pub(super) fn is_lost(&self, host: usize) -> bool {
        self.lost.lock().expect("no panics while locked")[host].is_some()
    }

    pub(super) fn mark_lost(&self, host: usize, message: &str) {
        self.lost.lock().expect("no panics while locked")[host] = Some(message.to_string());
    }
}
