//! `--checksum`: files of equal size on both sides are compared by SHA-256, the host's
//! hashed by one batched `sha256sum` (GNU coreutils) rather than a round trip per file.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::entry::{Kind, Tree};
use super::layout::Layout;
use crate::transport::{Connection, ExecError};

/// 64 hex digits per file, its name and a NUL: far below this for any tree a sync handles.
const ANSWER_LIMIT: usize = 256 << 20;

/// The files of equal size on both sides whose contents are equal too.
pub async fn equal_files(
    connection: &Connection,
    source: &Tree,
    dest: &Tree,
    layout: &Layout,
) -> Result<HashSet<PathBuf>, ExecError> {
    let candidates: Vec<PathBuf> = source
        .iter()
        .filter(|(path, s)| {
            s.kind == Kind::File
                && dest
                    .get(*path)
                    .is_some_and(|d| d.kind == Kind::File && d.size == s.size)
        })
        .map(|(path, _)| path.clone())
        .collect();
    if candidates.is_empty() {
        return Ok(HashSet::new());
    }
    let remote = remote_hashes(connection, &candidates, layout).await?;
    let locals: Vec<PathBuf> = candidates.iter().map(|p| layout.local(p)).collect();
    let local = tokio::task::spawn_blocking(move || {
        locals
            .iter()
            .map(|p| local_hash(p))
            .collect::<Result<Vec<_>, _>>()
    })
    .await
    .map_err(|e| ExecError::Failed(format!("hashing local files: {e}")))?
    .map_err(ExecError::Failed)?;
    Ok(candidates
        .into_iter()
        .zip(remote.iter().zip(&local))
        .filter(|(_, (r, l))| r == l)
        .map(|(path, _)| path)
        .collect())
}

async fn remote_hashes(
    connection: &Connection,
    paths: &[PathBuf],
    layout: &Layout,
) -> Result<Vec<String>, ExecError> {
    let mut list = Vec::new();
    for path in paths {
        list.extend_from_slice(layout.remote(path).as_os_str().as_encoded_bytes());
        list.push(0);
    }
    // The command is fixed and the names come on its input: none is ever quoted into it.
    let command = "xargs -0 sha256sum -z --";
    let answer = connection
        .capture(command, Some(&list), ANSWER_LIMIT)
        .await?;
    if answer.exit_code != Some(0) {
        return Err(ExecError::Failed(format!(
            "hashing files on the host (`sha256sum` from GNU coreutils): {}",
            answer.stderr
        )));
    }
    let hashes: Vec<String> = answer
        .stdout
        .split(|b| *b == 0)
        .filter(|record| record.len() >= 64)
        .map(|record| String::from_utf8_lossy(&record[..64]).into_owned())
        .collect();
    if hashes.len() != paths.len() {
        return Err(ExecError::Failed(format!(
            "the host hashed {} of {} files",
            hashes.len(),
            paths.len()
        )));
    }
    Ok(hashes)
}

/// The lowercase hex SHA-256 of a local file, as `sha256sum` prints it.
fn local_hash(path: &Path) -> Result<String, String> {
    let mut file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 256 * 1024];
    loop {
        let n = file
            .read(&mut buffer)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}
