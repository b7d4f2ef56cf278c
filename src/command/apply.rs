//! `tsync apply`: run a playbook on its hosts.

use std::path::Path;

use crate::cli::{Execution, Inputs};
use crate::command::Prepared;
use crate::command::execute::execute;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::exit_code;
use crate::report::diagnostics::{self, Color};

pub fn run(path: &Path, inputs: &Inputs, execution: &Execution, color: Color) -> i32 {
    let mut prepared = Prepared::new(inputs);
    let (plan, found) = prepared.plan(path);
    prepared.diagnostics.extend(found);
    if let Some(plan) = &plan {
        prepared.diagnostics.extend(not_yet_supported(plan));
    }
    diagnostics::print(&prepared.diagnostics, color);
    match plan.filter(|_| !prepared.diagnostics.has_errors()) {
        Some(plan) => execute(plan, execution, color),
        None => {
            if let Some(counts) = diagnostics::summary(&prepared.diagnostics) {
                eprintln!("not applied: {counts}");
            }
            exit_code::INVALID_INPUT
        }
    }
}

/// Health checks and rolling batches are part of the language already, but the runner does
/// not execute them yet. Running such a playbook without them would skip exactly the gates
/// its author relies on, so it is refused.
fn not_yet_supported(plan: &crate::plan::Plan) -> Diagnostics {
    let mut found = Diagnostics::default();
    for stage in &plan.stages {
        for check in &stage.checks {
            found.push(
                Diagnostic::error(
                    Code::NotYetSupported,
                    format!("`tsync apply` cannot run health checks yet (stage `{}`)", stage.name),
                )
                .in_source(&plan.source)
                .label(check.span, "this check would not gate the stage")
                .help("remove the check to apply without it, or use `tsync plan` to review the playbook"),
            );
        }
        if let Some(rolling) = &stage.rolling {
            found.push(
                Diagnostic::error(
                    Code::NotYetSupported,
                    format!(
                        "`tsync apply` cannot roll out in batches yet (stage `{}`)",
                        stage.name
                    ),
                )
                .in_source(&plan.source)
                .label(rolling.span, "batches are not executed yet")
                .help("remove `rolling` to run on every host of the stage at once"),
            );
        }
    }
    found
}
