//! The remote lock of one run: the same lock directory on each lock host, taken host by host
//! in name order, all or nothing. Two controllers whose hosts overlap meet at the first host
//! they share; the one that got there first goes on and the other gives back what it took,
//! so neither waits for the other while holding anything.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;

use super::lock_name::LockName;
use super::lock_record::{LockRecord, unix_now};
use super::remote::{self, Released, Took};
use crate::transport::{Connection, Connector, Masters};

pub struct LockSet {
    name: LockName,
    record: LockRecord,
    connector: Arc<Connector>,
    /// Host names and ssh destinations, sorted by name: the order locks are taken in.
    hosts: Vec<(String, String)>,
    /// One per host once connected; None where the host could not be reached.
    connections: Vec<Option<Connection>>,
    /// Indices of the hosts whose lock this run holds.
    taken: Vec<usize>,
    /// Hosts that could not be reached, with ssh's reason.
    unreachable: Vec<(String, String)>,
}

/// One attempt's result.
#[derive(Debug)]
pub enum Taking {
    /// Held on every reachable host.
    Taken,
    /// Someone else holds it on `host`; nothing is held.
    Blocked(Blocked),
}

/// A lock held by someone else.
#[derive(Debug, Clone)]
pub struct Blocked {
    pub host: String,
    /// None when its record cannot be read.
    pub holder: Option<LockRecord>,
}

impl Blocked {
    pub fn stale(&self) -> bool {
        self.holder.as_ref().is_some_and(|r| r.is_stale(unix_now()))
    }
}

impl LockSet {
    /// A lock named `name` on `hosts` (name, destination), held by `record`; `persist` as
    /// the run's `--persist`.
    pub fn new(
        name: LockName,
        record: LockRecord,
        mut hosts: Vec<(String, String)>,
        ssh_config: Option<&Path>,
        connect_timeout: Duration,
        max_connecting: usize,
        persist: Option<Duration>,
    ) -> std::io::Result<LockSet> {
        hosts.sort();
        hosts.dedup();
        let mut connector = Connector::new(ssh_config, connect_timeout, max_connecting)?;
        // With `--persist` the lock's connections are the warm masters the run then shares;
        // where they cannot be kept the runner says so, and the lock connects cold.
        if let Some(masters) = persist.and_then(|idle| Masters::open(idle, ssh_config).ok()) {
            connector = connector.persist(masters);
        }
        Ok(LockSet {
            name,
            record,
            connector: Arc::new(connector),
            connections: Vec::new(),
            hosts,
            taken: Vec::new(),
            unreachable: Vec::new(),
        })
    }

    pub fn name(&self) -> &LockName {
        &self.name
    }

    pub fn record(&self) -> &LockRecord {
        &self.record
    }

    /// The hosts the lock is held on.
    pub fn held_on(&self) -> Vec<String> {
        self.taken
            .iter()
            .map(|&i| self.hosts[i].0.clone())
            .collect()
    }

    /// Connects to every lock host at once; returns the hosts that could not be reached,
    /// with ssh's reason. They are left out of the lock: the run cannot touch them either.
    pub async fn connect(&mut self) -> Vec<(String, String)> {
        let mut connecting = JoinSet::new();
        for (i, (_, destination)) in self.hosts.iter().enumerate() {
            let connector = self.connector.clone();
            let destination = destination.clone();
            connecting.spawn(async move { (i, connector.connect(&destination).await) });
        }
        let mut connections: Vec<Option<Connection>> = self.hosts.iter().map(|_| None).collect();
        let mut unreachable = Vec::new();
        while let Some(joined) = connecting.join_next().await {
            let (i, result) = joined.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
            match result {
                Ok(connection) => connections[i] = Some(connection),
                Err(e) => unreachable.push((self.hosts[i].0.clone(), e.message)),
            }
        }
        unreachable.sort();
        self.connections = connections;
        self.unreachable = unreachable.clone();
        unreachable
    }

    /// The masters of the lock's connections (destination, control socket), for the run to
    /// share instead of connecting a second time.
    pub fn masters(&self) -> Vec<(String, std::path::PathBuf)> {
        self.hosts
            .iter()
            .zip(&self.connections)
            .filter_map(|((_, destination), c)| {
                c.as_ref()
                    .map(|c| (destination.clone(), c.control_socket()))
            })
            .collect()
    }

