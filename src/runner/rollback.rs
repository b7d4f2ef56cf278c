//! A stage's rollback on the hosts it must put back: the rollback steps in order on each
//! host, hosts in parallel within `--jobs`, each host's result reported and tallied. A
//! rollback never makes a failed host count as a success: the run still fails.

use std::sync::Arc;
use std::time::Instant;

use tokio::task::JoinSet;

use super::context::Context;
use super::event::Event;
use super::step::{StepResult, run_step};
use super::step_outcome::StepOutcome;

/// Rolls back the hosts at `positions` in the stage's host list.
pub(super) async fn roll_back(context: &Arc<Context>, stage: usize, positions: &[usize]) {
    let mut hosts = JoinSet::new();
    for &position in positions {
        let context = context.clone();
        hosts.spawn(async move { roll_back_host(&context, stage, position).await });
    }
    while let Some(done) = hosts.join_next().await {
        if let Err(join_error) = done {
            std::panic::resume_unwind(join_error.into_panic());
        }
    }
}

async fn roll_back_host(context: &Context, stage: usize, position: usize) {
    let planned = &context.plan.stages[stage];
    let Some(rollback) = &planned.rollback else {
        return;
    };
    let host = planned.hosts[position];
    let started = Instant::now();
    context
        .emit(Event::RollbackStarted {
            stage: context.stage_names[stage].clone(),
            host: context.host_names[host].clone(),
        })
        .await;
    let _job = context
        .jobs
        .acquire()
        .await
        .expect("the semaphore is never closed");
    let error = match context.connection(host).await {
        Err(error) => Some(error),
        Ok(connection) => {
            let mut error = None;
            for (j, step) in rollback.steps.iter().enumerate() {
                // Numbered after the stage's own steps, so every step of a host has its
                // own number in the events.
                let number = planned.steps.len() + j + 1;
                let StepResult { outcome, .. } =
                    run_step(context, &connection, stage, position, step, number).await;
                if outcome.ok() {
                    continue;
                }
                if let StepOutcome::ConnectionLost { message } = &outcome {
                    context.mark_lost(host, message);
                }
                error = Some(format!(
                    "rollback step {}{}",
                    j + 1,
                    outcome
                        .failure(&step.written)
                        .unwrap_or_else(|| ": connection lost".to_string())
                ));
                break;
            }
            error
        }
    };
    let ok = error.is_none();
    context.tally(host, |t| t.rolled_back = Some(ok));
    context
        .emit(Event::RollbackFinished {
            stage: context.stage_names[stage].clone(),
            host: context.host_names[host].clone(),
            ok,
            error,
            duration_secs: started.elapsed().as_secs_f64(),
        })
        .await;
}
