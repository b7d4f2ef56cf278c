//! The tables of the history, versioned with `PRAGMA user_version`: a later tsync adds a
//! step to [`MIGRATIONS`] and every older file is brought up to it on open.

/// Each entry takes the database from the version of its index to the next one.
pub const MIGRATIONS: &[&str] = &[
    // Version 1. Times are milliseconds since the Unix epoch. Hosts of a run and its events
    // go with it when it is pruned.
    "CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        target TEXT NOT NULL,
        user TEXT NOT NULL,
        started_ms INTEGER NOT NULL,
        ended_ms INTEGER,
        exit_code INTEGER
    );
    CREATE INDEX runs_by_start ON runs (started_ms);
    CREATE TABLE run_hosts (
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        host TEXT NOT NULL,
        outcome TEXT NOT NULL,
        duration_secs REAL NOT NULL,
        failure TEXT,
        PRIMARY KEY (run_id, host)
    );
    CREATE INDEX run_hosts_by_host ON run_hosts (host);
    CREATE TABLE events (
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        at_secs REAL NOT NULL,
        json TEXT NOT NULL
    );
    CREATE INDEX events_by_run ON events (run_id);
    CREATE TABLE hosts (
        host TEXT PRIMARY KEY,
        last_seen_ms INTEGER NOT NULL,
        probe TEXT
    );",
    // Version 2. `tsync apply --retry` links the run it finishes, so a retry of a retry
    // knows every host done since the first.
    "ALTER TABLE runs ADD COLUMN retry_of INTEGER;",
    // Version 3. Each host's last disk figure and when it was measured, which spares a
    // placement soon after it a `df` on every candidate.
    "CREATE TABLE disks (
        host TEXT PRIMARY KEY,
        used REAL NOT NULL,
        free_bytes INTEGER NOT NULL,
        measured_ms INTEGER NOT NULL
    );",
];
