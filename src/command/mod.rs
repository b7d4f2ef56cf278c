//! One module per command; each returns the process exit code. A new command is its
//! variant in `cli.rs`, its module here with one arm in [`run`], and its file.

pub mod apply;
pub mod check;
mod deploy_lock;
mod disconnect;
mod docs;
mod execute;
pub mod history;
mod init;
mod inputs;
pub mod lock;
pub mod plan;
mod retry;
pub mod run;
pub mod status;
pub mod sync;
mod workflows;

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
            retry,
            dry_run,
            inputs,
            execution,
            safety,
            lock,
        } => apply::run(
            apply::Request {
                playbook: playbook.as_deref(),
                retry: retry.as_deref(),
                dry_run: *dry_run,
            },
            inputs,
            execution,
            safety,
            lock,
            cli.color,
        ),
        Command::Run {
            selector,
            command,
            timeout,
            lock,
            inputs,
            execution,
            safety,
            lock_args,
        } => run::run(
            selector,
            command,
            *timeout,
            (inputs, execution, safety),
            (lock.as_deref(), lock_args),
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
        Command::Lock { command } => lock::run(command, cli.color),
        Command::History {
            show,
            host,
            last,
            output,
        } => history::run(show.as_ref(), host.as_deref(), *last, *output),
        Command::Disconnect { selector, inputs } => {
            disconnect::run(selector.as_deref(), inputs, cli.color)
        }
        Command::Init { with, sources } => init::run(with, sources, cli.color),
        Command::Workflows { output } => workflows::run(*output),
        Command::Completions { shell } => docs::completions(*shell),
        Command::Man { dir } => docs::man(dir.as_deref()),
    }
}

/// The async runtime of a command that talks to hosts; when it cannot start (no threads,
/// no file descriptors left), says so and gives the exit code to return.
fn start_runtime(builder: &mut tokio::runtime::Builder) -> Result<tokio::runtime::Runtime, i32> {
    builder.enable_all().build().map_err(|e| {
        let _ = std::io::Write::write_fmt(
            &mut std::io::stderr(),
            format_args!("error: cannot start the runtime: {e}\n"),
        );
        crate::exit_code::INTERNAL
    })
}
