//! One module per command; each returns the process exit code. A new command is its
//! variant in `cli.rs`, its module here with one arm in [`run`], and its file.

pub mod apply;
pub mod check;
mod deploy_lock;
mod execute;
pub mod history;
mod inputs;
pub mod lock;
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
        Command::Check { playbooks, inputs } => check::run(playbooks, inputs, cli.color),
        Command::Plan {
            playbook,
            format,
            inputs,
        } => plan::run(playbook, *format, inputs, cli.color),
        Command::Apply {
            playbook,
            dry_run,
            inputs,
            execution,
            lock,
        } => apply::run(playbook, *dry_run, inputs, execution, lock, cli.color),
        Command::Run {
            selector,
            command,
            timeout,
            inputs,
            execution,
        } => run::run(selector, command, *timeout, inputs, execution, cli.color),
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
        Command::Lock { command } => lock::run(command, cli.color),
        Command::History {
            show,
            host,
            last,
            output,
        } => history::run(show.as_ref(), host.as_deref(), *last, *output),
    }
}
