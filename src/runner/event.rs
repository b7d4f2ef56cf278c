//! What the runner tells the world. The runner never prints; reporters turn these into
//! terminal output or JSON lines. The JSON form is described in schema/events.schema.json
//! and is stable: fields may be added, never renamed or removed.

use std::sync::Arc;

use serde::Serialize;

use super::cancel::CancelReason;
use super::probe_result::ProbeResult;
use super::step_outcome::StepOutcome;
use super::stream::Stream;
use super::summary::Summary;
use crate::fleet::{PassedOver, Pick};
use crate::lock::LockRecord;
use crate::sync::{Direction, SyncReport};

/// Stage and host names are shared with the runner (`Arc<str>`): an event per output line
/// must not copy them.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    RunStarted {
        playbook: String,
        stages: usize,
        hosts: usize,
    },
    StageStarted {
        stage: Arc<str>,
        hosts: Vec<Arc<str>>,
    },
    /// A stage that will not run: a stage it needs failed, the run was cancelled, or it has
    /// no hosts.
    StageSkipped {
        stage: Arc<str>,
        reason: String,
    },
    /// A batch of a rolling stage starts on its hosts.
    BatchStarted {
        stage: Arc<str>,
        /// Counted from 1, out of `batches`.
        batch: usize,
        batches: usize,
        hosts: Vec<Arc<str>>,
    },
    /// `least-loaded(…)`: the hosts a stage runs on, picked by load score, best first, and
    /// the candidates passed over with the reason.
    HostsPlaced {
        stage: Arc<str>,
        picked: Vec<Pick>,
        passed_over: Vec<PassedOver>,
    },
    /// `least-loaded(…)` found no host to run the stage: the stage fails.
    PlacementFailed {
        stage: Arc<str>,
        error: String,
    },
    /// More hosts of a rolling stage failed or were unreachable than `max-fail` allows:
    /// the hosts of later batches are not started.
    RolloutStopped {
        stage: Arc<str>,
        failed_hosts: usize,
        max_fail: usize,
        not_started: Vec<Arc<str>>,
    },
    /// A host's steps or checks failed (or, with `scope="stage"`, the stage failed after
    /// changing it): the stage's rollback steps start on it. The step events that follow
    /// for this host, up to its `rollback_finished`, are the rollback's.
    RollbackStarted {
        stage: Arc<str>,
        host: Arc<str>,
    },
    /// The rollback of a host ended: every rollback step succeeded (`ok`), or one failed.
    /// The host still counts as failed.
    RollbackFinished {
        stage: Arc<str>,
        host: Arc<str>,
        ok: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        duration_secs: f64,
    },
    /// Dry run: what a real run would do with a step on a host, its command filled in.
    StepPreview {
        stage: Arc<str>,
        host: Arc<str>,
        /// Counted from 1; a stage's rollback steps are numbered after its own steps.
        step: usize,
        kind: String,
        command: String,
        /// For a `script` step: the script's path on this machine, since the command
        /// (`sh -s -- ARGS`) does not show which script it streams.
        #[serde(skip_serializing_if = "Option::is_none")]
        script: Option<String>,
        would: Would,
        /// Why it would be skipped, or why that is not known.
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Dry run: a check probed once, showing the host's health as it is now.
    CheckPreview {
        stage: Arc<str>,
        host: Arc<str>,
        check: Arc<str>,
        target: String,
        #[serde(flatten)]
        result: ProbeResult,
    },
    StepStarted {
        stage: Arc<str>,
        host: Arc<str>,
        step: usize,
        kind: String,
        command: String,
    },
    Output {
        stage: Arc<str>,
        host: Arc<str>,
        step: usize,
        stream: Stream,
        line: String,
    },
    /// How far a `sync` or `pull` step has got on a host; at most a few a second.
    SyncProgress {
        stage: Arc<str>,
        host: Arc<str>,
        step: usize,
        files_done: u64,
        files_total: u64,
        bytes_done: u64,
        bytes_total: u64,
    },
    /// What a `sync` or `pull` step did on a host, just before its `step_finished`; in a
    /// dry run (`dry_run`), what it would do, after its `step_preview`.
    SyncFinished {
        stage: Arc<str>,
        host: Arc<str>,
        step: usize,
        /// `push` (a `sync` step) or `pull`.
        direction: Direction,
        dry_run: bool,
        /// Written as `files_sent`, `bytes_sent`, `deleted`, `unchanged`, `items` and
        /// `warnings`.
        #[serde(flatten)]
        report: SyncReport,
    },
    /// Every `step_started` is followed by one `step_finished`, however the step ended.
    StepFinished {
        stage: Arc<str>,
        host: Arc<str>,
        step: usize,
        command: String,
        /// Written as `exit_code`, `ok`, `end` and `error`.
        #[serde(flatten)]
        outcome: StepOutcome,
        /// The step changed the host: its command exited 0. A step skipped by a guard
        /// (`skipped` says why) or exiting with its `unchanged-exit` code did not.
        changed: bool,
        duration_secs: f64,
        #[serde(skip_serializing_if = "String::is_empty")]
        stderr: String,
    },
    /// One attempt of a health check on a host, passed or not.
    CheckAttempt {
        stage: Arc<str>,
        host: Arc<str>,
        check: Arc<str>,
        /// Counted from 1, out of `attempts` at most.
        attempt: u32,
        attempts: u32,
        #[serde(flatten)]
        result: ProbeResult,
        elapsed_secs: f64,
    },
    /// A health check on a host gave its verdict: passed, or gave up.
    CheckFinished {
        stage: Arc<str>,
        host: Arc<str>,
        check: Arc<str>,
        /// What it probed, filled in: the URL, the address or the command.
        target: String,
        ok: bool,
        /// Attempts made.
        attempts: u32,
        /// Why it gave up, when it did (the last attempt's result is in its `check_attempt`).
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        duration_secs: f64,
    },
    /// A step with `confirm` was confirmed over a new connection (`ok`), or was not and
    /// the host reverts it by itself.
    Confirmation {
        stage: Arc<str>,
        host: Arc<str>,
        step: usize,
        ok: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    StepTimedOut {
        stage: Arc<str>,
        host: Arc<str>,
        step: usize,
        command: String,
        timeout_secs: f64,
    },
    HostUnreachable {
        stage: Arc<str>,
        host: Arc<str>,
        error: String,
    },
    HostFinished {
        stage: Arc<str>,
        host: Arc<str>,
        outcome: HostOutcome,
        duration_secs: f64,
    },
    StageFinished {
        stage: Arc<str>,
        ok: bool,
        /// Hosts that failed or were unreachable; within `max-fail` the stage is still ok.
        failed_hosts: usize,
        duration_secs: f64,
    },
    /// A signal asked the run to stop: the first Ctrl-C lets running steps finish (`forced`
    /// false); a second Ctrl-C, SIGTERM or SIGHUP stops them.
    CancelRequested {
        forced: bool,
        reason: CancelReason,
    },
    /// Right after `run_started`: the deploy lock is this run's on `hosts` (on none when
    /// every lock host was unreachable) until `lock_released`; `id` releases it by hand.
    LockTaken {
        name: String,
        hosts: Vec<String>,
        id: String,
    },
    /// Before `run_started`: the lock is held by another run on `host`; `--lock-wait` polls
    /// until it is free. `holder` is None when its record cannot be read.
    LockWaiting {
        name: String,
        host: String,
        holder: Option<LockRecord>,
    },
    /// The run gave the lock back on `hosts`, once its connections are closed; right before
    /// `run_finished`.
    LockReleased {
        name: String,
        hosts: Vec<String>,
    },
    /// A connection that could not be closed cleanly (its process is gone either way).
    Warning {
        message: String,
    },
    RunFinished {
        summary: Summary,
    },
}

/// What a real run would do with a step on a host, as a dry run sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Would {
    /// Run it.
    Run,
    /// Skip it: its guard says so now (`reason`).
    Skip,
    /// Not knowable now: it has a guard, and an earlier step would change the host first.
    Unknown,
    /// Run it only if the host fails: a rollback step.
    RunOnFailure,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HostOutcome {
    /// Every step succeeded.
    Ok,
    Failed,
    Unreachable,
    /// Not run: cancelled before it started.
    Skipped,
    /// Not run: the rollout stopped before its batch.
    NotStarted,
}
