//! `tsync run SELECTOR -- COMMAND`: one command on every selected host.

use std::time::Duration;

use crate::cli::{Execution, Inputs, Safety};
use crate::command::Prepared;
use crate::command::execute::execute;
use crate::danger;
use crate::diagnostic::Source;
use crate::exit_code;
use crate::history::{NewRun, RunKind};
use crate::plan::Plan;
use crate::plan::dangers::{self, Override};
use crate::report::diagnostics::{self, Color};

pub fn run(
    selector: &str,
    command: &[String],
    timeout: Duration,
    (inputs, execution, safety): (&Inputs, &Execution, &Safety),
    color: Color,
) -> i32 {
    let mut prepared = Prepared::new(inputs);
    // Words after `--` are joined as ssh joins them: the remote shell reads one command line.
    let command = command.join(" ");
    if let Some(danger) = danger::judge(&command) {
        let source = Source::new("command", command.as_str());
        let span = (0, command.len()).into();
        let found = if safety.allow_dangerous {
            dangers::diagnostic(&danger, "this command", Override::Flag, &source, span)
        } else {
            dangers::diagnostic(&danger, "this command", Override::None, &source, span)
                .help("if this is really meant, pass --allow-dangerous")
        };
        prepared.diagnostics.push(found);
    }
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
