//! `tsync apply --retry`: finishes a run that failed. The run is found in the history (the
//! latest apply of the playbook, or a run named by its id); every stage a host finished
//! there is left out for that host, and the rest runs: failed hosts, hosts that never
//! started, stages that never ran. Steps with guards still decide for themselves.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::history::{History, HistoryError, RunId, RunKind, RunRecord, ago, from_millis};
use crate::plan::Plan;
use crate::report::printable;

/// A retry of a retry of … is followed back this far, which is more than anyone retries.
const MAX_CHAIN: usize = 64;

pub struct Retry {
    /// The run being finished.
    pub run: RunRecord,
    pub playbook: PathBuf,
    /// Host names that finished each stage (by stage name), in that run or the runs it
    /// finished in turn.
    pub done: HashMap<String, BTreeSet<String>>,
}

/// What `--retry` found.
pub enum Found {
    Retry(Retry),
    /// The latest run succeeded: nothing is left to do.
    Succeeded(RunRecord),
}

impl Retry {
    /// Reads `--retry [RUN]` with the playbook given beside it, if any. `spec` is a run id,
    /// `last` (the flag without a value), or the playbook itself (`--retry deploy.kdl`).
    pub fn find(spec: &str, playbook: Option<&Path>) -> Result<Found, String> {
        let history = History::open().map_err(|e| e.to_string())?;
        let run = match (spec.parse::<i64>(), playbook) {
            (Ok(id), _) => history.run(RunId(id)).map_err(|e| e.to_string())?,
            (Err(_), given) => {
                let path = match (spec, given) {
                    ("last", Some(path)) => path.to_path_buf(),
                    ("last", None) => {
                        return Err(
                            "--retry needs the playbook or a run id: tsync apply --retry deploy.kdl, or --retry RUN (see tsync history)".into(),
                        );
                    }
                    (path, _) => PathBuf::from(path),
                };
                let target = target_of(&path);
                history
                    .latest(RunKind::Apply, &target)
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| {
                        format!(
                            "no run of {target} in the history ({})",
                            history.path().display()
                        )
                    })?
            }
        };
        if run.kind != RunKind::Apply.as_str() {
            return Err(format!(
                "run {} was `tsync {}`, not an apply: only playbook runs can be retried",
                run.id.0, run.kind
            ));
        }
        if run.exit_code == Some(0) {
            return Ok(Found::Succeeded(run));
        }
        let playbook = match playbook {
            Some(path) if spec.parse::<i64>().is_ok() => path.to_path_buf(),
            _ => PathBuf::from(&run.target),
        };
        let done = finished(&history, &run).map_err(|e| e.to_string())?;
        Ok(Found::Retry(Retry {
            run,
            playbook,
            done,
        }))
    }

    /// What the retry will do, stage by stage, shown before it starts.
    pub fn describe(&self, plan: &Plan, now: SystemTime) -> String {
        let run = &self.run;
        let when = ago(now
            .duration_since(from_millis(run.started_ms))
            .unwrap_or_default());
        let how = match run.exit_code {
            Some(code) => format!("exit {code}"),
            None => "did not finish".into(),
        };
        let mut text = format!(
            "retrying run {} ({}, {how}, {when}):\n",
            run.id.0,
            printable(&run.target)
        );
        let width = plan
            .stages
            .iter()
            .map(|s| s.name.chars().count())
            .max()
            .unwrap_or(0);
        for &i in &plan.order {
            let stage = &plan.stages[i];
            let runs: Vec<&str> = stage
                .hosts
                .iter()
                .map(|&h| plan.hosts[h].name.as_str())
                .collect();
            let line = match (runs.is_empty(), stage.done.is_empty()) {
                (true, false) => format!("done on {}: skipped", stage.done.join(", ")),
                (false, true) => format!("runs on {}", runs.join(", ")),
                (false, false) => format!(
                    "runs on {}; done on {}",
                    runs.join(", "),
                    stage.done.join(", ")
                ),
                (true, true) => "no hosts".into(),
            };
            text.push_str(&format!(
                "  {:<width$}  {}\n",
                printable(&stage.name),
                printable(&line)
            ));
        }
        text
    }
}

/// How an apply of `path` is named in the history: its canonical path, so a run from cron
/// and one by hand in another directory are the same playbook's.
pub fn target_of(path: &Path) -> String {
    std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

/// The hosts that finished each stage in `run`, and in the runs it finished before it.
fn finished(
    history: &History,
    run: &RunRecord,
) -> Result<HashMap<String, BTreeSet<String>>, HistoryError> {
    let mut done: HashMap<String, BTreeSet<String>> = HashMap::new();
    let mut next = Some(run.id);
    for _ in 0..MAX_CHAIN {
        let Some(id) = next else { break };
        for timed in history.events(id)? {
            let event = &timed.event;
            if event["event"] == "host_finished"
                && event["outcome"] == "ok"
                && let (Some(stage), Some(host)) = (event["stage"].as_str(), event["host"].as_str())
            {
                done.entry(stage.to_string())
                    .or_default()
                    .insert(host.to_string());
            }
        }
        next = history.run(id)?.retry_of;
    }
    Ok(done)
}
