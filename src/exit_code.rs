//! What tsync's exit status means. Cron and CI scripts branch on these, so they never
//! change meaning; README documents them.

/// Everything ran and succeeded (or `check` found nothing wrong).
pub const SUCCESS: i32 = 0;
/// tsync itself could not work: an unexpected I/O error, a bug. Not about the hosts.
pub const INTERNAL: i32 = 1;
/// The input is wrong: a playbook, a selector, a flag. Nothing was run.
pub const INVALID_INPUT: i32 = 2;
/// At least one host failed a step or a check. Takes precedence over [`UNREACHABLE`].
pub const HOSTS_FAILED: i32 = 3;
/// At least one host could not be reached (and none that was reached failed).
pub const UNREACHABLE: i32 = 4;
/// `apply` did not run: another run holds the deploy lock (or it is stale). Nothing was
/// touched; the holder's record is on stderr.
pub const LOCKED: i32 = 5;
/// `apply --if-locked=skip` found the deploy lock held and did nothing: EX_TEMPFAIL, so cron
/// and CI can tell "try again later" from a failure.
pub const LOCK_SKIPPED: i32 = 75;
/// Stopped by Ctrl-C (SIGINT), SIGTERM or SIGHUP, or by stdout closing during a run.
pub const INTERRUPTED: i32 = 130;
