//! The deploy lock: one `tsync apply` of a playbook at a time, across controllers (a laptop
//! and CI) and across overlapping runs on one machine.
//!
//! Two parts. [`LocalLock`] is an `flock` on a file in the user's runtime or state
//! directory: overlapping cron runs on one machine exclude each other before any of them
//! connects. [`LockSet`] is an atomic `mkdir` of `~/.tsync/locks/NAME` on every lock host,
//! taken in a stable order, holding a [`LockRecord`] that says who holds it and is rewritten
//! by a heartbeat; a record whose heartbeat is older than its expiry is stale. The lock is
//! released only by its own id, which the holder has and a human can read from the record.

mod held_lock;
mod local_lock;
mod lock_name;
mod lock_record;
mod lock_set;
mod remote;

pub use held_lock::HeldLock;
pub use local_lock::{LocalLock, LocalRefusal};
pub use lock_name::LockName;
pub use lock_record::{LockRecord, unix_now};
pub use lock_set::{Blocked, LockSet, Taking};
pub use remote::{FoundLock, Released, list, release};
