//! One thing a stage does on each of its hosts, in the order written.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use miette::SourceSpan;

use super::guard::Guard;
use super::spanned::Spanned;
use super::sync_step::SyncStep;
use super::template::{RenderError, Template};
use crate::shell::quote_word;
use crate::sync::Direction;

#[derive(Debug, Clone)]
pub struct Step {
    pub action: Action,
    /// Directory the command runs in on the host; `~` is the login's home.
    pub cwd: Option<Template>,
    pub timeout: Option<Spanned<Duration>>,
    /// Environment variables set for this step only.
    pub env: Vec<(Spanned<String>, Template)>,
    /// For a step that can cut off tsync's own access: the host undoes it by itself unless
    /// tsync reaches it again over a new connection in time.
    pub confirm: Option<Confirm>,
    /// Tests run on the host before the step, in this order (`creates`, `unless`,
    /// `only-if`: the cheapest first); the first that says so skips the step.
    pub guards: Vec<Guard>,
    /// `unchanged-exit`: the exit code by which the command says it found nothing to do;
    /// the step is then ok and not changed.
    pub unchanged_exit: Option<u8>,
    /// Where `dangerous=#true` is written: the guard lets the step's commands through, with
    /// a warning; set in the playbook, so that it is reviewed like any other change.
    pub dangerous: Option<SourceSpan>,
    pub span: SourceSpan,
}

/// `confirm="30s" { revert "…" }`: deploy-rs's "magic rollback" for one step.
#[derive(Debug, Clone)]
pub struct Confirm {
    /// How long the host waits for tsync's confirmation before it reverts.
    pub within: Spanned<Duration>,
    /// The command that undoes the step, run by the host itself.
    pub revert: Template,
}

/// What a step does. As parsed, its values are templates; [`Action::fill`] makes the
/// `Action<String>` of one host, which the plan shows and the runner carries out. A new
/// kind of step is a variant here (and in [`StepKind`]), its reader in `parse/steps.rs`,
/// and the function that carries it out in `runner/step.rs`.
#[derive(Debug, Clone)]
pub enum Action<T = Template> {
    /// A shell command run by the login shell of the host.
    Run(T),
    /// A script from the controller's disk, streamed to `sh -s` on the host: nothing is
    /// copied to the host, so nothing is left behind.
    Script {
        path: Spanned<PathBuf>,
        /// Read by the load phase right after parsing, so a missing file is a checking
        /// error; shared by every host.
        body: Arc<str>,
        args: Vec<T>,
    },
    /// Files pushed to the host (`sync`) or pulled from it (`pull`) over its connection.
    Sync(SyncStep<T>),
    /// A shell command run with `sh -c` on the controller, once per host, in the host's step
    /// order: what is done with pulled files, or to local state about the host.
    Local {
        command: T,
        /// Where it runs: as parsed, the playbook's directory; filled in, that directory
        /// with the step's `cwd` joined to it.
        dir: PathBuf,
    },
}

impl<T> Action<T> {
    /// What kind of step this is.
    pub fn kind(&self) -> StepKind {
        match self {
            Action::Run(_) => StepKind::Run,
            Action::Script { .. } => StepKind::Script,
            Action::Local { .. } => StepKind::Local,
            Action::Sync(sync) => match sync.direction {
                Direction::Push => StepKind::Sync,
                Direction::Pull => StepKind::Pull,
            },
        }
    }
}

impl Action {
    /// Every template of the action.
    pub fn templates(&self) -> Vec<&Template> {
        match self {
            Action::Run(t) | Action::Local { command: t, .. } => vec![t],
            Action::Script { args, .. } => args.iter().collect(),
            Action::Sync(sync) => sync.values().collect(),
        }
    }

    /// The step as written: the command, or the script's path.
    pub fn written(&self) -> String {
        match self {
            Action::Run(command) | Action::Local { command, .. } => command.text.value.clone(),
            Action::Script { path, .. } => path.value.display().to_string(),
            Action::Sync(sync) => sync.written(),
        }
    }

