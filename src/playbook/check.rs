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
    /// The probe's kind, named as in the playbook.
    pub fn kind(&self) -> &'static str {
        match self {
            Probe::Http { .. } => ProbeKind::Http,
            Probe::Tcp { .. } => ProbeKind::Tcp,
            Probe::Cmd { .. } => ProbeKind::Cmd,
        }
        .name()
    }
}

/// The kinds of probe a check makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeKind {
    Http,
    Tcp,
    Cmd,
}

impl ProbeKind {
    /// Every probe kind, in the order diagnostics list them.
    pub const ALL: [ProbeKind; 3] = [ProbeKind::Http, ProbeKind::Tcp, ProbeKind::Cmd];

    /// The node's name in KDL.
    pub fn name(self) -> &'static str {
        match self {
            ProbeKind::Http => "http",
            ProbeKind::Tcp => "tcp",
            ProbeKind::Cmd => "cmd",
        }
    }

    /// A probe of this kind as written, for help texts.
    pub fn example(self) -> &'static str {
        match self {
            ProbeKind::Http => "http \"http://127.0.0.1:8080/health\"",
            ProbeKind::Tcp => "tcp \"127.0.0.1:5432\"",
            ProbeKind::Cmd => "cmd \"systemctl is-active web\"",
        }
    }

    /// The properties a probe of this kind takes.
    pub fn properties(self) -> &'static [&'static str] {
        match self {
            ProbeKind::Http => &["status"],
            ProbeKind::Tcp | ProbeKind::Cmd => &[],
        }
    }
}
