//! One module per command; each returns the process exit code. A new command is its
//! variant in `cli.rs`, its module here with one arm in [`run`], and its file.

pub mod apply;
pub mod check;
mod execute;
pub mod history;
mod inputs;
pub mod plan;
pub mod run;
pub mod status;
pub mod sync;

pub use inputs::Prepared;

use crate::cli::{Cli, Command};
use crate::sync::Direction;

/// Runs the command `cli` asks for; returns the process exit code.
pub fn run(cli: &Cli) -> i32 {
    match &cli.command {
        Command::Check {
            playbooks,
            inputs,
            safety,
        } => check::run(playbooks, inputs, safety, cli.color),
        Command::Plan {
            playbook,
            format,
            inputs,
            safety,
        } => plan::run(playbook, *format, inputs, safety, cli.color),
        Command::Apply {
            playbook,
            dry_run,
            inputs,
            execution,
            safety,
        } => apply::run(playbook, *dry_run, inputs, execution, safety, cli.color),
        Command::Run {
            selector,
            command,
            timeout,
            inputs,
            execution,
            safety,
        } => run::run(
            selector,
            command,
            *timeout,
            (inputs, execution, safety),
            cli.color,
        ),
        Command::Status {
            selector,
            flags,
            inputs,
        } => status::run(selector, flags, inputs, cli.color),
        Command::Push {
            selector,
            local,
            remote,
            sync: flags,
            inputs,
            execution,
        } => sync::run(
            selector,
            sync::SyncPaths {
                direction: Direction::Push,
                local,
                remote,
            },
            flags,
            inputs,
            execution,
            cli.color,
        ),
        Command::Pull {
            selector,
            remote,
            local_dir,
            sync: flags,
            inputs,
            execution,
        } => sync::run(
            selector,
            sync::SyncPaths {
                direction: Direction::Pull,
                local: local_dir,
                remote,
            },
            flags,
            inputs,
            execution,
            cli.color,
        ),
        Command::History {
            show,
            host,
            last,
            output,
        } => history::run(show.as_ref(), host.as_deref(), *last, *output),
    }
}
