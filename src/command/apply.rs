//! `tsync apply`: run a playbook on its hosts.

use std::path::Path;

use crate::cli::{Execution, Inputs, Safety};
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
    safety: &Safety,
    color: Color,
) -> i32 {
    let mut prepared = Prepared::new(inputs).allow_dangerous(safety.allow_dangerous);
    let (plan, found) = prepared.plan(path);
    prepared.diagnostics.extend(found);
    diagnostics::print(&prepared.diagnostics, color);
    match plan.filter(|_| !prepared.diagnostics.has_errors()) {
        Some(plan) => {
            let run = NewRun::new(RunKind::Apply, path.display().to_string());
            execute(plan, execution, dry_run, color, &run)
        }
        None => {
            if let Some(counts) = diagnostics::summary(&prepared.diagnostics) {
                eprintln!("not applied: {counts}");
            }
            exit_code::INVALID_INPUT
        }
    }
}
