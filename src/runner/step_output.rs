//! A step's output lines, turned into events and sent to the reporter in batches.

use std::sync::Arc;

use super::context::Context;
use super::event::Event;
use super::stream::Stream;
use crate::transport::Output;

/// A step's output lines travel to the reporter in batches of about this size: one hand-off
/// between threads per batch, not per line.
pub(super) const BATCH_BYTES: usize = 64 * 1024;

pub(super) struct StepOutput<'a> {
    context: &'a Context,
    stage: Arc<str>,
    host: Arc<str>,
    step: usize,
    batch: Vec<Event>,
    bytes: usize,
}

impl<'a> StepOutput<'a> {
    /// Output of step `step` (counted from 1) of plan stage `stage` on plan host `host`.
    pub(super) fn new(context: &'a Context, stage: usize, host: usize, step: usize) -> Self {
        StepOutput {
            context,
            stage: context.stage_names[stage].clone(),
            host: context.host_names[host].clone(),
            step,
            batch: Vec::new(),
            bytes: 0,
        }
    }

    async fn line(&mut self, stream: Stream, line: String) {
        self.bytes += line.len() + std::mem::size_of::<Event>();
        self.batch.push(Event::Output {
            stage: self.stage.clone(),
            host: self.host.clone(),
            step: self.step,
            stream,
            line,
        });
        if self.bytes >= BATCH_BYTES {
            self.flush().await;
        }
    }
}

impl Output for StepOutput<'_> {
    async fn stdout_line(&mut self, line: String) {
        self.line(Stream::Stdout, line).await;
    }

    async fn stderr_line(&mut self, line: String) {
        self.line(Stream::Stderr, line).await;
    }

    async fn flush(&mut self) {
        if !self.batch.is_empty() {
            self.bytes = 0;
            let batch = std::mem::take(&mut self.batch);
            self.context.send(batch).await;
        }
    }
}
