//! One open history database, and everything read from or written to it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::schema::MIGRATIONS;
use super::{
    HistoryError, HostRecord, NewRun, RunId, RunKind, RunRecord, TimedEvent, default_path,
};
use crate::fleet::Disk;

/// Other tsync processes may be writing at the same moment (a run in each terminal, a cron
/// job): a write waits this long for theirs before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The write-ahead log is folded into the database, with the two fsyncs that costs, only
/// when a history is let go with a log larger than this (about 1,000 pages).
const CHECKPOINT_AT: u64 = 4 << 20;

/// Runs older than this many days are pruned when a run is recorded.
const DEFAULT_RETENTION_DAYS: u64 = 90;

pub struct History {
    db: Connection,
    path: PathBuf,
}

impl History {
    /// The history at its default place ([`default_path`]), created with its directory if
    /// it does not exist yet.
    pub fn open() -> Result<History, HistoryError> {
        History::open_at(&default_path()?)
    }

    /// The history in the file `path`, created with its directory if need be, and brought
    /// up to this tsync's schema.
    pub fn open_at(path: &Path) -> Result<History, HistoryError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| HistoryError::CreateDir {
                dir: dir.to_path_buf(),
                source,
            })?;
        }
        let path = path.to_path_buf();
        let db = Connection::open(&path).map_err(|source| HistoryError::Database {
            path: path.clone(),
            source,
        })?;
        let mut history = History { db, path };
        history.prepare()?;
        Ok(history)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn fail(&self, source: rusqlite::Error) -> HistoryError {
        HistoryError::Database {
            path: self.path.clone(),
            source,
        }
    }

    /// Settings of the connection, then the schema. WAL lets `tsync history` read while
    /// runs write; `synchronous = NORMAL` makes a commit cost no fsync (a power cut may
    /// lose the last events, never the file).
    ///
    /// A run must not wait on the disk. SQLite's defaults fold the log into the database
    /// when the last connection closes, and so start a new log in the next run, each with
    /// fsyncs; on a machine busy writing (a build, a backup) one fsync took 1.75 s, and the
    /// run's events waited behind it. So the log is kept from run to run and folded only
    /// when it has grown, as the history is let go ([`History::drop`]).
    fn prepare(&mut self) -> Result<(), HistoryError> {
        let known = MIGRATIONS.len() as i64;
        let setup = |db: &mut Connection| -> rusqlite::Result<Option<i64>> {
            db.busy_timeout(BUSY_TIMEOUT)?;
            use_wal(db)?;
            db.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
            db.execute_batch(
                "PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0;
                 PRAGMA foreign_keys = ON;",
            )?;
            let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            if version > known {
                return Ok(Some(version));
            }
            if version < known {
                for migration in &MIGRATIONS[version as usize..] {
                    tx.execute_batch(migration)?;
                }
                tx.pragma_update(None, "user_version", known)?;
            }
            tx.commit()?;
            Ok(None)
        };
        match setup(&mut self.db) {
            Ok(None) => Ok(()),
            Ok(Some(found)) => Err(HistoryError::Newer {
                path: self.path.clone(),
                found,
                known,
            }),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Records that `run` started; its end is recorded by [`History::finish`].
    pub fn begin(&mut self, run: &NewRun) -> Result<RunId, HistoryError> {
        self.db
            .execute(
                "INSERT INTO runs (kind, target, user, started_ms, retry_of)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    run.kind.as_str(),
                    run.target,
                    run.user,
                    millis(run.started),
                    run.retry_of.map(|r| r.0)
                ],
            )
            .map_err(|e| self.fail(e))?;
        Ok(RunId(self.db.last_insert_rowid()))
    }

    /// Stores events of run `id` (their JSON text, seconds after its start) and the hosts
    /// that answered, in one transaction: a run records in batches, not per event.
    pub fn append(
        &mut self,
        id: RunId,
        events: &[(f64, String)],
        seen: &[(String, SystemTime)],
    ) -> Result<(), HistoryError> {
        let write = |db: &mut Connection| -> rusqlite::Result<()> {
            let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
            {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO events (run_id, at_secs, json) VALUES (?1, ?2, ?3)",
                )?;
                for (at, json) in events {
                    insert.execute(params![id.0, at, json])?;
                }
                let mut mark = tx.prepare_cached(SEEN)?;
                for (host, at) in seen {
                    mark.execute(params![host, millis(*at), Option::<&str>::None])?;
                }
            }
            tx.commit()
        };
        write(&mut self.db).map_err(|e| self.fail(e))
    }

    /// Records how run `id` ended and how each host did, then prunes runs older than the
    /// retention (`TSYNC_HISTORY_DAYS`, 90 days unless set).
    pub fn finish(
        &mut self,
        id: RunId,
        exit_code: i32,
        hosts: &[HostRecord],
    ) -> Result<(), HistoryError> {
        let cutoff = SystemTime::now()
            .checked_sub(Duration::from_secs(retention_days() * 86_400))
            .map_or(0, millis);
        let write = |db: &mut Connection| -> rusqlite::Result<()> {
            let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "UPDATE runs SET ended_ms = ?2, exit_code = ?3 WHERE id = ?1",
                params![id.0, millis(SystemTime::now()), exit_code],
            )?;
            {
                let mut insert = tx.prepare_cached(
                    "INSERT OR REPLACE INTO run_hosts (run_id, host, outcome, duration_secs, failure)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?;
                for h in hosts {
                    insert.execute(params![id.0, h.host, h.outcome, h.duration_secs, h.failure])?;
                }
            }
            tx.execute("DELETE FROM runs WHERE started_ms < ?1", [cutoff])?;
            tx.execute("DELETE FROM hosts WHERE last_seen_ms < ?1", [cutoff])?;
            tx.commit()
        };
        write(&mut self.db).map_err(|e| self.fail(e))
    }

    /// Records that `host` answered at `at`, with what a probe found (JSON text); without
    /// a probe the last one is kept.
    pub fn seen(
        &mut self,
        host: &str,
        at: SystemTime,
        probe: Option<&str>,
    ) -> Result<(), HistoryError> {
        self.db
            .execute(SEEN, params![host, millis(at), probe])
            .map(drop)
            .map_err(|e| self.fail(e))
    }

    /// When each of `hosts` last answered; hosts never seen are left out.
    pub fn last_seen(&self, hosts: &[&str]) -> Result<HashMap<String, SystemTime>, HistoryError> {
        let read = || -> rusqlite::Result<HashMap<String, SystemTime>> {
            let mut query = self
                .db
                .prepare_cached("SELECT last_seen_ms FROM hosts WHERE host = ?1")?;
            let mut found = HashMap::new();
            for host in hosts {
                let at: Option<i64> = query.query_row([host], |r| r.get(0)).optional()?;
                if let Some(at) = at {
                    found.insert(host.to_string(), from_millis(at));
                }
            }
            Ok(found)
        };
        read().map_err(|e| self.fail(e))
    }

    /// The last disk figures recorded for `hosts` (those it has).
    pub fn disks(&self, hosts: &[&str]) -> Result<HashMap<String, Disk>, HistoryError> {
        let read = || -> rusqlite::Result<HashMap<String, Disk>> {
            let mut query = self.db.prepare_cached(
                "SELECT used, free_bytes, measured_ms FROM disks WHERE host = ?1",
            )?;
            let mut found = HashMap::new();
            for &host in hosts {
                let disk = query
                    .query_row([host], |r| {
                        Ok(Disk {
                            used: r.get(0)?,
                            free_bytes: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
                            measured: from_millis(r.get(2)?),
                        })
                    })
                    .optional()?;
                if let Some(disk) = disk {
                    found.insert(host.to_string(), disk);
                }
            }
            Ok(found)
        };
        read().map_err(|e| self.fail(e))
    }

    /// Keeps each host's newest disk figure.
    pub fn record_disks(&mut self, disks: &[(String, Disk)]) -> Result<(), HistoryError> {
        let mut write = || -> rusqlite::Result<()> {
            let tx = self.db.transaction()?;
            for (host, disk) in disks {
                tx.execute(
                    "INSERT INTO disks (host, used, free_bytes, measured_ms) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (host) DO UPDATE SET used = excluded.used,
                        free_bytes = excluded.free_bytes, measured_ms = excluded.measured_ms
                     WHERE excluded.measured_ms >= measured_ms",
                    params![
                        host,
                        disk.used,
                        i64::try_from(disk.free_bytes).unwrap_or(i64::MAX),
                        millis(disk.measured)
                    ],
                )?;
            }
            tx.commit()
        };
        write().map_err(|e| self.fail(e))
    }

    /// The last probe recorded for `host` (JSON text), if any.
    pub fn last_probe(&self, host: &str) -> Result<Option<String>, HistoryError> {
        self.db
            .query_row("SELECT probe FROM hosts WHERE host = ?1", [host], |r| {
                r.get(0)
            })
            .optional()
            .map(Option::flatten)
            .map_err(|e| self.fail(e))
    }

    /// The stored events of run `id`, in the order they came.
    pub fn events(&self, id: RunId) -> Result<Vec<TimedEvent>, HistoryError> {
        let read = || -> rusqlite::Result<Vec<(f64, String)>> {
            let mut query = self
                .db
                .prepare("SELECT at_secs, json FROM events WHERE run_id = ?1 ORDER BY rowid")?;
            query
                .query_map([id.0], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect()
        };
        let rows = read().map_err(|e| self.fail(e))?;
        rows.into_iter()
            .map(|(at_secs, json)| {
                let event = serde_json::from_str(&json).map_err(|e| {
                    self.fail(rusqlite::Error::FromSqlConversionFailure(
                        1,
                        rusqlite::types::Type::Text,
                        Box::new(e),
                    ))
                })?;
                Ok(TimedEvent { at_secs, event })
            })
            .collect()
    }

    /// The `last` most recent runs, newest first; with `host`, only runs that had it.
    pub fn runs(&self, host: Option<&str>, last: usize) -> Result<Vec<RunRecord>, HistoryError> {
        let read = || -> rusqlite::Result<Vec<RunRecord>> {
            let mut query = self.db.prepare(
                "SELECT id, kind, target, user, started_ms, ended_ms, exit_code, retry_of FROM runs
                 WHERE ?1 IS NULL OR id IN (SELECT run_id FROM run_hosts WHERE host = ?1)
                 ORDER BY started_ms DESC, id DESC LIMIT ?2",
            )?;
            let limit = i64::try_from(last).unwrap_or(i64::MAX);
            let runs: Vec<RunRecord> = query
                .query_map(params![host, limit], run_record)?
                .collect::<rusqlite::Result<_>>()?;
            runs.into_iter()
                .map(|mut run| {
                    run.hosts = self.hosts_of(run.id)?;
                    Ok(run)
                })
                .collect()
        };
        read().map_err(|e| self.fail(e))
    }

    /// The most recent run of `kind` on `target`, with its hosts.
    pub fn latest(&self, kind: RunKind, target: &str) -> Result<Option<RunRecord>, HistoryError> {
        let id: Option<i64> = self
            .db
            .query_row(
                "SELECT id FROM runs WHERE kind = ?1 AND target = ?2
                 ORDER BY started_ms DESC, id DESC LIMIT 1",
                params![kind.as_str(), target],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.fail(e))?;
        id.map(|id| self.run(RunId(id))).transpose()
    }

    /// Run `id` with its hosts.
    pub fn run(&self, id: RunId) -> Result<RunRecord, HistoryError> {
        let read = || -> rusqlite::Result<Option<RunRecord>> {
            let run = self
                .db
                .query_row(
                    "SELECT id, kind, target, user, started_ms, ended_ms, exit_code, retry_of FROM runs
                     WHERE id = ?1",
                    [id.0],
                    run_record,
                )
                .optional()?;
            run.map(|mut run| {
                run.hosts = self.hosts_of(id)?;
                Ok(run)
            })
            .transpose()
        };
        read()
            .map_err(|e| self.fail(e))?
            .ok_or_else(|| HistoryError::UnknownRun {
                path: self.path.clone(),
                id,
            })
    }

    fn hosts_of(&self, id: RunId) -> rusqlite::Result<Vec<HostRecord>> {
        let mut query = self.db.prepare_cached(
            "SELECT host, outcome, duration_secs, failure FROM run_hosts WHERE run_id = ?1
             ORDER BY host",
        )?;
        query
            .query_map([id.0], |r| {
                Ok(HostRecord {
                    host: r.get(0)?,
                    outcome: r.get(1)?,
                    duration_secs: r.get(2)?,
                    failure: r.get(3)?,
                })
            })?
            .collect()
    }
}

