//! A health check that gates a stage: after the steps, its probe is tried on every host of
//! the stage until it has passed `healthy` times in a row or its attempts run out.

use std::time::Duration;

use hyper::Uri;
use miette::SourceSpan;

use super::spanned::Spanned;
use super::template::{RenderError, Template};

#[derive(Debug, Clone)]
pub struct Check {
    pub name: Spanned<String>,
    pub probe: Probe,
    /// Attempts after the first failure.
    pub retries: u32,
    pub interval: Duration,
    /// Limit for one attempt.
    pub timeout: Duration,
    /// Wait before the first attempt: a service just restarted needs a moment.
    pub delay: Duration,
    /// Passes in a row needed, so a flapping service does not pass on one lucky answer.
    pub healthy: u32,
    /// Where `dangerous=#true` is written on a `cmd` probe: the guard lets its command
    /// through, with a warning.
    pub dangerous: Option<SourceSpan>,
    pub span: SourceSpan,
}

impl Check {
    pub const DEFAULT_RETRIES: u32 = 0;
    pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(2);
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
    pub const DEFAULT_HEALTHY: u32 = 1;

    pub fn template(&self) -> &Template {
        self.probe.template()
    }
}

/// What a check probes. As parsed, its target is a template; [`Probe::fill`] makes the
/// `Probe<String>` of one host, which the plan shows and the runner tries. A new kind of
/// probe is a variant here (and in [`ProbeKind`]), its reader in `parse/checks.rs`, and
/// the function that tries it in `runner/probe.rs`.
#[derive(Debug, Clone)]
pub enum Probe<T = Template> {
    /// An HTTP GET made from the host's own network position (or from the controller).
    Http { url: T, expect: HttpExpect },
    /// A TCP connection made from the host's own network position to `HOST:PORT`.
    Tcp { address: T },
    /// A shell command on the host that must exit 0.
    Cmd { command: T },
}

/// What an http probe accepts, and how it is made.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpExpect {
    /// Status codes that pass; empty means any 2xx.
    pub status: Vec<u16>,
    /// Text the body must contain.
    pub body_contains: Option<String>,
    /// Accept any TLS certificate (self-signed services): still encrypted, not verified.
    pub insecure: bool,
    /// Made from tsync's own machine instead of the host's position (public endpoints).
    pub from_controller: bool,
    /// Follow redirects (up to 5) and judge the last answer; off by default, so that a 301
    /// to a login page never passes as healthy.
    pub follow_redirects: bool,
}

impl HttpExpect {
    /// The statuses that pass, for people: `any 2xx`, `200`, `200 or 204`.
    pub fn expects(&self) -> String {
        if self.status.is_empty() {
            return "any 2xx".to_string();
        }
        let codes: Vec<String> = self.status.iter().map(u16::to_string).collect();
        codes.join(" or ")
    }

    pub fn passes(&self, status: u16) -> bool {
        if self.status.is_empty() {
            (200..300).contains(&status)
        } else {
            self.status.contains(&status)
        }
    }
}

impl<T> Probe<T> {
    pub fn kind(&self) -> ProbeKind {
        match self {
            Probe::Http { .. } => ProbeKind::Http,
            Probe::Tcp { .. } => ProbeKind::Tcp,
            Probe::Cmd { .. } => ProbeKind::Cmd,
        }
    }

    /// The URL, the address or the command.
    pub fn target(&self) -> &T {
        match self {
            Probe::Http { url, .. } => url,
            Probe::Tcp { address } => address,
            Probe::Cmd { command } => command,
        }
    }
}

impl Probe {
    pub fn template(&self) -> &Template {
        self.target()
    }

    /// The probe for one host, its target filled in by `fill`.
    pub fn fill(
        &self,
        fill: impl Fn(&Template) -> Result<String, RenderError>,
    ) -> Result<Probe<String>, RenderError> {
        Ok(match self {
            Probe::Http { url, expect } => Probe::Http {
                url: fill(url)?,
                expect: expect.clone(),
            },
            Probe::Tcp { address } => Probe::Tcp {
                address: fill(address)?,
            },
            Probe::Cmd { command } => Probe::Cmd {
                command: fill(command)?,
            },
        })
    }
}

impl Probe<String> {
    /// What the probe does, for people: `GET URL expects any 2xx`, `connect to HOST:PORT`,
    /// `$ COMMAND`.
    pub fn describe(&self) -> String {
        match self {
            Probe::Http { url, expect } => {
                let mut text = format!("GET {url} expects {}", expect.expects());
                if let Some(body) = &expect.body_contains {
                    text.push_str(&format!(" and a body containing {body:?}"));
                }
                if expect.follow_redirects {
                    text.push_str(", following redirects");
                }
                if expect.from_controller {
                    text.push_str(", from this machine");
                }
                text
            }
            Probe::Tcp { address } => format!("connect to {address}"),
            Probe::Cmd { command } => format!("$ {command}"),
        }
    }

    /// Why the filled-in target cannot be probed, with a hint; None when it can.
    pub fn mistake(&self) -> Option<(&'static str, &'static str)> {
        match self {
            Probe::Http { url, .. } => match url.parse::<Uri>() {
                Err(_) => Some(("is not a URL", "write it as http://HOST:PORT/PATH")),
                Ok(uri)
                    if !matches!(uri.scheme_str(), Some("http" | "https"))
                        || uri.host().is_none() =>
                {
                    Some((
                        "is not an http or https URL",
                        "write it as http://HOST:PORT/PATH or https://…",
                    ))
                }
                Ok(_) => None,
            },
            Probe::Tcp { address } => split_host_port(address).is_none().then_some((
                "is not HOST:PORT",
                "write it as 127.0.0.1:5432 or [::1]:5432",
            )),
            Probe::Cmd { .. } => None,
        }
    }
}

/// `host:port`, `[v6]:port`: the host (brackets removed) and the port.
pub fn split_host_port(text: &str) -> Option<(String, u16)> {
    let (host, port) = text.rsplit_once(':')?;
    let port = port.parse::<u16>().ok().filter(|&p| p != 0)?;
    let host = match host.strip_prefix('[') {
        Some(inner) => inner.strip_suffix(']')?,
        None if host.contains(':') => return None,
        None => host,
    };
    (!host.is_empty()).then(|| (host.to_string(), port))
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
            ProbeKind::Http => &[
                "status",
                "body-contains",
                "insecure",
                "from",
                "follow-redirects",
            ],
            ProbeKind::Tcp => &[],
            ProbeKind::Cmd => &["dangerous"],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port_split_like_a_url_authority() {
        assert_eq!(
            split_host_port("127.0.0.1:80"),
            Some(("127.0.0.1".into(), 80))
        );
        assert_eq!(split_host_port("db:5432"), Some(("db".into(), 5432)));
        assert_eq!(split_host_port("[::1]:443"), Some(("::1".into(), 443)));
        assert_eq!(split_host_port("::1:443"), None);
        assert_eq!(split_host_port("db"), None);
        assert_eq!(split_host_port("db:0"), None);
        assert_eq!(split_host_port(":80"), None);
        assert_eq!(split_host_port("db:http"), None);
    }

    #[test]
    fn statuses_default_to_any_2xx() {
        let any = HttpExpect::default();
        assert!(any.passes(200) && any.passes(204) && !any.passes(301) && !any.passes(500));
        assert_eq!(any.expects(), "any 2xx");
        let listed = HttpExpect {
            status: vec![200, 301],
            ..HttpExpect::default()
        };
        assert!(listed.passes(301) && !listed.passes(204));
        assert_eq!(listed.expects(), "200 or 301");
    }
}
