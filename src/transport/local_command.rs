//! A command run on the controller itself (a `local` step): `sh -c` in a directory, its
//! output passed on line by line as a remote command's is. It leads a process group of its
//! own, so that giving up on it (a timeout, a cancel) stops everything it started.

use std::path::Path;
use std::process::Stdio;

use tokio::process::Command;

use super::connection::{ExecError, Executed};
use super::output_lines::{Lines, Output};

/// Runs `command` with `sh -c` in `dir`, stdin empty. Dropping the future before the
/// command ends kills its process group.
pub async fn run_local(
    command: &str,
    dir: &Path,
    output: &mut impl Output,
) -> Result<Executed, ExecError> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| ExecError::Failed(format!("cannot start `sh` in `{}`: {e}", dir.display())))?;
    let mut group = Group(child.id());
    let mut lines = Lines::new(None, output);
    lines
        .read(child.stdout.take(), child.stderr.take())
        .await
        .map_err(|e| ExecError::Failed(format!("reading output: {e}")))?;
    let status = child
        .wait()
        .await
        .map_err(|e| ExecError::Failed(format!("waiting for `sh`: {e}")))?;
    // Reaped: its group ID may now be given to another process.
    group.0 = None;
    Ok(Executed {
        exit_code: status.code(),
        stderr_tail: lines.stderr_tail(),
    })
}

/// The process group of a command still running; killed when dropped.
struct Group(Option<u32>);

impl Drop for Group {
    fn drop(&mut self) {
        let Some(id) = self.0.and_then(|id| libc::pid_t::try_from(id).ok()) else {
            return;
        };
        // SAFETY: killpg(2) touches no memory; the group is the one this command leads, and
        // its leader is not reaped yet, so the ID cannot belong to anyone else.
        unsafe {
            libc::killpg(id, libc::SIGKILL);
        }
    }
}
