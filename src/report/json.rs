//! `--output json`: one JSON object per event per line, the last one `run_finished` with the
//! summary. The format is described in schema/events.schema.json.

use std::io::{self, Write};

use super::Reporter;
use crate::runner::Event;

pub struct JsonLines<W: Write> {
    out: W,
}

impl<W: Write> JsonLines<W> {
    pub fn new(out: W) -> Self {
        JsonLines { out }
    }
}

impl<W: Write> Reporter for JsonLines<W> {
    fn handle(&mut self, event: &Event) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, event)?;
        self.out.write_all(b"\n")
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
