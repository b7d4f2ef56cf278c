//! `least-loaded(…)`: before a stage starts, its candidate hosts are measured over the
//! connections the run opens anyway, and the stage runs only on the hosts picked.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::task::JoinSet;

use super::cancel::Cancel;
use super::context::Context;
use super::event::Event;
use crate::fleet::{self, Disk, KnownDisks, Load, Placement};

/// A connected host that does not answer the load probe within this long is passed over.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// The positions, in the stage's host list, of the hosts picked to run it; None when none
/// could be (every candidate unreachable or short of memory or disk), after reporting why.
pub(super) async fn place(
    context: &Arc<Context>,
    stage: usize,
    count: usize,
) -> Option<Vec<usize>> {
    let planned = &context.plan.stages[stage];
    let mut probes = JoinSet::new();
    for (position, &host) in planned.hosts.iter().enumerate() {
        let context = context.clone();
        probes.spawn(async move {
            let _job = tokio::select! {
                permit = context.jobs.acquire() => permit.expect("the semaphore is never closed"),
                _ = context.until(Cancel::graceful) => return (position, Measured::Cancelled),
            };
            let measured = match context.connection(host).await {
                Err(error) => Measured::Unreachable(error),
                Ok(connection) => {
                    let name = &context.host_names[host];
                    let known = context.disks.fresh(name, SystemTime::now());
                    let sample = fleet::Sample::Quick {
                        disk: known.is_none(),
                    };
                    match tokio::time::timeout(PROBE_TIMEOUT, fleet::probe(&connection, sample))
                        .await
                    {
                        Ok(Ok(mut probed)) => {
                            // A probe that measured the disk anyway (the full probe of
                            // a host that is not Linux) has the newest figure.
                            match (Disk::of(&probed.load, SystemTime::now()), &known) {
                                (Some(disk), _) => context.disks.measured(name, disk),
                                (None, Some(disk)) => KnownDisks::fill(&mut probed.load, disk),
                                (None, None) => {}
                            }
                            Measured::Load(probed.load)
                        }
                        Ok(Err(error)) => Measured::NoLoad(error),
                        Err(_) => Measured::NoLoad(format!(
                            "no answer to the load probe within {}",
                            humantime::format_duration(PROBE_TIMEOUT)
                        )),
                    }
                }
            };
            (position, measured)
        });
    }
    let mut measured: Vec<Option<Measured>> = vec![None; planned.hosts.len()];
    while let Some(done) = probes.join_next().await {
        let (position, m) =
            done.unwrap_or_else(|join_error| std::panic::resume_unwind(join_error.into_panic()));
        measured[position] = Some(m);
    }
    let measured: Vec<Measured> = measured.into_iter().flatten().collect();
    if measured.iter().any(|m| matches!(m, Measured::Cancelled)) {
        return None;
    }
    let candidates: Vec<(String, Result<Load, String>)> = planned
        .hosts
        .iter()
        .zip(&measured)
        .map(|(&host, m)| {
            let load = match m {
                Measured::Load(load) => Ok(load.clone()),
                Measured::Unreachable(error) => Err(format!("unreachable: {error}")),
                Measured::NoLoad(error) => Err(error.clone()),
                Measured::Cancelled => Err("the run was cancelled".into()),
            };
            (context.host_names[host].to_string(), load)
        })
        .collect();
    match Placement::pick(&candidates, count) {
        Ok(placement) => {
            let mut positions: Vec<usize> = placement
                .picked
                .iter()
                .filter_map(|p| candidates.iter().position(|(name, _)| *name == p.host))
                .collect();
            positions.sort_unstable();
            for (position, &host) in planned.hosts.iter().enumerate() {
                if !positions.contains(&position) {
                    context.tally(host, |t| t.not_picked += 1);
                }
            }
            context
                .emit(Event::HostsPlaced {
                    stage: context.stage_names[stage].clone(),
                    picked: placement.picked,
                    passed_over: placement.passed_over,
                })
                .await;
            Some(positions)
        }
        Err(error) => {
            context
                .emit(Event::PlacementFailed {
                    stage: context.stage_names[stage].clone(),
                    error: error.clone(),
                })
                .await;
            let name = &planned.name;
            for (&host, m) in planned.hosts.iter().zip(measured) {
                match m {
                    Measured::Unreachable(error) => {
                        context.unreachable(stage, host, error, "unreachable").await;
                    }
                    _ => context.tally(host, |t| {
                        t.failed += 1;
                        t.failure.get_or_insert(format!("{name}: {error}"));
                    }),
                }
            }
            None
        }
    }
}

/// What probing one candidate found.
#[derive(Debug, Clone)]
enum Measured {
    Load(Load),
    Unreachable(String),
    NoLoad(String),
    Cancelled,
}
