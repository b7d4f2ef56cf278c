//! A `sync` or `pull` step on one host: the engine's spec built from the filled-in step,
//! its progress passed on as throttled `sync_progress` events, and its report as
//! `sync_finished`.

use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::context::Context;
use super::event::Event;
use crate::playbook::SyncStep;
use crate::sync::{Direction, Progress, SyncReport, SyncSpec, sync};
use crate::transport::{Connection, ExecError};

/// At most this often per host a `sync_progress` event: about four a second, enough for a
/// live line and not a flood of JSON.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// Where one host's sync events go, and when the last progress event went.
pub(super) struct SyncEvents<'a> {
    context: &'a Context,
    stage: Arc<str>,
    host: Arc<str>,
    step: usize,
    last: Mutex<Option<Instant>>,
}

impl<'a> SyncEvents<'a> {
    /// Events of step `step` (counted from 1) of plan stage `stage` on plan host `host`.
    pub(super) fn new(context: &'a Context, stage: usize, host: usize, step: usize) -> Self {
        SyncEvents {
            context,
            stage: context.stage_names[stage].clone(),
            host: context.host_names[host].clone(),
            step,
            last: Mutex::new(None),
        }
    }

    /// Passes on how far the sync got, unless one went out less than [`PROGRESS_EVERY`]
    /// ago; the last one (everything done) always goes. Called by the engine, which
    /// cannot wait: an event that finds the reporter's queue full is dropped, as the next
    /// one says more anyway.
    fn progress(&self, progress: Progress) {
        let now = Instant::now();
        let done = progress.files_done == progress.files_total
            && progress.bytes_done == progress.bytes_total;
        {
            let mut last = self.last.lock().expect("no panics while locked");
            if !done && last.is_some_and(|at| now.duration_since(at) < PROGRESS_EVERY) {
                return;
            }
            *last = Some(now);
        }
        self.context.offer(Event::SyncProgress {
            stage: self.stage.clone(),
            host: self.host.clone(),
            step: self.step,
            files_done: progress.files_done,
            files_total: progress.files_total,
            bytes_done: progress.bytes_done,
            bytes_total: progress.bytes_total,
        });
    }

    /// Reports what the sync did (or, in a dry run, would do).
    pub(super) async fn finished(&self, direction: Direction, report: SyncReport, dry_run: bool) {
        let event = self.finished_event(direction, report, dry_run);
        self.context.emit(event).await;
    }

    /// The `sync_finished` event, for a caller that sends it with others.
    pub(super) fn finished_event(
        &self,
        direction: Direction,
        report: SyncReport,
        dry_run: bool,
    ) -> Event {
        Event::SyncFinished {
            stage: self.stage.clone(),
            host: self.host.clone(),
            step: self.step,
            direction,
            dry_run,
            report,
        }
    }
}

/// Carries out `step` over `connection` (only working out what would change, with
/// `dry_run`). Dropping the future stops the sync: the engine is cancel-safe, and a file
/// half sent is a temporary file the next sync removes.
pub(super) async fn sync_files(
    connection: &Connection,
    step: &SyncStep<String>,
    dry_run: bool,
    events: &SyncEvents<'_>,
) -> Result<SyncReport, ExecError> {
    let spec = SyncSpec {
        direction: step.direction,
        local: step.local_path(),
        remote: step.remote.clone(),
        delete: step.delete,
        excludes: step.excludes.clone(),
        checksum: step.checksum,
        dry_run,
    };
    sync(connection, &spec, &|progress| events.progress(progress)).await
}
