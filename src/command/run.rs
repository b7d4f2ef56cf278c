//! `tsync run SELECTOR -- COMMAND`: one command on every selected host.

use std::path::Path;
use std::time::Duration;

use super::deploy_lock::DeployLock;
use crate::cli::{Execution, IfLocked, Inputs, LockArgs, Safety};
use crate::command::Prepared;
use crate::command::execute::execute;
use crate::danger;
use crate::diagnostic::Source;
use crate::exit_code;
use crate::history::{NewRun, RunKind};
use crate::plan::dangers::{self, Override};
use crate::plan::{Plan, PlannedLock};
use crate::report::diagnostics::{self, Color};

pub fn run(
    selector: &str,
    command: &[String],
    timeout: Duration,
    (inputs, execution, safety): (&Inputs, &Execution, &Safety),
    (lock, lock_args): (Option<&str>, &LockArgs),
    color: Color,
) -> i32 {
    let asked = lock_args.lock_wait.is_some()
        || lock_args.lock_message.is_some()
        || lock_args.lock_expiry.is_some()
        || lock_args.break_stale
        || lock_args.if_locked != IfLocked::Fail;
    if lock.is_none() && asked {
        eprintln!(
            "error: the lock flags need a lock to act on: tsync run --lock NAME SELECTOR -- COMMAND"
        );
        return exit_code::INVALID_INPUT;
    }
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
            let target = format!("{selector} -- {command}");
            let run = NewRun::new(RunKind::Run, target.clone());
            let lock =
                match lock.map(|name| held_by_run(&plan, name, &target, lock_args, execution)) {
                    None => None,
                    Some(Ok(lock)) => Some(lock),
                    Some(Err(e)) => {
                        eprintln!("error: cannot prepare the deploy lock: {e}");
                        return exit_code::INTERNAL;
                    }
                };
            execute(plan, execution, false, color, &run, lock)
        }
        None => exit_code::INVALID_INPUT,
    }
}

/// `--lock NAME`: the deploy lock NAME on every host of the run, recorded as held by this
/// command.
fn held_by_run(
    plan: &Plan,
    name: &str,
    target: &str,
    args: &LockArgs,
    execution: &Execution,
) -> std::io::Result<DeployLock> {
    let planned = PlannedLock {
        name: name.to_string(),
        hosts: None,
        expiry: None,
    };
    DeployLock::new(
        plan,
        &planned,
        Path::new(&format!("tsync run {target}")),
        args,
        execution,
    )
}
