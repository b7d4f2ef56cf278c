//! One stage of the run: a band of rows, one per host, with its batches and stops marked.

use super::outcome::Outcome;
use super::row::Row;

/// A stage and the rows of its hosts.
pub struct Group {
    pub stage: String,
    pub started: Option<f64>,
    pub finished: Option<f64>,
    /// Why the stage did not run, when it did not.
    pub skipped: Option<String>,
    pub hover: String,
    pub rows: Vec<Row>,
    pub lines: Vec<Line>,
}

/// A moment marked across rows: a batch starting, a rollout stopping, a cancellation.
pub struct Line {
    pub at: f64,
    pub label: String,
    pub hover: String,
    pub kind: LineKind,
}

/// What a [`Line`] marks, which says how it is drawn.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// A batch of a rolling stage starts.
    Batch,
    /// The stage's rollout stopped: more hosts failed than max-fail allows.
    Stopped,
    /// A signal asked the run to stop.
    Cancel,
}

impl LineKind {
    pub fn colour(self) -> &'static str {
        match self {
            LineKind::Batch => "#1f77b4",
            LineKind::Stopped => "#b00020",
            LineKind::Cancel => Outcome::Cancelled.colour(),
        }
    }

    /// The dash pattern of the line; a stop is solid, as it matters most.
    pub fn dashes(self) -> Option<&'static str> {
        match self {
            LineKind::Batch => Some("4 3"),
            LineKind::Stopped => None,
            LineKind::Cancel => Some("6 2"),
        }
    }

    /// The word in the legend.
    pub fn label(self) -> &'static str {
        match self {
            LineKind::Batch => "batch start",
            LineKind::Stopped => "rollout stopped",
            LineKind::Cancel => "cancel requested",
        }
    }
}

impl Group {
    pub fn new(stage: &str) -> Group {
        Group {
            stage: stage.to_string(),
            started: None,
            finished: None,
            skipped: None,
            hover: format!("stage {stage}"),
            rows: Vec::new(),
            lines: Vec::new(),
        }
    }

    /// The row of `host`, added (as the `order`-th host of the run) if it has none yet.
    pub fn row(&mut self, host: &str, order: usize) -> &mut Row {
        let index = match self.rows.iter().position(|r| r.host == host) {
            Some(index) => index,
            None => {
                self.rows.push(Row::new(host, order));
                self.rows.len() - 1
            }
        };
        &mut self.rows[index]
    }
}
