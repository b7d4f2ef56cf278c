//! One step on one host: started, carried out by its action's function within its timeout
//! and until a forced cancel, and finished with its [`StepOutcome`].

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use super::cancel::{Cancel, CancelReason};
use super::confirm::{Armed, arm};
use super::context::Context;
use super::event::Event;
use super::guard::skip_reason;
use super::step_outcome::StepOutcome;
use super::step_output::StepOutput;
use super::sync_step::{SyncEvents, sync_files};
use crate::plan::PlannedStep;
use crate::playbook::{Action, Guard, StepKind};
use crate::sync::{Direction, SyncReport};
use crate::transport::{Connection, ExecError, Executed, Output, run_local};

/// How a step ended on one host, for the host's tally.
pub(super) struct StepResult {
    pub(super) outcome: StepOutcome,
    /// The step changed the host (as its `step_finished` says).
    pub(super) changed: bool,
    /// For a step with `confirm`: the watchdog that reverts it unless confirmed.
    pub(super) armed: Option<Armed>,
}

/// What became of a step's action once its guards were tested.
enum Acted {
    Skipped(String),
    Ran(Executed),
    Synced(Direction, SyncReport),
}

/// How waiting for a step's action ended.
enum Ended {
    Ran(Result<Acted, ExecError>),
    TimedOut,
    Cancelled(CancelReason),
}

/// Runs `step` of a stage, numbered `number` in its events, on the host at `position` in
/// the stage's host list.
pub(super) async fn run_step(
    context: &Context,
    connection: &Connection,
    stage: usize,
    position: usize,
    step: &PlannedStep,
    number: usize,
) -> StepResult {
    let planned = &context.plan.stages[stage];
    let host = planned.hosts[position];
    let command = &step.commands[position];
    context
        .emit(Event::StepStarted {
            stage: context.stage_names[stage].clone(),
            host: context.host_names[host].clone(),
            step: number,
            kind: step.kind.name().to_string(),
            command: command.clone(),
        })
        .await;
    let started = Instant::now();
    // The watchdog is armed before the step, so that a step that cuts tsync off is undone.
    let mut armed = None;
    if let Some(confirm) = &step.confirm {
        match arm(
            connection,
            number,
            confirm.within,
            &confirm.reverts[position],
        )
        .await
        {
            Ok(watchdog) => armed = Some(watchdog),
            Err(error) => {
                let outcome = StepOutcome::FailedToRun { error };
                context
                    .emit(Event::StepFinished {
                        stage: context.stage_names[stage].clone(),
                        host: context.host_names[host].clone(),
                        step: number,
                        command: command.clone(),
                        outcome: outcome.clone(),
                        changed: false,
                        duration_secs: started.elapsed().as_secs_f64(),
                        stderr: String::new(),
                    })
                    .await;
                return StepResult {
                    outcome,
                    changed: false,
                    armed: None,
                };
            }
        }
    }
    let mut output = StepOutput::new(context, stage, host, number);
    let sync_events = SyncEvents::new(context, stage, host, number);
    let group = AtomicU32::new(0);
    let act = act(
        &step.actions[position],
        &step.guards[position],
        connection,
        command,
        &group,
        &mut output,
        &sync_events,
    );
    let ended = tokio::select! {
        r = tokio::time::timeout(step.timeout, act) => match r {
            Ok(r) => Ended::Ran(r),
            Err(_elapsed) => Ended::TimedOut,
        },
        reason = context.until(Cancel::forced) => {
            connection.stop(group.load(Ordering::SeqCst)).await;
            Ended::Cancelled(reason)
        }
    };
    // Lines read before a timeout or a cancel are shown too, before the step's end.
    output.flush().await;
    let (outcome, stderr) = match ended {
        Ended::Ran(Ok(Acted::Skipped(reason))) => (StepOutcome::Skipped { reason }, String::new()),
        Ended::Ran(Ok(Acted::Synced(direction, report))) => {
            let changed = report.changed();
            sync_events.finished(direction, report, false).await;
            (StepOutcome::Synced { changed }, String::new())
        }
        Ended::Ran(Ok(Acted::Ran(done))) => {
            let outcome = match done.exit_code {
                Some(code) if step.unchanged_exit.map(i32::from) == Some(code) => {
                    StepOutcome::Unchanged { code }
                }
                Some(code) => StepOutcome::Exited { code },
                None => StepOutcome::Signalled,
            };
            // The end of stderr is shown for a failed step only.
            let stderr = if outcome.ok() {
                String::new()
            } else {
                done.stderr_tail
            };
            (outcome, stderr)
        }
        Ended::Ran(Err(ExecError::Disconnected(message))) => {
            (StepOutcome::ConnectionLost { message }, String::new())
        }
        Ended::Ran(Err(ExecError::Failed(error))) => {
            (StepOutcome::FailedToRun { error }, String::new())
        }
        Ended::Cancelled(reason) => (StepOutcome::Cancelled { reason }, String::new()),
        Ended::TimedOut => {
            // The host stopped answering, or the command runs too long: cut it off. A
            // connection that could not serve this step is not used again; a `local` step
            // (killed as its future was dropped) says nothing about the connection.
            if step.kind != StepKind::Local {
                connection.stop(group.load(Ordering::SeqCst)).await;
                context.mark_lost(host, "a step timed out on this connection earlier");
            }
            context
                .emit(Event::StepTimedOut {
                    stage: context.stage_names[stage].clone(),
                    host: context.host_names[host].clone(),
                    step: number,
                    command: command.clone(),
                    timeout_secs: step.timeout.as_secs_f64(),
                })
                .await;
            (
                StepOutcome::TimedOut {
                    after: step.timeout,
                },
                String::new(),
            )
        }
    };
    // Only a command that exits 0 or a sync that sent or deleted something changed the
    // host: not a step a guard skipped, nor one that exited with its `unchanged-exit` code.
    let changed = outcome.changed();
    context
        .emit(Event::StepFinished {
            stage: context.stage_names[stage].clone(),
            host: context.host_names[host].clone(),
            step: number,
            command: command.clone(),
            outcome: outcome.clone(),
            changed,
            duration_secs: started.elapsed().as_secs_f64(),
            stderr,
        })
        .await;
    StepResult {
        outcome,
        changed,
        armed,
    }
}

