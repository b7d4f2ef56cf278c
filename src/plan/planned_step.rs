//! One step of a planned stage: what it does (its action, which the runner dispatches on)
//! and the exact command for each of the stage's hosts.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::host_vars::HostVars;
use crate::diagnostic::{Code, Diagnostic, Source};
use crate::playbook::{Action, RenderError, Step, Template};
use crate::shell::quote_word;

/// Default limit for a step without its own `timeout`: long enough for a build, short
/// enough that a hung host cannot hold a cron run forever.
pub const DEFAULT_STEP_TIMEOUT: Duration = Duration::from_secs(30 * 60);

#[derive(Debug)]
pub struct PlannedStep {
    pub action: StepAction,
    /// The step as written in the playbook (command or script path).
    pub written: String,
    pub timeout: Duration,
    /// The remote command for each host of the stage, in the stage's host order.
    pub commands: Vec<String>,
}

/// What a step does on a host beyond running its command. A new kind of step is a new
/// variant here, and the one function that carries it out in the runner.
#[derive(Debug)]
pub enum StepAction {
    /// The command is the whole step.
    Run,
    /// The command is `sh -s`, and `body` (a script from the controller's disk) is fed to
    /// its stdin.
    Script { body: Arc<str> },
}

impl StepAction {
    /// The kind's name, as the playbook writes it and events and plans show it.
    pub fn kind(&self) -> &'static str {
        match self {
            StepAction::Run => "run",
            StepAction::Script { .. } => "script",
        }
    }
}

/// The step for each of `hosts`, its placeholders filled in.
pub(super) fn plan_step(
    step: &Step,
    hosts: &[HostVars],
    vars: &HashMap<&str, &str>,
) -> Result<PlannedStep, RenderError> {
    let render = |t: &Template, h: &HostVars| t.render(|name| h.get(name, vars));
    let commands = hosts
        .iter()
        .map(|h| {
            // `;` rather than `&&`: `cd DIR && a; b` would run `b` in the home directory.
            let mut command = String::new();
            if let Some(cwd) = &step.cwd {
                command.push_str(&format!("cd -- {} || exit; ", quote_path(&render(cwd, h)?)));
            }
            for (name, value) in &step.env {
                command.push_str(&format!(
                    "export {}={}; ",
                    name.value,
                    quote_word(&render(value, h)?)
                ));
            }
            match &step.action {
                Action::Run(run) => command.push_str(&render(run, h)?),
                Action::Script { args, .. } => {
                    command.push_str("sh -s --");
                    for a in args {
                        command.push(' ');
                        command.push_str(&quote_word(&render(a, h)?));
                    }
                }
            }
            Ok(command)
        })
        .collect::<Result<_, _>>()?;
    let (written, action) = match &step.action {
        Action::Run(command) => (command.text.value.clone(), StepAction::Run),
        Action::Script { path, body, .. } => (
            path.value.display().to_string(),
            StepAction::Script {
                body: Arc::from(body.as_str()),
            },
        ),
    };
    Ok(PlannedStep {
        action,
        written,
        timeout: step
            .timeout
            .as_ref()
            .map(|t| t.value)
            .unwrap_or(DEFAULT_STEP_TIMEOUT),
        commands,
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

/// Quotes a directory for `cd`, keeping a leading `~/` outside the quotes so the shell
/// still expands it to the login's home.
fn quote_path(path: &str) -> String {
    match path.strip_prefix("~/") {
        Some(rest) if !rest.is_empty() => format!("~/{}", quote_word(rest)),
        _ if path == "~" || path == "~/" => "~".to_string(),
        _ => quote_word(path),
    }
}
