//! A lock held for a run: the remote locks, kept alive by a heartbeat task that owns them,
//! and the local lock. The runner gives it back when the run ends, before its last event.

use std::collections::HashSet;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::local_lock::LocalLock;
use super::lock_name::LockName;
use super::lock_set::LockSet;

pub struct HeldLock {
    name: LockName,
    id: String,
    hosts: Vec<String>,
    unreachable: Vec<(String, String)>,
    /// The lock's masters (destination, control socket), open until it is released.
    masters: Vec<(String, std::path::PathBuf)>,
    /// Dropped last: the local lock is given back after the remote ones.
    local: LocalLock,
    stop: oneshot::Sender<()>,
    heartbeat: JoinHandle<LockSet>,
}

impl HeldLock {
    /// Starts the heartbeat: every `every`, the record on each host gets a new heartbeat
    /// time; what goes wrong is handed to `warn`, each message once (a host that went away
    /// fails every beat). Call it inside the runtime.
    pub fn start(
        mut set: LockSet,
        local: LocalLock,
        every: Duration,
        warn: impl Fn(String) + Send + 'static,
    ) -> HeldLock {
        let (stop, mut stopped) = oneshot::channel();
        let name = set.name().clone();
        let id = set.record().id.clone();
        let hosts = set.held_on();
        let unreachable = set.unreachable().to_vec();
        let masters = set.masters();
        let heartbeat = tokio::spawn(async move {
            let mut warned = HashSet::new();
            loop {
                tokio::select! {
                    () = tokio::time::sleep(every) => {
                        for message in set.heartbeat().await {
                            if warned.insert(message.clone()) {
                                warn(message);
                            }
                        }
                    }
                    _ = &mut stopped => break,
                }
            }
            set
        });
        HeldLock {
            name,
            id,
            hosts,
            unreachable,
            masters,
            local,
            stop,
            heartbeat,
        }
    }

    pub fn name(&self) -> &LockName {
        &self.name
    }

    /// The id in the lock's record, which releases it by hand.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The hosts it is held on.
    pub fn hosts(&self) -> &[String] {
        &self.hosts
    }

    /// The masters of the lock's connections (destination, control socket): the run goes
    /// over them instead of a second handshake to the same hosts.
    pub fn masters(&self) -> &[(String, std::path::PathBuf)] {
        &self.masters
    }

    /// The lock hosts that could not be reached when it was taken, with ssh's reason: the
    /// run must not touch them, for they are not locked.
    pub fn unreachable(&self) -> &[(String, String)] {
        &self.unreachable
    }

    /// Stops the heartbeat and gives the lock back on every host, then here; returns what
    /// went wrong.
    pub async fn release(self) -> Vec<String> {
        let _ = self.stop.send(());
        let set = match self.heartbeat.await {
            Ok(set) => set,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        };
        let problems = set.release().await;
        drop(self.local);
        problems
    }
}
