//! The lock on one host: short POSIX scripts run over the host's connection, each one
//! round trip. The lock is the directory `$HOME/.tsync/locks/NAME` (or under
//! `$TSYNC_LOCK_DIR`, when the host's login environment sets it: a directory shared by
//! every deploy user makes controllers that log in as different users exclude each other): `mkdir` either creates
//! it or fails because it exists, atomically, on every filesystem. `record.json` inside is
//! always replaced whole (written beside, then renamed), so a reader never sees half of it.
//!
//! Scripts run under `sh -c` whatever the login shell is, and take the name and id as
//! arguments, both from a safe alphabet. A lock found without its record was most likely
//! taken a moment ago by a run whose record is on its way: `take` waits up to a second for
//! it, so that the run refused can say who holds the lock.

use super::lock_name::LockName;
use super::lock_record::LockRecord;
use crate::transport::Connection;

/// The answers are a word and a record or a list of them: small.
const ANSWER_LIMIT: usize = 1 << 20;

const TAKE: &str = r#"b="${TSYNC_LOCK_DIR:-$HOME/.tsync/locks}"; d="$b/$1"
mkdir -p "$b" || exit 3
if mkdir "$d" 2>/dev/null; then
  t="$d/.record.$$"
  if cat > "$t" && mv -f "$t" "$d/record.json"; then echo taken; exit 0; fi
  rm -rf "$d"; exit 3
elif [ -d "$d" ]; then
  n=0
  while [ ! -e "$d/record.json" ] && [ "$n" -lt 20 ]; do
    sleep 0.05 2>/dev/null || { sleep 1; n=20; }
    n=$((n + 1))
  done
  echo held; cat "$d/record.json" 2>/dev/null; exit 0
else
  echo "cannot create $d" >&2; exit 3
fi"#;

/// Rewrites the record only while it is still ours: a lock broken as stale and taken by
/// someone else must not get our record back.
const REFRESH: &str = r#"d="${TSYNC_LOCK_DIR:-$HOME/.tsync/locks}/$1"
grep -q "\"id\":\"$2\"" "$d/record.json" 2>/dev/null || { echo lost; exit 0; }
t="$d/.record.$$"
cat > "$t" && mv -f "$t" "$d/record.json" && echo ok"#;

/// Renames the directory away before removing it: the lock is free at once, and a reader
/// never sees it half deleted.
const RELEASE: &str = r#"b="${TSYNC_LOCK_DIR:-$HOME/.tsync/locks}"; d="$b/$1"
[ -d "$d" ] || { echo gone; exit 0; }
if grep -q "\"id\":\"$2\"" "$d/record.json" 2>/dev/null; then
  g="$b/.released.$$"
  mv "$d" "$g" && rm -rf "$g" && echo released
else
  echo other; cat "$d/record.json" 2>/dev/null; exit 0
fi"#;

const LIST: &str = r#"for d in "${TSYNC_LOCK_DIR:-$HOME/.tsync/locks}"/*/; do
  [ -d "$d" ] || continue
  n="${d%/}"; n="${n##*/}"
  printf "lock %s\n" "$n"
  cat "$d/record.json" 2>/dev/null
  echo
done"#;

/// What taking the lock on a host found.
#[derive(Debug)]
pub(super) enum Took {
    Taken,
    /// Someone holds it; None when its record cannot be read (being written, or damaged).
    Held(Option<LockRecord>),
}

/// What releasing a lock by its id did.
#[derive(Debug)]
pub enum Released {
    Released,
    /// There was no such lock.
    Gone,
    /// The lock has another id: left alone.
    Other(Option<LockRecord>),
}

/// A lock found on a host by [`list`].
#[derive(Debug, Clone)]
pub struct FoundLock {
    pub name: String,
    /// None when its record cannot be read.
    pub record: Option<LockRecord>,
}

pub(super) async fn take(
    connection: &Connection,
    name: &LockName,
    record: &LockRecord,
) -> Result<Took, String> {
    let answer = run(connection, TAKE, &[name.as_str()], Some(record)).await?;
    let mut lines = answer.lines();
    match lines.next() {
        Some("taken") => Ok(Took::Taken),
        Some("held") => Ok(Took::Held(lines.next().and_then(LockRecord::from_line))),
        _ => Err(format!(
            "unexpected answer from the lock script: {answer:?}"
        )),
    }
}

/// Writes `record` (with a new heartbeat) over ours; false when the lock is no longer ours.
pub(super) async fn refresh(
    connection: &Connection,
    name: &LockName,
    record: &LockRecord,
) -> Result<bool, String> {
    let answer = run(
        connection,
        REFRESH,
        &[name.as_str(), &record.id],
        Some(record),
    )
    .await?;
    Ok(answer.trim() == "ok")
}

/// Removes the lock `name` if its id is `id`.
pub async fn release(connection: &Connection, name: &str, id: &str) -> Result<Released, String> {
    let answer = run(connection, RELEASE, &[name, id], None).await?;
    let mut lines = answer.lines();
    match lines.next() {
        Some("released") => Ok(Released::Released),
        Some("gone") => Ok(Released::Gone),
        Some("other") => Ok(Released::Other(
            lines.next().and_then(LockRecord::from_line),
        )),
        _ => Err(format!(
            "unexpected answer from the lock script: {answer:?}"
        )),
    }
}

/// Every lock on the host, by name.
pub async fn list(connection: &Connection) -> Result<Vec<FoundLock>, String> {
    let answer = run(connection, LIST, &[], None).await?;
    let mut found: Vec<FoundLock> = Vec::new();
    let mut lines = answer.lines();
    while let Some(line) = lines.next() {
        if let Some(name) = line.strip_prefix("lock ") {
            let record = lines.next().and_then(LockRecord::from_line);
            found.push(FoundLock {
                name: name.to_string(),
                record,
            });
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

/// Runs `script` with `sh -c`, its arguments after it, `record` on its stdin; returns its
/// stdout, or why it failed.
async fn run(
    connection: &Connection,
    script: &str,
    args: &[&str],
    record: Option<&LockRecord>,
) -> Result<String, String> {
    let mut command = format!("sh -c '{script}' tsync-lock");
    for arg in args {
        command.push(' ');
        command.push_str(&crate::shell::quote_word(arg));
    }
    let stdin = record.map(|r| format!("{}\n", r.to_line()));
    let captured = connection
        .capture(&command, stdin.as_deref().map(str::as_bytes), ANSWER_LIMIT)
        .await
        .map_err(|e| e.to_string())?;
    match captured.exit_code {
        Some(0) => Ok(String::from_utf8_lossy(&captured.stdout).into_owned()),
        _ if !captured.stderr.is_empty() => Err(captured.stderr),
        Some(code) => Err(format!("the lock script exited with {code}")),
        None => Err("the lock script was killed".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_fit_in_single_quotes() {
        for script in [TAKE, REFRESH, RELEASE, LIST] {
            assert!(!script.contains('\''), "{script}");
        }
    }
}
