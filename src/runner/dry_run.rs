//! A dry run on one host: connect as the real run would (so unreachable hosts and failed
//! logins show now, not halfway through a deploy), say for every step what a real run
//! would do, and probe each check once to show the host's health as it is. Checks are
//! the only thing a dry run executes on a host.

use std::sync::Arc;
use std::time::Instant;

use super::cancel::Cancel;
use super::context::Context;
use super::event::{Event, HostOutcome, Would};
use super::probe::attempt;

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
        let rollback = planned.rollback.iter().flat_map(|r| r.steps.iter());
        let steps = planned.steps.iter().map(|s| (s, Would::Run));
        for (k, (step, would)) in steps
            .chain(rollback.map(|s| (s, Would::RunOnFailure)))
            .enumerate()
        {
            context
                .emit(Event::StepPreview {
                    stage: context.stage_names[stage].clone(),
                    host: context.host_names[host].clone(),
                    step: k + 1,
                    kind: step.kind.name().to_string(),
                    command: step.commands[position].clone(),
                    would,
                })
                .await;
        }
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