/// Tests the step's guards, then carries out its action on the host: the one place that
/// dispatches on its kind. The remote process group goes into `group` as soon as it is
/// known, so that a step given up on can be stopped.
async fn act(
    action: &Action<String>,
    guards: &[(Guard<String>, String)],
    connection: &Connection,
    command: &str,
    group: &AtomicU32,
    output: &mut StepOutput<'_>,
    sync_events: &SyncEvents<'_>,
) -> Result<Acted, ExecError> {
    if let Some(reason) = skip_reason(connection, guards, group).await? {
        return Ok(Acted::Skipped(reason));
    }
    Ok(match action {
        Action::Run(_) => Acted::Ran(run(connection, command, group, output).await?),
        Action::Script { body, .. } => {
            Acted::Ran(script(connection, command, body, group, output).await?)
        }
        Action::Sync(step) => {
            let report = sync_files(connection, step, false, sync_events).await?;
            Acted::Synced(step.direction, report)
        }
        Action::Local { dir, .. } => Acted::Ran(run_local(command, dir, output).await?),
    })
}

/// A `run` step: the command alone, reading nothing.
async fn run(
    connection: &Connection,
    command: &str,
    group: &AtomicU32,
    output: &mut StepOutput<'_>,
) -> Result<Executed, ExecError> {
    connection.exec(command, None, group, output).await
}

/// A `script` step: the command (`sh -s -- ARGS`) reads the script's body from stdin.
async fn script(
    connection: &Connection,
    command: &str,
    body: &str,
    group: &AtomicU32,
    output: &mut StepOutput<'_>,
) -> Result<Executed, ExecError> {
    connection
        .exec(command, Some(body.as_bytes()), group, output)
        .await
}
