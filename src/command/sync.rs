//! `tsync push SELECTOR LOCAL REMOTE` and `tsync pull SELECTOR REMOTE LOCAL_DIR`: one sync on
//! every selected host, run as a one-step plan through the shared runner and reporters.

use std::path::Path;
use std::sync::Arc;

use crate::cli::{Execution, Inputs, SyncFlags};
use crate::command::Prepared;
use crate::command::execute::execute;
use crate::diagnostic::{Code, Diagnostic};
use crate::exit_code;
use crate::history::{NewRun, RunKind};
use crate::limited_read::read_limited;
use crate::plan::Plan;
use crate::playbook::SyncStep;
use crate::report::diagnostics::{self, Color};
use crate::sync::Direction;

/// Larger `--exclude-from` files are refused unread: no list of patterns is that long.
const MAX_PATTERN_BYTES: u64 = 1 << 20;

/// The two paths of the command line, in the order `direction` takes them: `local` is
/// relative to the working directory.
pub struct SyncPaths<'a> {
    pub direction: Direction,
    pub local: &'a Path,
    pub remote: &'a str,
}

pub fn run(
    selector: &str,
    paths: SyncPaths,
    flags: &SyncFlags,
    inputs: &Inputs,
    execution: &Execution,
    color: Color,
) -> i32 {
    let mut prepared = Prepared::new(inputs);
    let mut excludes = flags.exclude.clone();
    for file in &flags.exclude_from {
        match read_patterns(file) {
            Ok(patterns) => excludes.extend(patterns),
            Err(problem) => prepared.diagnostics.push(problem),
        }
    }
    let local = paths.local.to_str().filter(|l| !l.trim().is_empty());
    if local.is_none() {
        prepared.diagnostics.push(
            Diagnostic::error(
                Code::EmptyValue,
                format!("`{}` is not a usable local path", paths.local.display()),
            )
            .help("give a path that is not empty and is valid UTF-8"),
        );
    }
    // A push from nothing is the user's mistake, said once before any host is contacted,
    // not a failure of every host.
    if let Some(local) = local
        && paths.direction == Direction::Push
        && let Err(e) = std::fs::metadata(local)
    {
        prepared.diagnostics.push(
            Diagnostic::error(Code::Io, format!("cannot read `{local}`: {e}"))
                .help("give the file or directory to push, relative to the current directory"),
        );
    }
    if paths.remote.trim().is_empty() {
        prepared.diagnostics.push(
            Diagnostic::error(Code::EmptyValue, "the remote path is empty")
                .help("give the path on the host; a relative one is relative to the login's home"),
        );
    }
    let step = SyncStep {
        direction: paths.direction,
        local: local.unwrap_or_default().to_string(),
        remote: paths.remote.to_string(),
        delete: flags.delete,
        checksum: flags.checksum,
        excludes,
        base: Arc::from(Path::new("")),
    };
    let (plan, found) = Plan::ad_hoc_sync(
        selector,
        &step,
        flags.timeout,
        &prepared.inventory,
        prepared.limit(),
    );
    prepared.diagnostics.extend(found);
    diagnostics::print(&prepared.diagnostics, color);
    match plan.filter(|_| !prepared.diagnostics.has_errors()) {
        Some(plan) => {
            let local = paths.local.display();
            let run = match paths.direction {
                Direction::Push => NewRun::new(
                    RunKind::Push,
                    format!("{selector} {local} {}", paths.remote),
                ),
                Direction::Pull => NewRun::new(
                    RunKind::Pull,
                    format!("{selector} {} {local}", paths.remote),
                ),
            };
            execute(plan, execution, flags.dry_run, color, &run, None)
        }
        None => exit_code::INVALID_INPUT,
    }
}

/// The patterns of an `--exclude-from` file: one per line, as in a `.gitignore`; blank lines
/// and `#` comments are left out.
fn read_patterns(file: &Path) -> Result<Vec<String>, Diagnostic> {
    let name = file.display();
    let text = read_limited(file, MAX_PATTERN_BYTES)
        .map_err(|e| e.to_string())
        .and_then(|b| String::from_utf8(b).map_err(|_| "it is not UTF-8 text".to_string()))
        .map_err(|e| {
            Diagnostic::error(
                Code::Io,
                format!("cannot read `--exclude-from {name}`: {e}"),
            )
            .help("give a file of patterns, one per line, as in a .gitignore")
        })?;
    Ok(text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect())
}
