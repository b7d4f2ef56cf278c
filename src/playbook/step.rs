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
        /// Read when the playbook is loaded, so a missing file is a checking error.
        body: String,
        args: Vec<Template>,
    },
}

impl Step {
    pub fn kind(&self) -> &'static str {
        match self.action {
            Action::Run(_) => "run",
            Action::Script { .. } => "script",
        }
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
