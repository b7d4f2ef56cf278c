//! The history of runs: what every run did, kept to be looked at later. Here, the picture of
//! one run (`tsync history show RUN --timeline FILE.svg`) drawn from its stamped events.

mod timed_event;
mod timeline;

pub use timed_event::TimedEvent;
pub use timeline::render;
