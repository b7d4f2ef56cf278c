//! One stage of the run: a band of rows, one per host, with its batches and stops marked.

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

/// A moment of a stage marked across its rows: a batch starting or the rollout stopping.
pub struct Line {
    pub at: f64,
    pub label: String,
    pub hover: String,
    pub stopped: bool,
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
