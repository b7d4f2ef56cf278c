//! A health check of a planned stage, its probe filled in for each of the stage's hosts
//! and checked for shape (a URL that parses, a `host:port`), so a wrong probe is a planning
//! error and not a failed host in the middle of a rollout.

use std::collections::HashMap;
use std::time::Duration;

use hyper::Uri;

use super::host_vars::HostVars;
use super::planned_step::render_error;
use crate::diagnostic::{Diagnostic, Source};
use crate::playbook::{Check, Probe, Template};

#[derive(Debug)]
pub struct PlannedCheck {
    pub name: String,
    /// `http`, `tcp` or `cmd`.
    pub kind: &'static str,
    /// The probe as written, placeholders and all.
    pub written: String,
    /// The probe for each host of the stage, in the stage's host order.
    pub probes: Vec<PlannedProbe>,
    /// Wait before the first attempt, for a service that takes a while to start.
    pub delay: Duration,
    /// Attempts in all: the first one and its retries.
    pub attempts: u32,
    /// Passes in a row needed: a flapping service does not pass on one lucky answer.
    pub healthy: u32,
    pub interval: Duration,
    /// Limit for one attempt.
    pub timeout: Duration,
}

/// What one attempt does on (or, for `from="controller"`, about) one host.
#[derive(Debug, Clone)]
pub enum PlannedProbe {
    Http(HttpProbe),
    /// Passes when a connection to `host:port`, made from the host, opens.
    Tcp {
        host: String,
        port: u16,
    },
    /// Passes when the command exits 0 on the host.
    Cmd {
        command: String,
    },
}

#[derive(Debug, Clone)]
pub struct HttpProbe {
    pub url: Uri,
    /// Status codes that pass; empty means any 2xx.
    pub status: Vec<u16>,
    /// Text the body must contain.
    pub body_contains: Option<String>,
    /// Accept any TLS certificate (self-signed services).
    pub insecure: bool,
    /// Probe from tsync's machine instead of through the host.
    pub from_controller: bool,
}

impl PlannedProbe {
    /// The probe as shown to people: the URL, the address or the command.
    pub fn target(&self) -> String {
        match self {
            PlannedProbe::Http(http) => http.url.to_string(),
            PlannedProbe::Tcp { host, port } => format!("{host}:{port}"),
            PlannedProbe::Cmd { command } => command.clone(),
        }
    }
}

impl HttpProbe {
    /// The statuses that pass, for people: `any 2xx`, `200`, `200 or 204`.
    pub fn expects(&self) -> String {
        if self.status.is_empty() {
            "any 2xx".to_string()
        } else {
            let codes: Vec<String> = self.status.iter().map(u16::to_string).collect();
            codes.join(" or ")
        }
    }

    pub fn passes(&self, status: u16) -> bool {
        if self.status.is_empty() {
            (200..300).contains(&status)
        } else {
            self.status.contains(&status)
        }
    }
}

/// The check for each of `hosts`, its placeholders filled in.
pub(super) fn plan_check(
    check: &Check,
    hosts: &[HostVars],
    vars: &HashMap<&str, &str>,
    source: &Source,
) -> Result<PlannedCheck, Diagnostic> {
    let render = |t: &Template, h: &HostVars| {
        t.render(|name| h.get(name, vars))
            .map_err(|e| render_error(e, source))
    };
    let probes = hosts
        .iter()
        .map(|h| {
            let text = render(check.template(), h)?;
            let wrong = |why: &str, help: &str| {
                Diagnostic::error("bad-probe", format!("`{text}` {why}"))
                    .in_source(source)
                    .label(check.template().text.span, "this probe")
                    .help(help.to_string())
            };
            match &check.probe {
                Probe::Http { status, .. } => {
                    let url: Uri = text
                        .parse()
                        .map_err(|_| wrong("is not a URL", "write it as http://HOST:PORT/PATH"))?;
                    if !matches!(url.scheme_str(), Some("http" | "https")) || url.host().is_none() {
                        return Err(wrong(
                            "is not an http or https URL",
                            "write it as http://HOST:PORT/PATH or https://…",
                        ));
                    }
                    Ok(PlannedProbe::Http(HttpProbe {
                        url,
                        status: vec![*status],
                        body_contains: None,
                        insecure: false,
                        from_controller: false,
                    }))
                }
                Probe::Tcp { .. } => {
                    let (host, port) = split_host_port(&text).ok_or_else(|| {
                        wrong(
                            "is not HOST:PORT",
                            "write it as 127.0.0.1:5432 or [::1]:5432",
                        )
                    })?;
                    Ok(PlannedProbe::Tcp { host, port })
                }
                Probe::Cmd { .. } => Ok(PlannedProbe::Cmd { command: text }),
            }
        })
        .collect::<Result<_, _>>()?;
    Ok(PlannedCheck {
        name: check.name.value.clone(),
        kind: check.probe.kind(),
        written: check.template().text.value.clone(),
        probes,
        delay: Duration::ZERO,
        attempts: check.retries.saturating_add(1),
        healthy: 1,
        interval: check.interval,
        timeout: check.timeout,
    })
}

/// `host:port`, `[v6]:port`: the host (brackets removed) and the port.
fn split_host_port(text: &str) -> Option<(String, u16)> {
    let (host, port) = text.rsplit_once(':')?;
    let port = port.parse::<u16>().ok().filter(|&p| p != 0)?;
    let host = match host.strip_prefix('[') {
        Some(inner) => inner.strip_suffix(']')?,
        None if host.contains(':') => return None,
        None => host,
    };
    (!host.is_empty()).then(|| (host.to_string(), port))
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
}
