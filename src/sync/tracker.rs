//! Counts what one host's sync has sent and tells the caller's progress callback, at most
//! a few times a second per host however many small files land.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::report::Progress;

const EVERY: Duration = Duration::from_millis(200);

pub struct Tracker<'a> {
    callback: &'a (dyn Fn(Progress) + Sync),
    files_total: u64,
    bytes_total: u64,
    files_done: AtomicU64,
    bytes_done: AtomicU64,
    last: Mutex<Option<Instant>>,
}

impl<'a> Tracker<'a> {
    pub fn new(callback: &'a (dyn Fn(Progress) + Sync), files: u64, bytes: u64) -> Tracker<'a> {
        Tracker {
            callback,
            files_total: files,
            bytes_total: bytes,
            files_done: AtomicU64::new(0),
            bytes_done: AtomicU64::new(0),
            last: Mutex::new(None),
        }
    }

    pub fn bytes(&self, n: u64) {
        self.bytes_done.fetch_add(n, Ordering::Relaxed);
        self.tell(false);
    }

    pub fn file(&self) {
        let done = self.files_done.fetch_add(1, Ordering::Relaxed) + 1;
        self.tell(done == self.files_total);
    }

    fn tell(&self, last: bool) {
        {
            let mut told = self.last.lock().expect("not poisoned");
            let now = Instant::now();
            if !last && told.is_some_and(|t| now.duration_since(t) < EVERY) {
                return;
            }
            *told = Some(now);
        }
        (self.callback)(Progress {
            files_done: self.files_done.load(Ordering::Relaxed),
            files_total: self.files_total,
            bytes_done: self.bytes_done.load(Ordering::Relaxed),
            bytes_total: self.bytes_total,
        });
    }
}