/// Marks a host seen; a NULL probe keeps the one stored.
const SEEN: &str = "INSERT INTO hosts (host, last_seen_ms, probe) VALUES (?1, ?2, ?3)
    ON CONFLICT (host) DO UPDATE SET
        last_seen_ms = max(last_seen_ms, excluded.last_seen_ms),
        probe = coalesce(excluded.probe, probe)";

fn run_record(row: &rusqlite::Row) -> rusqlite::Result<RunRecord> {
    Ok(RunRecord {
        id: RunId(row.get(0)?),
        kind: row.get(1)?,
        target: row.get(2)?,
        user: row.get(3)?,
        started_ms: row.get(4)?,
        ended_ms: row.get(5)?,
        exit_code: row.get(6)?,
        retry_of: row.get::<_, Option<i64>>(7)?.map(RunId),
        hosts: Vec::new(),
    })
}

/// `TSYNC_HISTORY_DAYS` when it is a whole number of days, else the default.
fn retention_days() -> u64 {
    std::env::var("TSYNC_HISTORY_DAYS")
        .ok()
        .and_then(|d| d.trim().parse().ok())
        .unwrap_or(DEFAULT_RETENTION_DAYS)
}

impl Drop for History {
    /// Folds a grown log into the database (see [`History::prepare`]). This runs after the
    /// run's report is written; another tsync still reading is left to finish, and a fold
    /// that fails is tried again by the next history let go.
    fn drop(&mut self) {
        let wal = format!("{}-wal", self.path.display());
        if std::fs::metadata(wal).is_ok_and(|m| m.len() > CHECKPOINT_AT) {
            let _ = self
                .db
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        }
    }
}

