//! The dangerous-command guard applied to a playbook: every command it would send (`run`
//! steps, `unless`/`only-if` tests, `revert`s, `cmd` probes, rollback steps) is judged
//! twice. First as written, each placeholder standing for a non-empty value, which `tsync
//! check` can do without knowing any host; then, when there is a plan, as sent to each
//! host (placeholders filled in, after the step's `cd` to its `cwd` and its `env`), so that
//! a `{{dir}}` set to `/`, or `rm -rf *` with `cwd="/"`, cannot slip by. A command the
//! first look blocks is not reported again by the second.

use std::collections::{HashMap, HashSet};

use miette::SourceSpan;

use super::plan::Plan;
use crate::danger::{self, Danger};
use crate::diagnostic::{Code, Diagnostic, Diagnostics, Source};
use crate::playbook::{Action, Guard, Playbook, Probe, Step, StepKind, Template};

/// What lets a dangerous command through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Override {
    /// Nothing: the command is refused.
    None,
    /// `dangerous=#true` in the playbook.
    Property,
    /// `--allow-dangerous` on the command line.
    Flag,
}

/// The diagnostic for `danger` found in `what` at `span` of `source`: an error that says
/// how to override it, or, when `allowed`, a warning that names the rule let through.
pub fn diagnostic(
    danger: &Danger,
    what: &str,
    allowed: Override,
    source: &Source,
    span: SourceSpan,
) -> Diagnostic {
    let diagnostic = match allowed {
        Override::None => Diagnostic::error(
            Code::DangerousCommand,
            format!("{what} is refused as dangerous: {danger}"),
        )
        .help(
            "if this is really meant, add dangerous=#true to the step or probe (reviewed in \
             git), or pass --allow-dangerous",
        ),
        Override::Property => Diagnostic::warning(
            Code::DangerousCommand,
            format!("{what} is dangerous, allowed by dangerous=#true: {danger}"),
        ),
        Override::Flag => Diagnostic::warning(
            Code::DangerousCommand,
            format!("{what} is dangerous, allowed by --allow-dangerous: {danger}"),
        ),
    };
    diagnostic
        .in_source(source)
        .label(span, format!("rule `{}`", danger.rule))
}

/// One command of the playbook as written, and the text sent to each host.
struct Written<'a> {
    what: &'static str,
    template: &'a Template,
    /// Where `dangerous=#true` is written for it, if it is.
    dangerous: Option<SourceSpan>,
    /// (host, command) for every host of the stage; empty without a plan.
    filled: Vec<(&'a str, &'a str)>,
}

/// The guard's findings for `playbook`, whose `plan` (when there is one) was built from it.
pub fn judge_playbook(playbook: &Playbook, plan: Option<&Plan>, allow: bool) -> Diagnostics {
    let mut diagnostics = Diagnostics::default();
    // Each `dangerous=#true`, in order, and whether it let anything through.
    let mut overrides: Vec<(SourceSpan, bool)> = Vec::new();
    let mut override_at: HashMap<(usize, usize), usize> = HashMap::new();
    for written in commands(playbook, plan) {
        let judged = judge_written(&written);
        if let Some(span) = written.dangerous {
            let at = *override_at
                .entry((span.offset(), span.len()))
                .or_insert_with(|| {
                    overrides.push((span, false));
                    overrides.len() - 1
                });
            overrides[at].1 |= judged.is_some();
        }
        let Some((danger, host)) = judged else {
            continue;
        };
        let allowed = match (written.dangerous, allow) {
            (Some(_), _) => Override::Property,
            (None, true) => Override::Flag,
            (None, false) => Override::None,
        };
        let what = match host {
            Some(host) => format!("{}, as sent to {host},", written.what),
            None => written.what.to_string(),
        };
        diagnostics.push(diagnostic(
            &danger,
            &what,
            allowed,
            &playbook.source,
            written.template.text.span,
        ));
    }
    // An override that lets nothing through would let a dangerous command added later
    // through unseen. Only certain once every host's commands have been read.
    if plan.is_some() {
        for (span, _) in overrides.into_iter().filter(|(_, used)| !used) {
            diagnostics.push(
                Diagnostic::warning(
                    Code::DangerousCommand,
                    "`dangerous=#true` lets nothing through: the guard finds no dangerous \
                     command here",
                )
                .in_source(&playbook.source)
                .label(span, "not needed")
                .help("remove it, so that a dangerous command added later is refused"),
            );
        }
    }
    diagnostics
}

