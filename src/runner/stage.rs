//! One stage on its hosts: a task per host, each running the stage's steps in order on
//! that host's connection, holding a `--jobs` permit while it works.

use std::sync::Arc;
use std::time::Instant;

use tokio::task::JoinSet;

use super::cancel::Cancel;
use super::check::run_check;
use super::confirm::confirm;
use super::context::Context;
use super::dry_run::preview_host;
use super::event::{Event, HostOutcome};
use super::placement::place;
use super::rollback::roll_back;
use super::step::{StepResult, run_step};
use super::step_outcome::StepOutcome;
use super::summary::StageStatus;
use crate::playbook::RollbackScope;

/// Runs one stage on its hosts, batch by batch: ok when its failed and unreachable hosts
/// stay within `max-fail` (none by default), failed otherwise. When they exceed it, the
/// hosts of later batches are not started.
pub(super) async fn run_stage(context: Arc<Context>, stage: usize) -> StageStatus {
    let started = Instant::now();
    let planned = &context.plan.stages[stage];
    let rollout = &planned.rollout;
    let names = |positions: &[usize]| -> Vec<Arc<str>> {
        positions
            .iter()
            .map(|&p| context.host_names[planned.hosts[p]].clone())
            .collect()
    };
    // Batches of positions in the stage's host list: the rollout's, or the one batch of
    // hosts `least-loaded(…)` picked.
    let batches: Vec<Vec<usize>> = match planned.pick {
        None => rollout
            .batches
            .iter()
            .map(|b| b.clone().collect())
            .collect(),
        Some(count) => match place(&context, stage, count).await {
            Some(picked) => vec![picked],
            None => {
                context
                    .emit(Event::StageFinished {
                        stage: context.stage_names[stage].clone(),
                        ok: false,
                        failed_hosts: planned.hosts.len(),
                        duration_secs: started.elapsed().as_secs_f64(),
                    })
                    .await;
                return StageStatus::Failed;
            }
        },
    };
    context
        .emit(Event::StageStarted {
            stage: context.stage_names[stage].clone(),
            hosts: names(&batches.concat()),
        })
        .await;
    let mut failures = 0;
    let mut skipped = false;
    let mut stopped = false;
    // Hosts the stage changed, and hosts already rolled back, by position.
    let mut changed = vec![false; planned.hosts.len()];
    let mut rolled_back = vec![false; planned.hosts.len()];
    for (b, batch) in batches.iter().enumerate() {
        // A dry run shows every batch, without waiting between them.
        if b > 0 && !rollout.pause.is_zero() && !context.cancelled().graceful() && !context.dry_run
        {
            tokio::select! {
                () = tokio::time::sleep(rollout.pause) => {}
                _ = context.until(Cancel::graceful) => {}
            }
        }
        if failures > rollout.max_fail {
            not_started(&context, stage, failures, batch[0]).await;
            stopped = true;
            break;
        }
        if planned.rolling.is_some() {
            context
                .emit(Event::BatchStarted {
                    stage: context.stage_names[stage].clone(),
                    batch: b + 1,
                    batches: batches.len(),
                    hosts: names(batch),
                })
                .await;
        }
        let mut hosts = JoinSet::new();
        for &position in batch {
            let context = context.clone();
            hosts.spawn(async move {
                let done = if context.dry_run {
                    (preview_host(&context, stage, position).await, false)
                } else {
                    run_host(&context, stage, position).await
                };
                (position, done)
            });
        }
        let mut failed = Vec::new();
        while let Some(done) = hosts.join_next().await {
            let (position, (outcome, changed_host)) = done
                .unwrap_or_else(|join_error| std::panic::resume_unwind(join_error.into_panic()));
            changed[position] = changed_host;
            match outcome {
                HostOutcome::Ok => {}
                HostOutcome::Failed => {
                    failures += 1;
                    failed.push(position);
                }
                HostOutcome::Unreachable => failures += 1,
                HostOutcome::Skipped | HostOutcome::NotStarted => skipped = true,
            }
        }
        // Failed hosts are put back before anything else starts; unreachable ones cannot be.
        if planned.rollback.is_some() && !failed.is_empty() {
            failed.sort_unstable();
            roll_back(&context, stage, &failed).await;
            failed.iter().for_each(|&p| rolled_back[p] = true);
        }
    }
    let stage_failed = stopped || failures > rollout.max_fail;
    if stage_failed
        && planned
            .rollback
            .as_ref()
            .is_some_and(|r| r.scope == RollbackScope::Stage)
    {
        let touched: Vec<usize> = (0..planned.hosts.len())
            .filter(|&p| changed[p] && !rolled_back[p] && !context.is_lost(planned.hosts[p]))
            .collect();
        if !touched.is_empty() {
            roll_back(&context, stage, &touched).await;
        }
    }
    let ok = !stage_failed && !skipped;
    context
        .emit(Event::StageFinished {
            stage: context.stage_names[stage].clone(),
            ok,
            failed_hosts: failures,
            duration_secs: started.elapsed().as_secs_f64(),
        })
        .await;
    if ok {
        StageStatus::Ok
    } else {
        StageStatus::Failed
    }
}

