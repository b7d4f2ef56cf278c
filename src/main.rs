//! The `tsync` binary: parse arguments, run the command, exit with its code.

use clap::Parser;

use tsync::cli::{Cli, Command};
use tsync::command;

fn main() {
    let cli = Cli::parse();
    let code = match &cli.command {
        Command::Check { playbooks, inputs } => command::check::run(playbooks, inputs, cli.color),
        Command::Plan {
            playbook,
            format,
            inputs,
        } => command::plan::run(playbook, *format, inputs, cli.color),
        Command::Apply {
            playbook,
            inputs,
            execution,
        } => command::apply::run(playbook, inputs, execution, cli.color),
        Command::Run {
            selector,
            command,
            timeout,
            inputs,
            execution,
        } => command::run::run(selector, command, *timeout, inputs, execution, cli.color),
    };
    std::process::exit(code);
}
