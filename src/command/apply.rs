//! `tsync apply`: run a playbook on its hosts.

use std::path::Path;

use super::deploy_lock::DeployLock;
use crate::cli::{Execution, Inputs, LockArgs};
use crate::command::Prepared;
use crate::command::execute::execute;
use crate::exit_code;
use crate::history::{NewRun, RunKind};
use crate::report::diagnostics::{self, Color};

pub fn run(
    path: &Path,
    dry_run: bool,
    inputs: &Inputs,
    execution: &Execution,
    lock: &LockArgs,
    color: Color,
) -> i32 {
    let mut prepared = Prepared::new(inputs);
    let (plan, found) = prepared.plan(path);
    prepared.diagnostics.extend(found);
    diagnostics::print(&prepared.diagnostics, color);
    match plan.filter(|_| !prepared.diagnostics.has_errors()) {
        Some(plan) => {
            let run = NewRun::new(RunKind::Apply, path.display().to_string());
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
