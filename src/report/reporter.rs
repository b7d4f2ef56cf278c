//! What the run reporters have in common.

use std::io;

use crate::runner::Event;

/// Turns run events into output. Writing may fail (a closed pipe, a full disk): the run is
/// then cancelled, as Ctrl-C would, rather than going on unseen.
pub trait Reporter {
    /// Writes what `event` shows, possibly into a buffer.
    fn handle(&mut self, event: &Event) -> io::Result<()>;

    /// Makes everything handled so far visible. Called whenever no event is waiting, so a
    /// burst of output costs one write, not one per line.
    fn flush(&mut self) -> io::Result<()>;
}
