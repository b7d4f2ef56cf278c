//! Confirm-or-revert for a step that can cut off tsync's own access (sshd config, firewall,
//! network), as deploy-rs's "magic rollback" does: before the step, a watchdog is armed on
//! the host that runs the step's `revert` after a while unless it is disarmed; after the
//! host's steps and checks, tsync disarms it over a *new* SSH connection. A host tsync can
//! no longer reach therefore undoes the step by itself.

use std::sync::atomic::AtomicU32;
use std::time::{Duration, Instant};

use super::context::Context;
use crate::shell::quote_word;
use crate::transport::{Connection, ExecError, Output};

/// A watchdog armed on a host for one step.
pub(super) struct Armed {
    /// The step's number in its stage.
    pub(super) step: usize,
    /// The watchdog's directory on the host; it runs the revert while `armed` is in it.
    pub(super) dir: String,
    /// When the host reverts.
    pub(super) deadline: Instant,
    pub(super) within: Duration,
}

/// Arms the watchdog: in `within`, the host runs `revert` unless disarmed first.
pub(super) async fn arm(
    connection: &Connection,
    step: usize,
    within: Duration,
    revert: &str,
) -> Result<Armed, String> {
    // Whole seconds, rounded up: the host never reverts before tsync's deadline.
    let seconds = within.as_secs() + u64::from(within.subsec_nanos() > 0);
    let watchdog =
        format!("sleep {seconds}; if [ -e \"$1/armed\" ]; then {revert}; fi; rm -rf \"$1\"");
    // Detached from the session, with nothing to read or write, so it outlives it.
    let command = format!(
        "d=$(mktemp -d \"${{TMPDIR:-/tmp}}/tsync-confirm.XXXXXX\") && touch \"$d/armed\" && \
         (nohup sh -c {} sh \"$d\" </dev/null >/dev/null 2>&1 &) && echo \"$d\"",
        quote_word(&watchdog)
    );
    let deadline = Instant::now() + within;
    let mut output = Capture::default();
    let done = connection
        .exec(&command, None, &AtomicU32::new(0), &mut output)
        .await
        .map_err(|e| format!("cannot arm the revert watchdog: {e}"))?;
    match (done.exit_code, output.first) {
        (Some(0), Some(dir)) => Ok(Armed {
            step,
            dir,
            deadline,
            within,
        }),
        _ => Err(format!(
            "cannot arm the revert watchdog: {}",
            done.stderr_tail.trim()
        )),
    }
}

/// Disarms the watchdog of `armed` over a new connection to the host, before its deadline.
pub(super) async fn confirm(context: &Context, host: usize, armed: &Armed) -> Result<(), String> {
    let destination = context.plan.hosts[host].destination().to_string();
    let late = || {
        format!(
            "not confirmed within {}: the host reverts step {} by itself",
            humantime::format_duration(armed.within),
            armed.step
        )
    };
    let left = armed.deadline.saturating_duration_since(Instant::now());
    let attempt = async {
        let connection = context
            .connector
            .connect_new(&destination)
            .await
            .map_err(|e| format!("cannot reach the host again over a new connection: {e}"))?;
        let disarm = format!("rm {}", quote_word(&format!("{}/armed", armed.dir)));
        let done = connection
            .exec(&disarm, None, &AtomicU32::new(0), &mut Capture::default())
            .await;
        // The confirmation counts, whatever closing says.
        let _ = connection.close().await;
        match done {
            Ok(done) if done.exit_code == Some(0) => Ok(()),
            Ok(_) => Err("too late: the host had already reverted".to_string()),
            Err(ExecError::Disconnected(e) | ExecError::Failed(e)) => Err(e),
        }
    };
    match tokio::time::timeout(left, attempt).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(why)) => Err(format!("{}; {why}", late())),
        Err(_) => Err(late()),
    }
}

/// Keeps the first line of stdout.
#[derive(Default)]
struct Capture {
    first: Option<String>,
}

impl Output for Capture {
    async fn stdout_line(&mut self, line: String) {
        if self.first.is_none() && !line.is_empty() {
            self.first = Some(line);
        }
    }

    async fn stderr_line(&mut self, _line: String) {}

    async fn flush(&mut self) {}
}
