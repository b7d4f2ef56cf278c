//! A dry run on one host: connect as the real run would (so unreachable hosts and failed
//! logins show now, not halfway through a deploy), say for every step what a real run
//! would do, and probe each check once to show the host's health as it is. Checks and
//! guards are the only commands a dry run executes on a host; a `sync` or `pull` step
//! compares both sides read-only and lists what it would change.

use std::sync::Arc;
use std::sync::atomic::AtomicU32;
use std::time::Instant;

use super::cancel::Cancel;
use super::context::Context;
use super::event::{Event, HostOutcome, Would};
use super::guard::skip_reason;
use super::probe::attempt;
use super::sync_step::{SyncEvents, sync_files};
use crate::playbook::{Action, StepKind};
use crate::sync::{Direction, SyncReport};

/// Previews the stage on the host at `position` in the stage's host list.
pub(super) async fn preview_host(context: &Context, stage: usize, position: usize) -> HostOutcome {
    let planned = &context.plan.stages[stage];
    let host = planned.hosts[position];
    let started = Instant::now();
    let outcome = async {
        let _job = tokio::select! {
            permit = context.jobs.acquire() => permit.expect("the semaphore is never closed"),
            _ = context.until(Cancel::graceful) => return HostOutcome::Skipped,
        };
        let connection = tokio::select! {
            c = context.connection(host) => c,
            _ = context.until(Cancel::forced) => return HostOutcome::Skipped,
        };
        let connection = match connection {
            Ok(c) => c,
            Err(error) => {
                context.unreachable(stage, host, error, "unreachable").await;
                return HostOutcome::Unreachable;
            }
        };
        // Guards are read-only: they are evaluated, until a step would change the host;
        // after that, what a guard would find is not knowable now.
        let mut changes_before = false;
        let mut verdicts = Vec::with_capacity(planned.steps.len());
        let mut previews: Vec<Option<(Direction, SyncReport)>> =
            Vec::with_capacity(planned.steps.len());
        for (k, step) in planned.steps.iter().enumerate() {
            let guards = &step.guards[position];
            let verdict = if guards.is_empty() {
                (Would::Run, None)
            } else if changes_before {
                (
                    Would::Unknown,
                    Some("an earlier step would change this host".to_string()),
                )
            } else {
                let group = AtomicU32::new(0);
                let evaluated = tokio::select! {
                    r = tokio::time::timeout(
                        step.timeout,
                        skip_reason(&connection, guards, &group),
                    ) => r,
                    _ = context.until(Cancel::forced) => return HostOutcome::Skipped,
                };
                match evaluated {
                    Ok(Ok(Some(reason))) => (Would::Skip, Some(reason)),
                    Ok(Ok(None)) => (Would::Run, None),
                    Ok(Err(e)) => (
                        Would::Unknown,
                        Some(format!("its guard could not run: {e}")),
                    ),
                    Err(_) => (Would::Unknown, Some("its guard timed out".to_string())),
                }
            };
            let (verdict, preview) = match (&step.actions[position], verdict) {
                (Action::Sync(sync), (Would::Run, _)) => {
                    let events = SyncEvents::new(context, stage, host, k + 1);
                    let compared = tokio::select! {
                        r = tokio::time::timeout(
                            step.timeout,
                            sync_files(&connection, sync, true, &events),
                        ) => r,
                        _ = context.until(Cancel::forced) => return HostOutcome::Skipped,
                    };
                    match compared {
                        // A pull changes the controller, never the host.
                        Ok(Ok(report)) => {
                            changes_before |= sync.direction == Direction::Push && report.changed();
                            ((Would::Run, None), Some((sync.direction, report)))
                        }
                        Ok(Err(e)) => (
                            (Would::Unknown, Some(format!("could not compare: {e}"))),
                            None,
                        ),
                        Err(_) => (
                            (Would::Unknown, Some("comparing timed out".to_string())),
                            None,
                        ),
                    }
                }
                (action, verdict) => {
                    changes_before |= verdict.0 != Would::Skip && action.kind() != StepKind::Pull;
                    (verdict, None)
                }
            };
            verdicts.push(verdict);
            previews.push(preview);
        }
        let rollback = planned.rollback.iter().flat_map(|r| r.steps.iter());
        let steps = planned.steps.iter().zip(verdicts);
        let mut previews = previews.into_iter();
        // One batch, so that a host's previews (and the files each sync would send) are
        // reported together, never interleaved with another host's.
        let mut batch = Vec::new();
        for (k, (step, (would, reason))) in steps
            .chain(rollback.map(|s| (s, (Would::RunOnFailure, None))))
            .enumerate()
        {
            batch.push(Event::StepPreview {
                stage: context.stage_names[stage].clone(),
                host: context.host_names[host].clone(),
                step: k + 1,
                kind: step.kind.name().to_string(),
                command: step.commands[position].clone(),
                script: (step.kind == StepKind::Script).then(|| step.written.clone()),
                would,
                reason,
            });
            if let Some((direction, report)) = previews.next().flatten() {
                batch.push(
                    SyncEvents::new(context, stage, host, k + 1)
                        .finished_event(direction, report, true),
                );
            }
        }
        context.send(batch).await;
        for check in &planned.checks {
            let probe = &check.probes[position];
            let result = tokio::select! {
                result = attempt(&context.http, &connection, probe, check.timeout) => result,
                _ = context.until(Cancel::forced) => return HostOutcome::Skipped,
            };
            context
                .emit(Event::CheckPreview {
                    stage: context.stage_names[stage].clone(),
                    host: context.host_names[host].clone(),
                    check: Arc::from(check.name.as_str()),
                    target: probe.target().clone(),
                    result,
                })
                .await;
        }
        HostOutcome::Ok
    }
    .await;
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
