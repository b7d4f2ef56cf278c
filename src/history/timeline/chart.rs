//! What the timeline shows: stages, their hosts' rows, and the bars, rollbacks and checks on
//! them. The reader reads it from the events; drawing it is the caller's part.

use super::group::{Group, Line};

/// The run as the timeline draws it.
pub struct Chart {
    /// The stages in the order they started (or were skipped).
    pub groups: Vec<Group>,
    /// When the last thing happened: the right end of the time axis.
    pub end: f64,
    /// The line under the title: hosts, stages, how the run ended.
    pub summary: String,
    /// Moments of the whole run: a cancellation requested.
    pub marks: Vec<Line>,
}

impl Chart {
    /// The group of `stage`, added after the others if it has none yet.
    pub fn group(&mut self, stage: &str) -> &mut Group {
        let index = match self.groups.iter().position(|g| g.stage == stage) {
            Some(index) => index,
            None => {
                self.groups.push(Group::new(stage));
                self.groups.len() - 1
            }
        };
        &mut self.groups[index]
    }
}
