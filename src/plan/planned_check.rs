//! A health check of a planned stage, its probe filled in for each of the stage's hosts
//! and checked for shape (a URL that parses, a `HOST:PORT`), so a wrong probe is a planning
//! error and not a failed host in the middle of a rollout.

use std::collections::HashMap;
use std::time::Duration;

use super::host_vars::HostVars;
use super::planned_step::render_error;
use crate::diagnostic::{Code, Diagnostic, Source};
use crate::playbook::{Check, Probe, ProbeKind};

#[derive(Debug)]
pub struct PlannedCheck {
    pub name: String,
    pub kind: ProbeKind,
    /// The probe as written, placeholders and all.
    pub written: Probe<String>,
    /// The probe for each host of the stage, in the stage's host order.
    pub probes: Vec<Probe<String>>,
    /// Wait before the first attempt, for a service that takes a while to start.
    pub delay: Duration,
    /// Attempts in all: the first one and its retries.
    pub attempts: u32,
    /// Passes in a row needed.
    pub healthy: u32,
    pub interval: Duration,
    /// Limit for one attempt.
    pub timeout: Duration,
}

/// The check for each of `hosts`, its placeholders filled in.
pub(super) fn plan_check(
    check: &Check,
    hosts: &[HostVars],
    vars: &HashMap<&str, &str>,
    source: &Source,
) -> Result<PlannedCheck, Diagnostic> {
    let probes = hosts
        .iter()
        .map(|h| {
            let probe = check
                .probe
                .fill(|t| t.render(|name| h.get(name, vars)))
                .map_err(|e| render_error(e, source))?;
            match probe.mistake() {
                None => Ok(probe),
                Some((why, help)) => Err(Diagnostic::error(
                    Code::BadProbe,
                    format!("`{}` {why}", probe.target()),
                )
                .in_source(source)
                .label(check.template().text.span, "this probe")
                .help(help)),
            }
        })
        .collect::<Result<_, _>>()?;
    Ok(PlannedCheck {
        name: check.name.value.clone(),
        kind: check.probe.kind(),
        written: check
            .probe
            .fill(|t| Ok(t.text.value.clone()))
            .map_err(|e| render_error(e, source))?,
        probes,
        delay: check.delay,
        attempts: check.retries.saturating_add(1),
        healthy: check.healthy,
        interval: check.interval,
        timeout: check.timeout,
    })
}
