//! The `tsync` binary: parse arguments, run the command, exit with its code.

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};

use tsync::cli::{Cli, glued_help, hoist_options};
use tsync::command;

fn main() {
    let args: Vec<_> = std::env::args_os().collect();
    if let Some(arg) = glued_help(&args) {
        Cli::command()
            .error(
                ErrorKind::UnknownArgument,
                format!(
                    "unexpected argument `{arg}`: `-h` asks for help and takes no value\n\n  \
                     hosts are picked by the selector: tsync run SELECTOR -- COMMAND"
                ),
            )
            .exit();
    }
    let mut definition = Cli::command();
    definition.build();
    let args = hoist_options(&definition, args);
    let cli = Cli::parse_from(args);
    std::process::exit(command::run(&cli));
}
