//! One step of a planned stage: what it does on each of the stage's hosts (its action
//! filled in, which the runner dispatches on) and the exact command that does it.

use std::collections::HashMap;
use std::time::Duration;

use super::host_vars::HostVars;
use crate::diagnostic::{Code, Diagnostic, Source};
use crate::playbook::{Action, Guard, RenderError, Step, StepKind, Template};
use crate::shell::quote_word;

/// Default limit for a step without its own `timeout`: long enough for a build, short
/// enough that a hung host cannot hold a cron run forever.
pub const DEFAULT_STEP_TIMEOUT: Duration = Duration::from_secs(30 * 60);

#[derive(Debug)]
pub struct PlannedStep {
    pub kind: StepKind,
    /// The step as written in the playbook (command or script path).
    pub written: String,
    pub timeout: Duration,
    /// The remote command for each host of the stage, in the stage's host order: the
    /// action's command after the step's `cwd` and `env`.
    pub commands: Vec<String>,
    /// The action filled in for each host, in the same order: what the runner carries out.
    pub actions: Vec<Action<String>>,
    /// The guards filled in for each host, in the same order, each with the command that
    /// tests it (after the step's `cwd` and `env`, so a relative path means what it would
    /// mean to the step).
    pub guards: Vec<Vec<(Guard<String>, String)>>,
    /// The exit code by which the command says it changed nothing.
    pub unchanged_exit: Option<u8>,
    /// For a step with `confirm`: how long the host waits, and its revert command per host.
    pub confirm: Option<PlannedConfirm>,
}

#[derive(Debug)]
pub struct PlannedConfirm {
    pub within: Duration,
    /// The revert command for each host, in the stage's host order.
    pub reverts: Vec<String>,
}

/// The step for each of `hosts`, its placeholders filled in.
pub(super) fn plan_step(
    step: &Step,
    hosts: &[HostVars],
    vars: &HashMap<&str, &str>,
) -> Result<PlannedStep, RenderError> {
    let mut commands = Vec::with_capacity(hosts.len());
    let mut actions = Vec::with_capacity(hosts.len());
    let mut reverts = Vec::new();
    let mut guards = Vec::with_capacity(hosts.len());
    // A `local` step's `cwd` is on this machine, relative to the playbook: it goes into the
    // action's directory rather than into a `cd` on the host.
    let local = step.action.kind() == StepKind::Local;
    for h in hosts {
        let render = |t: &Template| t.render(|name| h.get(name, vars));
        // `;` rather than `&&`: `cd DIR && a; b` would run `b` in the home directory.
        let mut command = String::new();
        if let Some(cwd) = step.cwd.as_ref().filter(|_| !local) {
            command.push_str(&format!("cd -- {} || exit; ", quote_path(&render(cwd)?)));
        }
        for (name, value) in &step.env {
            command.push_str(&format!(
                "export {}={}; ",
                name.value,
                quote_word(&render(value)?)
            ));
        }
        if let Some(confirm) = &step.confirm {
            reverts.push(render(&confirm.revert)?);
        }
        let prefix = command.clone();
        let filled = step
            .guards
            .iter()
            .map(|g| {
                let guard = g.fill(render)?;
                let test = format!("{prefix}{}", guard_command(&guard));
                Ok((guard, test))
            })
            .collect::<Result<Vec<_>, RenderError>>()?;
        let mut action = step.action.fill(h.host(), render)?;
        if let (Action::Local { dir, .. }, Some(cwd)) = (&mut action, &step.cwd) {
            // An absolute `cwd` replaces the playbook's directory.
            dir.push(render(cwd)?);
        }
        command.push_str(&action.command());
        commands.push(command);
        actions.push(action);
        guards.push(filled);
    }
    Ok(PlannedStep {
        kind: step.action.kind(),
        written: step.action.written(),
        timeout: step
            .timeout
            .as_ref()
            .map(|t| t.value)
            .unwrap_or(DEFAULT_STEP_TIMEOUT),
        commands,
        actions,
        confirm: step.confirm.as_ref().map(|c| PlannedConfirm {
            within: c.within.value,
            reverts,
        }),
        guards,
        unchanged_exit: step.unchanged_exit,
    })
}

/// A value that cannot be placed where its placeholder stands, pointing at the placeholder.
pub(super) fn render_error(error: RenderError, source: &Source) -> Diagnostic {
    let message = error.to_string();
    match error {
        RenderError::Undefined(_) => Diagnostic::error(Code::UndefinedVariable, message),
        RenderError::Nul { span, .. } => Diagnostic::error(Code::UnsafeValue, message)
            .in_source(source)
            .label(span, "this placeholder")
            .help("remove the NUL character from the value"),
        RenderError::EndsHereDoc { span, .. } => {
            Diagnostic::error(Code::UnsafeValue, message)
                .in_source(source)
                .label(span, "this placeholder")
                .help("choose an end word for the here-document that no value can hold, or pass the value another way")
        }
    }
}

/// The shell command that tests a guard on the host; its exit code decides. A `creates`
/// path is quoted as `cwd` is, so `~/` still means the login's home.
fn guard_command(guard: &Guard<String>) -> String {
    match guard {
        Guard::Creates(path) => format!("test -e {}", quote_path(path)),
        Guard::Unless(command) | Guard::OnlyIf(command) => command.clone(),
    }
}

/// Quotes a path for `cd` or `test -e`, keeping a leading `~/` outside the quotes so the shell
/// still expands it to the login's home.
fn quote_path(path: &str) -> String {
    match path.strip_prefix("~/") {
        Some(rest) if !rest.is_empty() => format!("~/{}", quote_word(rest)),
        _ if path == "~" || path == "~/" => "~".to_string(),
        _ => quote_word(path),
    }
}
