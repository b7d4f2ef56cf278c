//! `--output json`: one JSON object per event per line, the last one `run_finished` with the
//! summary. The format is described in schema/events.schema.json.

use std::io::Write;

use crate::runner::Event;

pub struct JsonLines<W: Write> {
    out: W,
}

impl<W: Write> JsonLines<W> {
    pub fn new(out: W) -> Self {
        JsonLines { out }
    }

    pub fn handle(&mut self, event: &Event) {
        // Events hold only strings and numbers: serializing cannot fail.
        if let Ok(line) = serde_json::to_string(event) {
            let _ = writeln!(self.out, "{line}");
            // Consumers read line by line while the run goes on.
            let _ = self.out.flush();
        }
    }
}
