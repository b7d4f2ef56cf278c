//! `tsync completions SHELL` and `tsync man`: both generated from the same clap definition
//! as the parser, so they can never describe flags that do not exist.

use std::io::{self, Write};
use std::path::Path;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::exit_code;

pub fn completions(shell: clap_complete::Shell) -> i32 {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "tsync", &mut out);
    write_stdout(&out)
}

/// Without `dir`: tsync.1 on stdout. With it: tsync.1 and one tsync-COMMAND.1 per command.
pub fn man(dir: Option<&Path>) -> i32 {
    let command = Cli::command();
    match dir {
        None => {
            let mut out = Vec::new();
            match clap_mangen::Man::new(command).render(&mut out) {
                Ok(()) => write_stdout(&out),
                Err(e) => fail(format_args!("cannot render the manual page: {e}")),
            }
        }
        Some(dir) => {
            if let Err(e) = std::fs::create_dir_all(dir) {
                return fail(format_args!("cannot create {}: {e}", dir.display()));
            }
            match clap_mangen::generate_to(command, dir) {
                Ok(()) => exit_code::SUCCESS,
                Err(e) => fail(format_args!(
                    "cannot write the manual pages into {}: {e}",
                    dir.display()
                )),
            }
        }
    }
}

fn write_stdout(bytes: &[u8]) -> i32 {
    let mut stdout = io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => exit_code::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => exit_code::SUCCESS,
        Err(e) => fail(format_args!("cannot write to stdout: {e}")),
    }
}

fn fail(message: std::fmt::Arguments) -> i32 {
    let _ = writeln!(io::stderr(), "error: {message}");
    exit_code::INTERNAL
}
