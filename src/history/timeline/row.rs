//! One host's row in a stage: its steps, rollbacks and checks along the time axis.

use super::outcome::Outcome;

/// A host in a stage, and what happened to it there.
pub struct Row {
    pub host: String,
    /// When the host first appeared in the run, which orders the rows of every stage alike.
    pub order: usize,
    /// When its work could start: its stage's start, or its batch's in a rolling stage.
    pub start: Option<f64>,
    pub bars: Vec<Bar>,
    pub rollbacks: Vec<Span>,
    pub checks: Vec<Check>,
    /// What the host's label tells on hover: how it ended in this stage.
    pub hover: String,
    /// A word beside a host that did no work: `not started`, `skipped`.
    pub note: Option<&'static str>,
    /// The host failed or was unreachable in this stage: its name is written in red.
    pub failed: bool,
    /// A rollback has started on this host and not yet finished: its steps are the rollback's.
    pub rolling_back: bool,
}

/// A step's bar, or the time a host was being reached when it turned out unreachable.
pub struct Bar {
    pub from: f64,
    pub to: f64,
    pub outcome: Outcome,
    /// A step of a rollback, drawn with the rollback's outline.
    pub rollback: bool,
    pub hover: String,
}

/// A stretch of time with a hover text: a rollback on a host.
pub struct Span {
    pub from: f64,
    pub to: Option<f64>,
    pub hover: String,
}

/// A health check that passed or gave up at `at`, after probing since `from`.
pub struct Check {
    pub from: f64,
    pub at: f64,
    pub ok: bool,
    pub hover: String,
}

impl Row {
    pub fn new(host: &str, order: usize) -> Row {
        Row {
            host: host.to_string(),
            order,
            start: None,
            bars: Vec::new(),
            rollbacks: Vec::new(),
            checks: Vec::new(),
            hover: host.to_string(),
            note: None,
            failed: false,
            rolling_back: false,
        }
    }

    /// Where the host's last bar ends, or where its work could start.
    pub fn busy_until(&self) -> Option<f64> {
        self.bars
            .iter()
            .map(|b| b.to)
            .fold(self.start, |latest, to| {
                Some(latest.map_or(to, |l| l.max(to)))
            })
    }
}