    /// The action for the host named `host`, each template filled in by `fill`.
    pub fn fill(
        &self,
        host: &str,
        fill: impl Fn(&Template) -> Result<String, RenderError>,
    ) -> Result<Action<String>, RenderError> {
        Ok(match self {
            Action::Run(command) => Action::Run(fill(command)?),
            Action::Script { path, body, args } => Action::Script {
                path: path.clone(),
                body: body.clone(),
                args: args.iter().map(&fill).collect::<Result<_, _>>()?,
            },
            Action::Sync(sync) => Action::Sync(sync.fill(host, fill)?),
            Action::Local { command, dir } => Action::Local {
                command: fill(command)?,
                dir: dir.clone(),
            },
        })
    }
}

impl Action<String> {
    /// The shell command line that carries the action out on the host (for `local`, on the
    /// controller); for a sync, which runs no command of its own, a readable line saying
    /// what it does.
    pub fn command(&self) -> String {
        match self {
            Action::Run(command) | Action::Local { command, .. } => command.clone(),
            Action::Script { args, .. } => {
                let mut command = "sh -s --".to_string();
                for arg in args {
                    command.push(' ');
                    command.push_str(&quote_word(arg));
                }
                command
            }
            Action::Sync(sync) => sync.describe(),
        }
    }
}

/// The kinds of step a stage runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// A shell command.
    Run,
    /// A script file from the controller, with arguments.
    Script,
    /// Files from the controller to the host.
    Sync,
    /// Files from the host to the controller.
    Pull,
    /// A shell command on the controller.
    Local,
}

impl StepKind {
    /// Every step kind, in the order diagnostics list them.
    pub const ALL: [StepKind; 5] = [
        StepKind::Run,
        StepKind::Script,
        StepKind::Sync,
        StepKind::Pull,
        StepKind::Local,
    ];

    /// The node's name in KDL.
    pub const fn name(self) -> &'static str {
        match self {
            StepKind::Run => "run",
            StepKind::Script => "script",
            StepKind::Sync => "sync",
            StepKind::Pull => "pull",
            StepKind::Local => "local",
        }
    }

    /// The properties a step of this kind takes.
    pub fn properties(self) -> &'static [&'static str] {
        match self {
            StepKind::Run | StepKind::Script => &[
                "cwd",
                "timeout",
                "creates",
                "unless",
                "only-if",
                "unchanged-exit",
                "confirm",
                "dangerous",
            ],
            StepKind::Sync | StepKind::Pull => &[
                "timeout",
                "delete",
                "checksum",
                "creates",
                "unless",
                "only-if",
                "dangerous",
            ],
            StepKind::Local => &["cwd", "timeout", "unchanged-exit", "dangerous"],
        }
    }

    /// The properties of other steps that mean nothing to a step of this kind: reported
    /// as such rather than as unknown.
    pub fn inapplicable(self) -> &'static [&'static str] {
        match self {
            StepKind::Run | StepKind::Script => &["delete", "checksum"],
            StepKind::Sync | StepKind::Pull => &["cwd", "unchanged-exit", "confirm"],
            // Guards test the host, which a command on the controller does not touch.
            StepKind::Local => &[
                "creates", "unless", "only-if", "confirm", "delete", "checksum",
            ],
        }
    }

    /// Moves files rather than running a command.
    pub const fn syncs(self) -> bool {
        match self {
            StepKind::Run | StepKind::Script | StepKind::Local => false,
            StepKind::Sync | StepKind::Pull => true,
        }
    }
}

impl Step {
    /// The step's kind, named as in the playbook.
    pub fn kind(&self) -> &'static str {
        self.action.kind().name()
    }

    /// Every template of this step, for checking variables.
    pub fn templates(&self) -> impl Iterator<Item = &Template> {
        self.action
            .templates()
            .into_iter()
            .chain(self.cwd.iter())
            .chain(self.env.iter().map(|(_, t)| t))
            .chain(self.confirm.iter().map(|c| &c.revert))
            .chain(self.guards.iter().map(Guard::value))
    }
}
