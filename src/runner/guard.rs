//! A step's guards on one host: each test run over the host's connection before the step,
//! in order, until one says to skip it.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::playbook::Guard;
use crate::transport::{Connection, ExecError, Output};

/// Why the step is skipped on this host, or None when it runs. A guard that cannot be run
/// (the connection broke, it was killed) is an error, as the step itself would have been;
/// the step's timeout and cancellation cover its guards too.
pub(super) async fn skip_reason(
    connection: &Connection,
    guards: &[(Guard<String>, String)],
    group: &AtomicU32,
) -> Result<Option<String>, ExecError> {
    for (guard, command) in guards {
        let done = connection.exec(command, None, group, &mut Discard).await?;
        // The guard's process is gone: a later stop must not aim at its group.
        group.store(0, Ordering::SeqCst);
        let Some(code) = done.exit_code else {
            return Err(ExecError::Failed(format!(
                "the `{}` guard was killed by a signal",
                guard.property()
            )));
        };
        if let Some(reason) = guard.skips(code) {
            return Ok(Some(reason));
        }
    }
    Ok(None)
}

/// A guard's output is not shown: only its exit code matters.
struct Discard;

impl Output for Discard {
    async fn stdout_line(&mut self, _line: String) {}

    async fn stderr_line(&mut self, _line: String) {}

    async fn flush(&mut self) {}
}
