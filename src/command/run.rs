//! `tsync run SELECTOR -- COMMAND`: one command on every selected host.

use std::time::Duration;

use crate::cli::{Execution, Inputs};
use crate::command::Prepared;
use crate::command::execute::execute;
use crate::exit_code;
use crate::history::{NewRun, RunKind};
use crate::plan::Plan;
use crate::report::diagnostics::{self, Color};

pub fn run(
    selector: &str,
    command: &[String],
    timeout: Duration,
    inputs: &Inputs,
    execution: &Execution,
    color: Color,
) -> i32 {
    let mut prepared = Prepared::new(inputs);
    // Words after `--` are joined as ssh joins them: the remote shell reads one command line.
    let command = command.join(" ");
    let (plan, found) = Plan::ad_hoc(
        selector,
        &command,
        timeout,
        &prepared.inventory,
        prepared.limit(),
    );
    prepared.diagnostics.extend(found);
    diagnostics::print(&prepared.diagnostics, color);
    match plan.filter(|_| !prepared.diagnostics.has_errors()) {
        Some(plan) => {
            let run = NewRun::new(RunKind::Run, format!("{selector} -- {command}"));
            execute(plan, execution, false, color, &run, None)
        }
        None => exit_code::INVALID_INPUT,
    }
}