    /// The hosts [`connect`](Self::connect) could not reach, with ssh's reason.
    pub fn unreachable(&self) -> &[(String, String)] {
        &self.unreachable
    }

    /// Tries once to take the lock on every connected host, in order. With `break_stale`, a
    /// stale lock in the way is removed (by its own id) and taken; the records of those
    /// broken are added to `broken`. Blocked or failed, everything taken is given back.
    pub async fn try_take(
        &mut self,
        break_stale: bool,
        broken: &mut Vec<(String, LockRecord)>,
    ) -> Result<Taking, String> {
        for i in 0..self.hosts.len() {
            let Some(connection) = &self.connections[i] else {
                continue;
            };
            let host = &self.hosts[i].0;
            let mut outcome = remote::take(connection, &self.name, &self.record).await;
            if let Ok(Took::Held(Some(holder))) = &outcome
                && break_stale
                && holder.is_stale(unix_now())
            {
                let holder = holder.clone();
                match remote::release(connection, self.name.as_str(), &holder.id).await {
                    Ok(Released::Released | Released::Gone) => {
                        broken.push((host.clone(), holder));
                        outcome = remote::take(connection, &self.name, &self.record).await;
                    }
                    Ok(Released::Other(_)) => {}
                    Err(e) => outcome = Err(e),
                }
            }
            match outcome {
                Ok(Took::Taken) => self.taken.push(i),
                Ok(Took::Held(holder)) => {
                    let blocked = Blocked {
                        host: host.clone(),
                        holder,
                    };
                    self.give_back().await;
                    return Ok(Taking::Blocked(blocked));
                }
                Err(e) => {
                    let message = format!("cannot take the lock on {host}: {e}");
                    self.give_back().await;
                    return Err(message);
                }
            }
        }
        Ok(Taking::Taken)
    }

    /// Who holds the lock, host by host, without taking it (for a dry run).
    pub async fn holders(&self) -> Vec<Blocked> {
        let mut found = Vec::new();
        for (i, connection) in self.connections.iter().enumerate() {
            let Some(connection) = connection else {
                continue;
            };
            let Ok(locks) = remote::list(connection).await else {
                continue;
            };
            if let Some(lock) = locks.into_iter().find(|l| l.name == self.name.as_str()) {
                found.push(Blocked {
                    host: self.hosts[i].0.clone(),
                    holder: lock.record,
                });
            }
        }
        found
    }

    /// Rewrites the record on every host with a new heartbeat; returns what went wrong.
    pub async fn heartbeat(&mut self) -> Vec<String> {
        self.record.heartbeat = unix_now();
        let mut problems = Vec::new();
        for &i in &self.taken {
            let Some(connection) = &self.connections[i] else {
                continue;
            };
            let host = &self.hosts[i].0;
            match remote::refresh(connection, &self.name, &self.record).await {
                Ok(true) => {}
                Ok(false) => problems.push(format!(
                    "the lock `{}` on {host} is no longer this run's: someone released or broke it",
                    self.name
                )),
                Err(e) => problems.push(format!(
                    "cannot refresh the lock `{}` on {host}: {e}",
                    self.name
                )),
            }
        }
        problems
    }

    /// Releases the lock on every host that holds it and closes the connections; returns
    /// what went wrong.
    pub async fn release(mut self) -> Vec<String> {
        let problems = self.give_back().await;
        Connection::close_each(self.connections.into_iter().flatten()).await;
        problems
    }

    /// Releases what this run took, in reverse order.
    async fn give_back(&mut self) -> Vec<String> {
        let mut problems = Vec::new();
        while let Some(i) = self.taken.pop() {
            let Some(connection) = &self.connections[i] else {
                continue;
            };
            let host = &self.hosts[i].0;
            let released = tokio::time::timeout(
                Duration::from_secs(10),
                remote::release(connection, self.name.as_str(), &self.record.id),
            )
            .await;
            match released {
                Ok(Ok(Released::Released | Released::Gone)) => {}
                Ok(Ok(Released::Other(_))) => problems.push(format!(
                    "the lock `{}` on {host} was taken over by another run; left to it",
                    self.name
                )),
                Ok(Err(e)) => problems.push(format!(
                    "cannot release the lock `{}` on {host}: {e}",
                    self.name
                )),
                Err(_) => problems.push(format!(
                    "releasing the lock `{}` on {host} timed out",
                    self.name
                )),
            }
        }
        problems
    }
}
