//! The run history: what ran where, when, and how it ended, kept in an embedded SQLite
//! database. It stores what it is given and knows nothing of runs or plans: the recorder
//! in `report/` turns run events into its records. `timeline` draws one run's events as an
//! SVG Gantt chart (`tsync history show RUN --timeline FILE.svg`).

mod ago;
mod history;
mod history_error;
mod history_path;
mod host_record;
mod new_run;
mod run_record;
mod schema;
mod timed_event;
mod timeline;

pub use ago::ago;
pub use history::{History, from_millis};
pub use history_error::HistoryError;
pub use history_path::default_path;
pub use host_record::HostRecord;
pub use new_run::{NewRun, RunId, RunKind};
pub use run_record::RunRecord;
pub use timed_event::TimedEvent;
pub use timeline::render as timeline;
