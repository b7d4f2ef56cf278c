//! Which reporters a run writes to: the one registration point. A new output (history,
//! a timeline, JUnit for CI) is a new file implementing [`Reporter`] and one line here.

use std::io::{self, IsTerminal};
use std::time::SystemTime;

use clap::ValueEnum;

use super::diagnostics::Color;
use super::{Human, JsonLines, Recorder, Reporter};
use crate::history::NewRun;
use crate::runner::Event;

/// Output is written in blocks of this size while events keep coming.
const OUTPUT_BUFFER: usize = 64 * 1024;

/// What `--output` asks to see on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// For people: live progress, output by host, a recap
    Human,
    /// One JSON object per event per line (schema/events.schema.json)
    Json,
}

/// Every reporter of a run, each handed every event in order.
pub struct Reporters {
    all: Vec<Box<dyn Reporter>>,
    /// Kept apart: the run's end is recorded after the runner returned its exit code.
    recorder: Option<Recorder>,
    /// A run to record once it starts: an `apply` refused by the deploy lock never starts,
    /// and leaves nothing in the history.
    to_record: Option<NewRun>,
}

impl Reporters {
    /// The reporters for a run shown on stdout as `format` asks. Call it on the thread that
    /// will write: it holds stdout's lock from here on. With `record`, the run is also
    /// recorded in the history from its `run_started` on. `quiet` leaves out of the human
    /// output all but failures and the final line; JSON is always whole (programs pick what
    /// they need).
    pub fn to_stdout(
        format: OutputFormat,
        quiet: bool,
        color: Color,
        host_names: &[String],
        record: Option<NewRun>,
    ) -> Reporters {
        let stdout = io::stdout();
        let terminal = stdout.is_terminal();
        let out = io::BufWriter::with_capacity(OUTPUT_BUFFER, stdout.lock());
        let shown: Box<dyn Reporter> = match format {
            OutputFormat::Human => Box::new(
                Human::new(out, terminal, color.enabled(terminal), host_names).quiet(quiet),
            ),
            OutputFormat::Json => Box::new(JsonLines::new(out)),
        };
        Reporters {
            all: vec![shown],
            recorder: None,
            to_record: record,
        }
    }

    /// The recorder, to record the run's end once its exit code is known.
    pub fn into_recorder(self) -> Option<Recorder> {
        self.recorder
    }
}

impl Reporter for Reporters {
    fn handle(&mut self, event: &Event) -> io::Result<()> {
        if let Event::RunStarted { .. } = event
            && let Some(run) = self.to_record.take()
        {
            // Time spent waiting for the deploy lock is not part of the run.
            let run = NewRun {
                started: SystemTime::now(),
                ..run
            };
            self.recorder = Recorder::start(&run);
        }
        if let Some(recorder) = &mut self.recorder {
            recorder.handle(event)?;
        }
        self.all.iter_mut().try_for_each(|r| r.handle(event))
    }

    fn flush(&mut self) -> io::Result<()> {
        if let Some(recorder) = &mut self.recorder {
            recorder.flush()?;
        }
        self.all.iter_mut().try_for_each(|r| r.flush())
    }
}
