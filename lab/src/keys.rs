//! Ed25519 key pairs, made with `ssh-keygen` like a person would.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::LabError;

/// How many `ssh-keygen` run at once: a lab of 1000 hosts needs 1001 keys,
/// and each takes a few milliseconds of one core.
const PARALLEL: usize = 16;

/// Makes a key pair at each path (the public half at `PATH.pub`), replacing
/// any pair already there.
pub(crate) fn generate(paths: &[PathBuf]) -> Result<(), LabError> {
    for chunk in paths.chunks(PARALLEL) {
        // ssh-keygen asks before overwriting, and there is nobody to answer.
        for path in chunk {
            for old in [path.clone(), public_path(path)] {
                match fs::remove_file(&old) {
                    Err(err) if err.kind() != io::ErrorKind::NotFound => {
                        return Err(LabError::Io {
                            what: format!("removing the old key {}", old.display()),
                            source: err,
                        });
                    }
                    _ => {}
                }
            }
        }
        let mut children = Vec::with_capacity(chunk.len());
        for path in chunk {
            let child = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C", "tsync-lab", "-f"])
                .arg(path)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(LabError::io("running ssh-keygen"));
            children.push((path, child));
        }
        // Every started ssh-keygen is waited for before the first failure is
        // reported, so none is left behind.
        let mut first_failure = None;
        for (path, child) in children {
            let result = child.and_then(|child| {
                let output = child
                    .wait_with_output()
                    .map_err(LabError::io("waiting for ssh-keygen"))?;
                if output.status.success() {
                    Ok(())
                } else {
                    Err(LabError::Command {
                        what: format!("ssh-keygen for {}", path.display()),
                        status: output.status,
                        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
                    })
                }
            });
            if let Err(err) = result {
                first_failure.get_or_insert(err);
            }
        }
        if let Some(err) = first_failure {
            return Err(err);
        }
    }
    Ok(())
}

/// The public key of the pair at `path` as `TYPE BASE64`, without its comment.
pub(crate) fn public_key(path: &Path) -> Result<String, LabError> {
    let public = public_path(path);
    let text = fs::read_to_string(&public)
        .map_err(LabError::io(format!("reading {}", public.display())))?;
    Ok(text
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" "))
}

fn public_path(path: &Path) -> PathBuf {
    let mut public = path.as_os_str().to_owned();
    public.push(".pub");
    PathBuf::from(public)
}