/// Puts the file in WAL mode, which it keeps from then on. The switch needs the file to
/// itself and SQLite answers "locked" at once rather than run the busy handler, so several
/// tsync processes opening a new history together retry here, each until the switch is
/// made (by it or by another) or [`BUSY_TIMEOUT`] has passed.
fn use_wal(db: &Connection) -> rusqlite::Result<()> {
    let mode = |db: &Connection, sql| db.query_row(sql, [], |r| r.get::<_, String>(0));
    let started = std::time::Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        if mode(db, "PRAGMA journal_mode")?.eq_ignore_ascii_case("wal") {
            return Ok(());
        }
        // A refused switch is either an error or an answer naming the old mode.
        let refused = match mode(db, "PRAGMA journal_mode = WAL") {
            Ok(now) if now.eq_ignore_ascii_case("wal") => return Ok(()),
            Ok(_) => None,
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) => Some(e),
            Err(e) => return Err(e),
        };
        if started.elapsed() >= BUSY_TIMEOUT {
            // Still held after the wait: a busy error is the user's to see; a file left in
            // its rollback journal works as well, only with readers waiting on writers.
            return refused.map_or(Ok(()), Err);
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Milliseconds since the Unix epoch; a time before it counts as the epoch.
fn millis(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The inverse of [`millis`].
pub fn from_millis(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::RunKind;

    fn fresh() -> (tempfile::TempDir, History) {
        let dir = tempfile::tempdir().unwrap();
        let history = History::open_at(&dir.path().join("a/b/history.db")).unwrap();
        (dir, history)
    }

    #[test]
    fn many_openers_of_a_new_file_at_once_all_get_it_in_wal_mode() {
        let dir = tempfile::tempdir().unwrap();
        for round in 0..20 {
            let path = dir.path().join(round.to_string()).join("history.db");
            let start = std::sync::Barrier::new(16);
            std::thread::scope(|s| {
                for _ in 0..16 {
                    s.spawn(|| {
                        start.wait();
                        let history = History::open_at(&path).unwrap();
                        let mode: String = history
                            .db
                            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
                            .unwrap();
                        assert_eq!(mode, "wal");
                    });
                }
            });
        }
    }

    #[test]
    fn a_host_seen_without_a_probe_keeps_its_last_probe_and_latest_time() {
        let (_dir, mut history) = fresh();
        let early = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let late = early + Duration::from_secs(60);
        history.seen("web-1", late, Some(r#"{"load":1}"#)).unwrap();
        history.seen("web-1", early, None).unwrap();
        assert_eq!(
            history.last_probe("web-1").unwrap().as_deref(),
            Some(r#"{"load":1}"#)
        );
        let seen = history.last_seen(&["web-1", "web-2"]).unwrap();
        assert_eq!(seen, HashMap::from([("web-1".to_string(), late)]));
    }

    #[test]
    fn a_disk_figure_is_replaced_only_by_a_newer_one() {
        let (_dir, mut history) = fresh();
        let at = |secs| UNIX_EPOCH + Duration::from_secs(secs);
        let disk = |used, secs| Disk {
            used,
            free_bytes: 1 << 30,
            measured: at(secs),
        };
        history
            .record_disks(&[("web-1".into(), disk(0.5, 2_000))])
            .unwrap();
        history
            .record_disks(&[
                ("web-1".into(), disk(0.9, 1_000)),
                ("web-2".into(), disk(0.2, 3_000)),
            ])
            .unwrap();
        let disks = history.disks(&["web-1", "web-2", "web-3"]).unwrap();
        assert_eq!(
            disks,
            HashMap::from([
                ("web-1".to_string(), disk(0.5, 2_000)),
                ("web-2".to_string(), disk(0.2, 3_000)),
            ])
        );
    }

    #[test]
    fn the_log_is_kept_between_runs_and_folded_in_once_it_has_grown() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.db");
        let wal = dir.path().join("history.db-wal");
        let record = |events: &[(f64, String)]| {
            let mut history = History::open_at(&path).unwrap();
            let id = history
                .begin(&NewRun::new(RunKind::Run, "all -- true".into()))
                .unwrap();
            history.append(id, events, &[]).unwrap();
        };
        record(&[(0.0, "{}".to_string())]);
        let kept = std::fs::metadata(&wal).unwrap().len();
        assert!(kept > 0 && kept < CHECKPOINT_AT, "{kept}");
        let big = format!(r#"{{"pad":"{}"}}"#, "x".repeat(1000));
        let many: Vec<_> = (0..5000).map(|i| (i as f64, big.clone())).collect();
        record(&many);
        assert_eq!(std::fs::metadata(&wal).unwrap().len(), 0);
        let history = History::open_at(&path).unwrap();
        assert_eq!(history.events(RunId(2)).unwrap().len(), 5000);
    }

    #[test]
    fn events_come_back_in_order_with_their_times() {
        let (_dir, mut history) = fresh();
        let id = history
            .begin(&NewRun::new(RunKind::Run, "all -- true".into()))
            .unwrap();
        let events = [
            (0.0, r#"{"event":"run_started"}"#.to_string()),
            (1.5, r#"{"event":"run_finished"}"#.to_string()),
        ];
        history.append(id, &events, &[]).unwrap();
        let back = history.events(id).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[1].at_secs, 1.5);
        assert_eq!(back[1].event["event"], "run_finished");
    }

    #[test]
    fn a_history_from_a_newer_tsync_is_refused_with_what_to_do() {
        let (dir, history) = fresh();
        history.db.pragma_update(None, "user_version", 99).unwrap();
        let path = history.path().to_path_buf();
        drop(history);
        let error = History::open_at(&path).err().unwrap().to_string();
        assert!(error.contains("newer tsync (schema version 99"), "{error}");
        assert!(error.contains(&dir.path().display().to_string()), "{error}");
    }
}
