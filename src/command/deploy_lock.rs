//! The deploy lock of `tsync apply`, taken before the runner touches any host; the runner
//! gives it back when the run ends, whatever ended it (success, failure, Ctrl-C, SIGTERM,
//! SIGHUP). A killed controller cannot give it back: its heartbeat stops, and the lock goes
//! stale.

use std::path::Path;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};

use crate::cli::{Execution, IfLocked, LockArgs};
use crate::exit_code;
use crate::lock::{
    Blocked, HeldLock, LocalLock, LocalRefusal, LockName, LockRecord, LockSet, Taking,
};
use crate::plan::{Plan, PlannedLock};
use crate::runner::{Cancel, Event};

/// A lock whose heartbeat is older than this is stale, unless the playbook or
/// `--lock-expiry` say otherwise.
const DEFAULT_EXPIRY: Duration = Duration::from_secs(300);
/// Where the local lock's holder is, as messages name it.
const THIS_MACHINE: &str = "this machine";
/// How often a held lock is asked again under `--lock-wait`.
const POLL: Duration = Duration::from_secs(1);
/// The heartbeat never runs more often than this, whatever the expiry.
const MIN_HEARTBEAT: Duration = Duration::from_millis(500);

/// The lock an `apply` will take: its name, its record and its hosts.
pub struct DeployLock {
    name: LockName,
    set: LockSet,
    wait: Option<Duration>,
    if_locked: IfLocked,
    break_stale: bool,
    heartbeat: Duration,
    /// The playbook names the lock hosts (`lock on`): each one must be reached, for they
    /// are where every controller meets.
    named_hosts: bool,
}

/// What trying to take the lock came to.
pub enum Acquired {
    Held(HeldLock),
    /// A dry run takes no lock.
    NotTaken,
    /// The run must not go on; its exit code. Why has been said.
    Refused(i32),
}

impl DeployLock {
    /// The lock `planned` for a run of `plan` (read from `playbook`). `--lock-expiry`
    /// overrides the playbook's `lock expiry`.
    pub fn new(
        plan: &Plan,
        planned: &PlannedLock,
        playbook: &Path,
        args: &LockArgs,
        execution: &Execution,
    ) -> std::io::Result<DeployLock> {
        let name = LockName::from_playbook(&planned.name);
        let expiry = args
            .lock_expiry
            .or(planned.expiry)
            .unwrap_or(DEFAULT_EXPIRY);
        let record = LockRecord::for_this_run(playbook, expiry, args.lock_message.clone());
        let hosts = planned
            .hosts
            .as_ref()
            .unwrap_or(&plan.hosts)
            .iter()
            .map(|h| (h.name.clone(), h.destination().to_string()))
            .collect();
        let set = LockSet::new(
            name.clone(),
            record,
            hosts,
            plan.ssh_config.as_deref(),
            execution.connect_timeout,
            execution.max_connecting,
            execution.persist,
        )?;
        Ok(DeployLock {
            name,
            set,
            wait: args.lock_wait,
            if_locked: args.if_locked,
            break_stale: args.break_stale,
            heartbeat: (expiry / 5).max(MIN_HEARTBEAT),
            named_hosts: planned.hosts.is_some(),
        })
    }