/// The danger of a command as written, or else of its text on the first host where it has
/// one (with that host's name).
fn judge_written<'a>(written: &Written<'a>) -> Option<(Danger, Option<&'a str>)> {
    // A value the playbook cannot name yet: any non-empty text will do, since placeholders
    // are filled in quoted and cannot add shell syntax.
    if let Ok(text) = written.template.render(|_| Some("tsync-value"))
        && let Some(danger) = danger::judge(&text)
    {
        return Some((danger, None));
    }
    // Hosts often get the same text: each is read once.
    let mut seen = HashSet::new();
    written
        .filled
        .iter()
        .filter(|(_, text)| seen.insert(*text))
        .find_map(|(host, text)| Some((danger::judge(text)?, Some(*host))))
}

/// Every command of `playbook`, with its text on each host when `plan` is given: the plan's
/// stages, steps and checks are those of the playbook, in the same order.
fn commands<'a>(playbook: &'a Playbook, plan: Option<&'a Plan>) -> Vec<Written<'a>> {
    let mut out = Vec::new();
    for (s, stage) in playbook.stages.iter().enumerate() {
        let planned = plan.and_then(|p| p.stages.get(s));
        let hosts: Vec<&str> = match (plan, planned) {
            (Some(plan), Some(planned)) => planned
                .hosts
                .iter()
                .map(|&h| plan.hosts[h].name.as_str())
                .collect(),
            _ => Vec::new(),
        };
        let rollback = stage.rollback.iter().flat_map(|r| &r.steps);
        let planned_rollback = planned
            .and_then(|p| p.rollback.as_ref())
            .map(|r| &r.steps[..])
            .unwrap_or_default();
        let planned_steps = planned.map(|p| &p.steps[..]).unwrap_or_default();
        let pairs = stage
            .steps
            .iter()
            .enumerate()
            .map(|(i, step)| (step, planned_steps.get(i)))
            .chain(
                rollback
                    .enumerate()
                    .map(|(i, step)| (step, planned_rollback.get(i))),
            );
        for (step, planned) in pairs {
            step_commands(step, planned, &hosts, &mut out);
        }
        for (c, check) in stage.checks.iter().enumerate() {
            let Probe::Cmd { command } = &check.probe else {
                continue;
            };
            let probes = planned.and_then(|p| p.checks.get(c)).map(|c| &c.probes);
            let filled = probes
                .into_iter()
                .flatten()
                .zip(&hosts)
                .filter_map(|(probe, host)| match probe {
                    Probe::Cmd { command } => Some((*host, command.as_str())),
                    _ => None,
                })
                .collect();
            out.push(Written {
                what: "this `cmd` probe",
                template: command,
                dangerous: check.dangerous,
                filled,
            });
        }
    }
    out
}

/// The commands of one step: its own, its guards' tests, its revert.
fn step_commands<'a>(
    step: &'a Step,
    planned: Option<&'a super::PlannedStep>,
    hosts: &[&'a str],
    out: &mut Vec<Written<'a>>,
) {
    if let Action::Run(command) | Action::Local { command, .. } = &step.action {
        // The whole command line, with the step's `cd` and `export`s in front.
        let filled = planned
            .map(|p| per_host(&p.commands, hosts))
            .unwrap_or_default();
        out.push(Written {
            what: if step.action.kind() == StepKind::Local {
                "this `local` command"
            } else {
                "this `run` command"
            },
            template: command,
            dangerous: step.dangerous,
            filled,
        });
    }
    for (g, guard) in step.guards.iter().enumerate() {
        let (Guard::Unless(template) | Guard::OnlyIf(template)) = guard else {
            continue;
        };
        let filled = planned
            .map(|p| {
                p.guards
                    .iter()
                    .zip(hosts)
                    .filter_map(|(guards, host)| match guards.get(g) {
                        // The test as run: after the step's `cd` and `export`s.
                        Some((Guard::Unless(_) | Guard::OnlyIf(_), test)) => {
                            Some((*host, test.as_str()))
                        }
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push(Written {
            what: if matches!(guard, Guard::Unless(_)) {
                "this `unless` test"
            } else {
                "this `only-if` test"
            },
            template,
            dangerous: step.dangerous,
            filled,
        });
    }
    if let Some(confirm) = &step.confirm {
        let filled = planned
            .and_then(|p| p.confirm.as_ref())
            .map(|c| per_host(&c.reverts, hosts))
            .unwrap_or_default();
        out.push(Written {
            what: "this `revert` command",
            template: &confirm.revert,
            dangerous: step.dangerous,
            filled,
        });
    }
}

/// Each host's filled-in text, beside the host's name.
fn per_host<'a>(texts: &'a [String], hosts: &[&'a str]) -> Vec<(&'a str, &'a str)> {
    texts
        .iter()
        .zip(hosts)
        .map(|(text, host)| (*host, text.as_str()))
        .collect()
}
