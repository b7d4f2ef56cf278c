//! `tsync apply`: run a playbook on its hosts, or (`--retry`) finish a run of it that failed.

use std::io::Write;
use std::path::Path;
use std::time::SystemTime;

use super::deploy_lock::DeployLock;
use crate::cli::{Execution, Inputs, LockArgs, Safety};
use crate::command::Prepared;
use crate::command::execute::execute;
use crate::command::retry::{Found, Retry, target_of};
use crate::exit_code;
use crate::history::{NewRun, RunKind};
use crate::report::OutputFormat;
use crate::report::diagnostics::{self, Color};

/// What to apply: a playbook, or the failed run `retry` names; `dry_run` changes nothing.
pub struct Request<'a> {
    pub playbook: Option<&'a Path>,
    pub retry: Option<&'a str>,
    pub dry_run: bool,
}

pub fn run(
    Request {
        playbook,
        retry,
        dry_run,
    }: Request,
    inputs: &Inputs,
    execution: &Execution,
    safety: &Safety,
    lock: &LockArgs,
    color: Color,
) -> i32 {
    let retry = match retry.map(|spec| Retry::find(spec, playbook)) {
        None => None,
        Some(Ok(Found::Retry(retry))) => Some(retry),
        Some(Ok(Found::Succeeded(run))) => {
            println!(
                "run {} of {} succeeded: nothing to retry",
                run.id.0, run.target
            );
            return exit_code::SUCCESS;
        }
        Some(Err(e)) => {
            eprintln!("error: {e}");
            return exit_code::INVALID_INPUT;
        }
    };
    let Some(path) = retry.as_ref().map(|r| r.playbook.as_path()).or(playbook) else {
        eprintln!("error: which playbook? tsync apply PLAYBOOK, or tsync apply --retry RUN");
        return exit_code::INVALID_INPUT;
    };
    let mut prepared = Prepared::new(inputs).allow_dangerous(safety.allow_dangerous);
    let (plan, found) = prepared.plan_without(path, retry.as_ref().map(|r| &r.done));
    prepared.diagnostics.extend(found);
    diagnostics::print(&prepared.diagnostics, color);
    match plan.filter(|_| !prepared.diagnostics.has_errors()) {
        Some(plan) => {
            let mut run = NewRun::new(RunKind::Apply, target_of(path));
            if let Some(retry) = &retry {
                run.retry_of = Some(retry.run.id);
                // People read it before the run starts; programs keep stdout for events.
                let text = retry.describe(&plan, SystemTime::now());
                let _ = match execution.output {
                    OutputFormat::Human => std::io::stdout().write_all(text.as_bytes()),
                    OutputFormat::Json => std::io::stderr().write_all(text.as_bytes()),
                };
            }
            let lock = match plan
                .lock
                .as_ref()
                .map(|planned| DeployLock::new(&plan, planned, path, lock, execution))
            {
                Some(Err(e)) => {
                    eprintln!("error: cannot prepare the deploy lock: {e}");
                    return exit_code::INTERNAL;
                }
                Some(Ok(lock)) => Some(lock),
                None => None,
            };
            execute(plan, execution, dry_run, color, &run, lock)
        }
        None => {
            if let Some(counts) = diagnostics::summary(&prepared.diagnostics) {
                eprintln!("not applied: {counts}");
            }
            exit_code::INVALID_INPUT
        }
    }
}
