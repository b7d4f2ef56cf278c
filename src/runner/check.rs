//! One health check on one host: after a readiness delay, attempts until it has passed
//! `healthy` times in a row or can no longer do so, each attempt reported as it ends.

use std::sync::Arc;
use std::time::Instant;

use super::cancel::Cancel;
use super::context::Context;
use super::event::Event;
use super::probe::attempt;
use super::probe_result::ProbeResult;

/// How a check ended on a host.
pub(super) struct CheckVerdict {
    pub(super) ok: bool,
    /// Why it failed, with what its last attempt found, for the recap.
    pub(super) why: Option<String>,
}

/// Runs check `c` of a stage on the host at `position` in the stage's host list.
pub(super) async fn run_check(
    context: &Context,
    connection: &crate::transport::Connection,
    stage: usize,
    position: usize,
    c: usize,
) -> CheckVerdict {
    let planned = &context.plan.stages[stage];
    let check = &planned.checks[c];
    let probe = &check.probes[position];
    let host = planned.hosts[position];
    let name: Arc<str> = Arc::from(check.name.as_str());
    let started = Instant::now();

    let mut stopped = None;
    if !check.delay.is_zero() {
        tokio::select! {
            () = tokio::time::sleep(check.delay) => {}
            reason = context.until(Cancel::graceful) => stopped = Some(reason),
        }
    }
    let mut streak = 0;
    let mut made = 0;
    let mut last: Option<ProbeResult> = None;
    while stopped.is_none() && made < check.attempts && streak < check.healthy {
        if made > 0 {
            tokio::select! {
                () = tokio::time::sleep(check.interval) => {}
                reason = context.until(Cancel::graceful) => {
                    stopped = Some(reason);
                    break;
                }
            }
        }
        let began = Instant::now();
        let result = tokio::select! {
            result = attempt(&context.http, connection, probe, check.timeout) => result,
            reason = context.until(Cancel::forced) => {
                stopped = Some(reason);
                break;
            }
        };
        made += 1;
        streak = if result.ok { streak + 1 } else { 0 };
        context
            .emit(Event::CheckAttempt {
                stage: context.stage_names[stage].clone(),
                host: context.host_names[host].clone(),
                check: name.clone(),
                attempt: made,
                attempts: check.attempts,
                result: result.clone(),
                elapsed_secs: began.elapsed().as_secs_f64(),
            })
            .await;
        last = Some(result);
        // Give up early once the passes still needed outnumber the attempts left.
        if check.attempts - made < check.healthy - streak {
            break;
        }
    }
    let ok = streak >= check.healthy;
    let error = match (ok, stopped) {
        (true, _) => None,
        (false, Some(reason)) => Some(format!("stopped by {reason}")),
        (false, None) if check.healthy > 1 => Some(format!(
            "not healthy {} times in a row in {made} attempt{}",
            check.healthy,
            if made == 1 { "" } else { "s" }
        )),
        (false, None) => Some(format!(
            "failed {made} attempt{}",
            if made == 1 { "" } else { "s" }
        )),
    };
    context
        .emit(Event::CheckFinished {
            stage: context.stage_names[stage].clone(),
            host: context.host_names[host].clone(),
            check: name,
            target: probe.target().clone(),
            ok,
            attempts: made,
            error: error.clone(),
            duration_secs: started.elapsed().as_secs_f64(),
        })
        .await;
    let why = error.map(|error| match &last {
        Some(last) if !last.ok => format!("{error}, last: {}", last.describe()),
        _ => error,
    });
    CheckVerdict { ok, why }
}
