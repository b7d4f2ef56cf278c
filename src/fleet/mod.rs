//! The fleet's state: each host's load measured by a small probe over its connection, the
//! load score that compares hosts, and the placement that `least-loaded` makes with it.

mod host_status;
mod known_disks;
mod load;
mod placement;
mod probe;
mod score;
mod survey;

pub use host_status::{HostStatus, TailscaleView};
pub use known_disks::{DISK_FRESH_FOR, Disk, KnownDisks};
pub use load::Load;
pub use placement::{PassedOver, Pick, Placement};
pub use probe::{Probed, Sample, probe};
pub use score::Score;
pub use survey::{Answer, Target, survey};
