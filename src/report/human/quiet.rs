//! `--quiet`, for cron mail: a run that went well prints one line, and one that did not
//! prints what went wrong and that line. Everything else a person watching would see
//! (starts, output, passing checks, progress) is left out.

use crate::runner::{Event, StepOutcome};

/// Whether `event` is shown under `--quiet`.
pub fn shown(event: &Event) -> bool {
    match event {
        Event::StepFinished { outcome, .. } => {
            !outcome.ok() && !matches!(outcome, StepOutcome::Skipped { .. })
        }
        Event::CheckFinished { ok, .. }
        | Event::Confirmation { ok, .. }
        | Event::RollbackFinished { ok, .. } => !ok,
        Event::StepTimedOut { .. }
        | Event::HostUnreachable { .. }
        | Event::RolloutStopped { .. }
        | Event::RollbackStarted { .. }
        | Event::PlacementFailed { .. }
        | Event::CancelRequested { .. }
        | Event::Warning { .. }
        | Event::RunFinished { .. } => true,
        _ => false,
    }
}
