//! Asks every host at once how it is: a TCP connect to its SSH port, an SSH connection, the
//! load probe over it, each host cut off at the same deadline.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::probe::{Probed, Sample, probe};
use crate::transport::Connector;

/// One host to ask: its name, where ssh connects, and the address and port ssh would use
/// (from `ssh -G`), when known.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub destination: String,
    pub address: Option<(String, u16)>,
}

/// What a host answered, or why it did not.
#[derive(Debug, Clone)]
pub struct Answer {
    pub tcp_connect: Option<Duration>,
    pub probed: Result<Probed, String>,
    /// From the start of the handshake to the answer (or to giving up).
    pub took: Duration,
}

/// Asks `targets`, at most `jobs` at once, each within `timeout` from its start. Answers
/// come in the order of `targets`.
pub async fn survey(
    connector: Arc<Connector>,
    targets: &[Target],
    timeout: Duration,
    jobs: usize,
) -> Vec<Answer> {
    let slots = Arc::new(Semaphore::new(jobs.max(1)));
    let mut tasks = JoinSet::new();
    for (i, target) in targets.iter().cloned().enumerate() {
        let (connector, slots) = (connector.clone(), slots.clone());
        tasks.spawn(async move {
            let _slot = slots.acquire_owned().await;
            (i, ask(&connector, &target, timeout).await)
        });
    }
    let mut answers: Vec<Option<Answer>> = vec![None; targets.len()];
    while let Some(done) = tasks.join_next().await {
        if let Ok((i, answer)) = done {
            answers[i] = Some(answer);
        }
    }
    answers
        .into_iter()
        .map(|a| {
            a.unwrap_or(Answer {
                tcp_connect: None,
                probed: Err("the survey of this host failed".into()),
                took: Duration::ZERO,
            })
        })
        .collect()
}

async fn ask(connector: &Connector, target: &Target, timeout: Duration) -> Answer {
    let started = Instant::now();
    let tcp = async {
        let (host, port) = target.address.as_ref()?;
        tokio::time::timeout(timeout, tcp_connect_time(host, *port))
            .await
            .ok()
            .flatten()
    };
    let ssh = async {
        // The connector gives ssh `timeout` as its ConnectTimeout, which cuts off a host that
        // does not send its banner in time (a frozen or overloaded sshd). The handshake's
        // CPU work is not held to it: fifty handshakes at once on a small controller take
        // seconds each, and those hosts are up.
        let connection = connector
            .connect(&target.destination)
            .await
            .map_err(|e| e.message)?;
        let probed = match tokio::time::timeout(timeout, probe(&connection, Sample::Busy)).await {
            Ok(answer) => answer,
            Err(_) => Err(format!(
                "connected, but no answer to the load probe within {}",
                humantime::format_duration(timeout)
            )),
        };
        // A close that fails changes nothing about what the host answered.
        let _ = connection.close().await;
        probed
    };
    let (tcp_connect, probed) = tokio::join!(tcp, ssh);
    Answer {
        tcp_connect,
        probed,
        took: started.elapsed(),
    }
}

/// The time a TCP handshake with `host:port` takes, the name looked up beforehand so that
/// DNS is not counted. None when it cannot connect.
async fn tcp_connect_time(host: &str, port: u16) -> Option<Duration> {
    let address = tokio::net::lookup_host((host, port)).await.ok()?.next()?;
    let started = Instant::now();
    let stream = tokio::net::TcpStream::connect(address).await.ok()?;
    let took = started.elapsed();
    drop(stream);
    Some(took)
}