/// Stops the rollout of a stage before the host at position `from`: reports why and every
/// host not started, and counts their steps as not run.
async fn not_started(context: &Context, stage: usize, failures: usize, from: usize) {
    let planned = &context.plan.stages[stage];
    let rest = &planned.hosts[from..];
    context
        .emit(Event::RolloutStopped {
            stage: context.stage_names[stage].clone(),
            failed_hosts: failures,
            max_fail: planned.rollout.max_fail,
            not_started: rest
                .iter()
                .map(|&h| context.host_names[h].clone())
                .collect(),
        })
        .await;
    for &host in rest {
        context.tally(host, |t| {
            t.not_started += 1;
            t.skipped += planned.steps.len();
        });
        context
            .emit(Event::HostFinished {
                stage: context.stage_names[stage].clone(),
                host: context.host_names[host].clone(),
                outcome: HostOutcome::NotStarted,
                duration_secs: 0.0,
            })
            .await;
    }
}

/// Runs a stage's steps on the host at `position` in the stage's host list.
/// Returns how the host ended and whether any step changed it.
async fn run_host(context: &Context, stage: usize, position: usize) -> (HostOutcome, bool) {
    let planned = &context.plan.stages[stage];
    let host = planned.hosts[position];
    let steps = planned.steps.len();
    let mut changed_any = false;
    let mut armed = Vec::new();

    let outcome = async {
        let _job = tokio::select! {
            permit = context.jobs.acquire() => permit.expect("the semaphore is never closed"),
            _ = context.until(Cancel::graceful) => return (HostOutcome::Skipped, 0),
        };
        if context.cancelled().graceful() {
            return (HostOutcome::Skipped, 0);
        }
        let connection = tokio::select! {
            c = context.connection(host) => c,
            _ = context.until(Cancel::forced) => return (HostOutcome::Skipped, 0),
        };
        let connection = match connection {
            Ok(c) => c,
            Err(error) => {
                context.unreachable(stage, host, error, "unreachable").await;
                return (HostOutcome::Unreachable, 0);
            }
        };
        for k in 0..steps {
            if context.cancelled().graceful() {
                return (HostOutcome::Skipped, k);
            }
            let StepResult {
                outcome,
                changed,
                armed: watchdog,
            } = run_step(
                context,
                &connection,
                stage,
                position,
                &planned.steps[k],
                k + 1,
            )
            .await;
            changed_any |= changed;
            armed.extend(watchdog);
            if outcome.ok() {
                context.tally(host, |t| {
                    t.ok += 1;
                    t.changed += usize::from(changed);
                });
                continue;
            }
            if let StepOutcome::ConnectionLost { message } = outcome {
                context.mark_lost(host, &message);
                context
                    .unreachable(stage, host, message, "connection lost")
                    .await;
                return (HostOutcome::Unreachable, k + 1);
            }
            let why = outcome.failure(&planned.steps[k].written);
            context.tally(host, |t| {
                t.failed += 1;
                if let Some(why) = why {
                    t.failure
                        .get_or_insert(format!("{}: step {}{why}", planned.name, k + 1));
                }
            });
            return (HostOutcome::Failed, k + 1);
        }
        for c in 0..planned.checks.len() {
            let verdict = run_check(context, &connection, stage, position, c).await;
            if !verdict.ok {
                let check = &planned.checks[c].name;
                context.tally(host, |t| {
                    t.failed += 1;
                    if let Some(why) = verdict.why {
                        t.failure
                            .get_or_insert(format!("{}: check `{check}`: {why}", planned.name));
                    }
                });
                return (HostOutcome::Failed, steps);
            }
            // A passed check counts as a failed one does, so that a host of a stage with
            // only checks (a health report) reads as ok, not as skipped.
            context.tally(host, |t| t.ok += 1);
        }
        (HostOutcome::Ok, steps)
    };
    let started = Instant::now();
    let (mut outcome, ran) = outcome.await;
    // Confirm the steps that asked for it, over a new connection, once everything passed;
    // otherwise their watchdogs revert them.
    for watchdog in &armed {
        let result = if outcome == HostOutcome::Ok {
            confirm(context, host, watchdog).await
        } else {
            Err(format!(
                "not confirmed, as the host failed: it reverts step {} by itself within {}",
                watchdog.step,
                humantime::format_duration(watchdog.within)
            ))
        };
        if let (Err(why), HostOutcome::Ok) = (&result, outcome) {
            outcome = HostOutcome::Failed;
            context.tally(host, |t| {
                t.failed += 1;
                t.failure
                    .get_or_insert(format!("{}: step {}: {why}", planned.name, watchdog.step));
            });
        }
        context
            .emit(Event::Confirmation {
                stage: context.stage_names[stage].clone(),
                host: context.host_names[host].clone(),
                step: watchdog.step,
                ok: result.is_ok(),
                error: result.err(),
            })
            .await;
    }
    // Steps after a failure, or never started, are skipped.
    context.tally(host, |t| {
        t.skipped += steps - ran.min(steps);
        t.duration_secs += started.elapsed().as_secs_f64();
    });
    context
        .emit(Event::HostFinished {
            stage: context.stage_names[stage].clone(),
            host: context.host_names[host].clone(),
            outcome,
            duration_secs: started.elapsed().as_secs_f64(),
        })
        .await;
    (outcome, changed_any)
}
