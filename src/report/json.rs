//! `--output json`: one JSON object per event per line, the last one `run_finished` with the
//! summary. The format is described in schema/events.schema.json. Every line carries `at`,
//! the wall-clock time it was written (RFC 3339, milliseconds, UTC), so a log read later, or
//! lines of several runs merged, can be put back in time order.

use std::io::{self, Write};
use std::time::SystemTime;

use serde::Serialize;

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

/// An event with its time first, the event's own fields after it.
#[derive(Serialize)]
struct Stamped<'a> {
    at: String,
    #[serde(flatten)]
    event: &'a Event,
}

impl<W: Write> Reporter for JsonLines<W> {
    fn handle(&mut self, event: &Event) -> io::Result<()> {
        let at = humantime::format_rfc3339_millis(SystemTime::now()).to_string();
        serde_json::to_writer(&mut self.out, &Stamped { at, event })?;
        self.out.write_all(b"\n")
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
