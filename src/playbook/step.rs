//! One thing a stage does on each of its hosts, in the order written.

use std::path::PathBuf;
use std::time::Duration;

use miette::SourceSpan;

use super::spanned::Spanned;
use super::template::Template;

#[derive(Debug, Clone)]
pub struct Step {
    pub action: Action,
    /// Directory the command runs in on the host; `~` is the login's home.
    pub cwd: Option<Template>,
    pub timeout: Option<Spanned<Duration>>,
    /// Environment variables set for this step only.
    pub env: Vec<(Spanned<String>, Template)>,
    pub span: SourceSpan,
}

#[derive(Debug, Clone)]
pub enum Action {
    /// A shell command run by the login shell of the host.
    Run(Template),
    /// A script from the controller's disk, streamed to `sh -s` on the host: nothing is
    /// copied to the host, so nothing is left behind.
    Script {
        path: Spanned<PathBuf>,
        /// Read by the load phase right after parsing, so a missing file is a checking
        /// error.
        body: String,
        args: Vec<Template>,
    },
}

impl Action {
    /// What kind of step this is.
    pub fn kind(&self) -> StepKind {
        match self {
            Action::Run(_) => StepKind::Run,
            Action::Script { .. } => StepKind::Script,
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
}

impl StepKind {
    /// Every step kind, in the order diagnostics list them.
    pub const ALL: [StepKind; 2] = [StepKind::Run, StepKind::Script];

    /// The node's name in KDL.
    pub const fn name(self) -> &'static str {
        match self {
            StepKind::Run => "run",
            StepKind::Script => "script",
        }
    }

    /// The properties a step of this kind takes.
    pub fn properties(self) -> &'static [&'static str] {
        match self {
            StepKind::Run | StepKind::Script => &["cwd", "timeout"],
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
        let action: Vec<&Template> = match &self.action {
            Action::Run(t) => vec![t],
            Action::Script { args, .. } => args.iter().collect(),
        };
        action
            .into_iter()
            .chain(self.cwd.iter())
            .chain(self.env.iter().map(|(_, t)| t))
    }
}
