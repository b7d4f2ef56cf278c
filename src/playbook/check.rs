//! A health check that gates a stage: it is probed on every host of the stage after the
//! steps ran, retried until it passes or its retries run out.

use std::time::Duration;

use miette::SourceSpan;

use super::spanned::Spanned;
use super::template::Template;

#[derive(Debug, Clone)]
pub struct Check {
    pub name: Spanned<String>,
    pub probe: Probe,
    /// Attempts after the first failure.
    pub retries: u32,
    pub interval: Duration,
    /// Limit for one attempt.
    pub timeout: Duration,
    pub span: SourceSpan,
}

#[derive(Debug, Clone)]
pub enum Probe {
    /// An HTTP GET made from the host itself, expecting `status`.
    Http { url: Template, status: u16 },
    /// A TCP connection made from the host itself to `address` (`host:port`).
    Tcp { address: Template },
    /// A shell command that must exit 0.
    Cmd { command: Template },
}

impl Check {
    pub const DEFAULT_RETRIES: u32 = 0;
    pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(2);
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

    pub fn template(&self) -> &Template {
        match &self.probe {
            Probe::Http { url, .. } => url,
            Probe::Tcp { address } => address,
            Probe::Cmd { command } => command,
        }
    }
}

impl Probe {
    pub fn kind(&self) -> &'static str {
        match self {
            Probe::Http { .. } => "http",
            Probe::Tcp { .. } => "tcp",
            Probe::Cmd { .. } => "cmd",
        }
    }
}