    /// Takes the lock here, then on the hosts, waiting as `--lock-wait` allows. A dry run
    /// takes nothing and only warns about a lock held on a host.
    pub async fn acquire(
        mut self,
        dry_run: bool,
        events: &mpsc::Sender<Vec<Event>>,
        mut cancelled: watch::Receiver<Cancel>,
    ) -> Acquired {
        let emit = |event: Event| async move {
            let _ = events.send(vec![event]).await;
        };
        let deadline = self.wait.map(|w| Instant::now() + w);
        let unreachable = self.set.connect().await;
        if self.named_hosts && !dry_run && !unreachable.is_empty() {
            for (host, error) in unreachable {
                eprintln!(
                    "error: cannot take the deploy lock `{}` on its lock host {host}: {error}",
                    self.name
                );
            }
            self.set.release().await;
            return Acquired::Refused(exit_code::UNREACHABLE);
        }
        // A host of the run that cannot be reached goes without the lock, and the runner
        // leaves it alone (`HeldLock::unreachable`) even if it answers later.
        if dry_run {
            for (host, error) in unreachable {
                emit(Event::Warning {
                    message: format!("cannot see the deploy lock on {host}: {error}"),
                })
                .await;
            }
            for blocked in self.set.holders().await {
                let message = format!(
                    "{}; a real run would wait for it or stop",
                    held_text(&self.name, &blocked)
                );
                emit(Event::Warning { message }).await;
            }
            self.set.release().await;
            return Acquired::NotTaken;
        }
        let mut waited_for: Option<(String, Option<String>)> = None;
        let local = loop {
            match LocalLock::try_take(&self.name, self.set.record()) {
                Ok(local) => break local,
                Err(LocalRefusal::Failed(message)) => {
                    eprintln!("error: cannot take the local deploy lock: {message}");
                    self.set.release().await;
                    return Acquired::Refused(exit_code::INTERNAL);
                }
                Err(LocalRefusal::Held(holder)) => {
                    // The flock is held, so its process is alive: its record (written once)
                    // must not read as stale, however long the run takes.
                    let holder = holder.map(|record| LockRecord {
                        heartbeat: crate::lock::unix_now(),
                        ..record
                    });
                    let blocked = Blocked {
                        host: THIS_MACHINE.to_string(),
                        holder,
                    };
                    if let Some(code) = self
                        .wait_or_refuse(&blocked, deadline, &mut waited_for, events, &mut cancelled)
                        .await
                    {
                        self.set.release().await;
                        return Acquired::Refused(code);
                    }
                }
            }
        };
        let mut broken = Vec::new();
        loop {
            match self.set.try_take(self.break_stale, &mut broken).await {
                Ok(Taking::Taken) => break,
                Ok(Taking::Blocked(blocked)) => {
                    if let Some(code) = self
                        .wait_or_refuse(&blocked, deadline, &mut waited_for, events, &mut cancelled)
                        .await
                    {
                        self.set.release().await;
                        return Acquired::Refused(code);
                    }
                }
                Err(message) => {
                    eprintln!("error: {message}");
                    self.set.release().await;
                    return Acquired::Refused(exit_code::HOSTS_FAILED);
                }
            }
        }
        for (host, record) in broken {
            let message = format!(
                "broke the stale lock `{}` on {host}: {}",
                self.name,
                record.describe(crate::lock::unix_now())
            );
            emit(Event::Warning { message }).await;
        }
        let warnings = events.clone();
        // A heartbeat's warning must not wait for a reporter that is behind: dropped then.
        let warn = move |message| {
            let _ = warnings.try_send(vec![Event::Warning { message }]);
        };
        Acquired::Held(HeldLock::start(self.set, local, self.heartbeat, warn))
    }

    /// Waits a moment for `blocked` to be released, or says why the run stops: None to try
    /// again, else the exit code.
    async fn wait_or_refuse(
        &self,
        blocked: &Blocked,
        deadline: Option<Instant>,
        waited_for: &mut Option<(String, Option<String>)>,
        events: &mpsc::Sender<Vec<Event>>,
        cancelled: &mut watch::Receiver<Cancel>,
    ) -> Option<i32> {
        let held = held_text(&self.name, blocked);
        let id = blocked.holder.as_ref().map(|r| r.id.clone());
        let release = match &id {
            Some(_) if blocked.host == THIS_MACHINE => {
                format!(
                    "its process (pid {}) holds it",
                    blocked.holder.as_ref().map_or(0, |r| r.pid)
                )
            }
            Some(id) => format!("tsync lock release {} --id {id}", blocked.host),
            None => "its record cannot be read: look at ~/.tsync/locks on the host".to_string(),
        };
        if blocked.stale() {
            // A stale lock never frees itself, and a run that skips it would skip forever
            // without anyone hearing of it.
            eprintln!(
                "error: {held}\n  help: if its holder is gone, break it with --break-stale or {release}"
            );
            return Some(exit_code::LOCKED);
        }
        let in_time = deadline.is_some_and(|d| Instant::now() + POLL <= d);
        if !in_time {
            if self.if_locked == IfLocked::Skip {
                eprintln!("skipped: {held}");
                return Some(exit_code::LOCK_SKIPPED);
            }
            eprintln!(
                "error: {held}\n  help: wait for it with --lock-wait DURATION, skip with --if-locked=skip, \
                 or if its holder is gone: {release}"
            );
            return Some(exit_code::LOCKED);
        }
        let now_waiting = Some((blocked.host.clone(), id));
        if *waited_for != now_waiting {
            *waited_for = now_waiting;
            let _ = events
                .send(vec![Event::LockWaiting {
                    name: self.name.to_string(),
                    host: blocked.host.clone(),
                    holder: blocked.holder.clone(),
                }])
                .await;
        }
        tokio::select! {
            () = tokio::time::sleep(POLL) => None,
            _ = cancelled.wait_for(|c| c.graceful()) => Some(exit_code::INTERRUPTED),
        }
    }
}

/// "the deploy lock `web` is held on lab-1: held by …".
fn held_text(name: &LockName, blocked: &Blocked) -> String {
    let whose = match &blocked.holder {
        Some(record) => record.describe(crate::lock::unix_now()),
        None => "its record cannot be read (being written, or damaged)".to_string(),
    };
    let state = if blocked.stale() { "stale" } else { "held" };
    format!(
        "the deploy lock `{name}` is {state} on {}: {whose}",
        blocked.host
    )
}
