//! The JSON form of a plan (`tsync plan --format json`): views that borrow from the plan.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::plan::{Plan, PlannedStep};
use crate::playbook::{Amount, RollbackScope};

/// JSON form of a plan (`tsync plan --format json`).
#[derive(Serialize)]
pub struct PlanView<'a> {
    pub playbook: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
    pub waves: Vec<Vec<&'a str>>,
    pub stages: Vec<StageView<'a>>,
    /// Where `apply` holds the deploy lock.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock: Option<LockView<'a>>,
}

/// The deploy lock of a plan.
#[derive(Serialize)]
pub struct LockView<'a> {
    pub name: &'a str,
    /// The hosts `lock on` picks; null for every host of the run.
    pub hosts: Option<Vec<&'a str>>,
    /// The playbook's `lock expiry`; null for the default.
    pub expiry_secs: Option<u64>,
}

#[derive(Serialize)]
pub struct StageView<'a> {
    pub name: &'a str,
    pub needs: Vec<&'a str>,
    pub parallel_with: Vec<&'a str>,
    pub selectors: &'a [String],
    pub hosts: Vec<&'a str>,
    /// `least-loaded(…, N)`: the stage runs on N of `hosts`, picked when it starts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pick: Option<usize>,
    pub steps: Vec<StepView<'a>>,
    pub checks: Vec<CheckView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rolling: Option<RollingView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollback: Option<RollbackView<'a>>,
}

#[derive(Serialize)]
pub struct RollbackView<'a> {
    pub scope: RollbackScope,
    pub steps: Vec<StepView<'a>>,
}

#[derive(Serialize)]
pub struct StepView<'a> {
    pub kind: &'a str,
    pub written: &'a str,
    pub timeout_secs: f64,
    /// Host name → command.
    pub commands: BTreeMap<&'a str, &'a str>,
    /// `creates`, `unless` and `only-if`, in the order they are tested.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub guards: Vec<GuardView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unchanged_exit: Option<u8>,
}

#[derive(Serialize)]
pub struct GuardView<'a> {
    /// The property: `creates`, `unless` or `only-if`.
    pub kind: &'a str,
    /// Host name → the path or command filled in for it.
    pub values: BTreeMap<&'a str, &'a str>,
    /// Host name → the command that tests it there.
    pub commands: BTreeMap<&'a str, &'a str>,
}

#[derive(Serialize)]
pub struct CheckView<'a> {
    pub name: &'a str,
    pub probe: &'a str,
    pub target: &'a str,
    /// Host name → the probe filled in for it.
    pub targets: BTreeMap<&'a str, &'a str>,
    pub retries: u32,
    pub interval_secs: f64,
    pub timeout_secs: f64,
    pub delay_secs: f64,
    pub healthy: u32,
}

#[derive(Serialize)]
pub struct RollingView {
    /// The first batch's size.
    pub batch: Amount,
    /// Every size as written; the last one repeats.
    pub sizes: Vec<Amount>,
    pub max_fail: Amount,
    pub pause_secs: f64,
    /// Host names per batch, in order.
    pub batches: Vec<Vec<String>>,
}

/// The JSON view of `plan`, borrowing from it.
pub(super) fn view(plan: &Plan) -> PlanView<'_> {
    let name = |i: usize| plan.stages[i].name.as_str();
    let parallel = plan.parallel_sets();
    PlanView {
        playbook: &plan.name,
        description: plan.description.as_deref(),
        lock: plan.lock.as_ref().map(|lock| LockView {
            name: &lock.name,
            hosts: lock
                .hosts
                .as_ref()
                .map(|hosts| hosts.iter().map(|h| h.name.as_str()).collect()),
            expiry_secs: lock.expiry.map(|e| e.as_secs()),
        }),
        waves: plan
            .waves
            .iter()
            .map(|w| w.iter().map(|&i| name(i)).collect())
            .collect(),
        stages: plan
            .order
            .iter()
            .map(|&i| {
                let stage = &plan.stages[i];
                let host_names: Vec<&str> = stage
                    .hosts
                    .iter()
                    .map(|&h| plan.hosts[h].name.as_str())
                    .collect();
                StageView {
                    name: &stage.name,
                    needs: stage.needs.iter().map(|&n| name(n)).collect(),
                    parallel_with: parallel[i].iter().map(|&j| name(j)).collect(),
                    selectors: &stage.selectors,
                    pick: stage.pick,
                    hosts: host_names.clone(),
                    steps: stage
                        .steps
                        .iter()
                        .map(|s| step_view(s, &host_names))
                        .collect(),
                    checks: stage
                        .checks
                        .iter()
                        .map(|c| CheckView {
                            name: &c.name,
                            probe: c.kind.name(),
                            target: c.written.target(),
                            targets: host_names
                                .iter()
                                .zip(&c.probes)
                                .map(|(host, probe)| (*host, probe.target().as_str()))
                                .collect(),
                            retries: c.attempts - 1,
                            interval_secs: c.interval.as_secs_f64(),
                            timeout_secs: c.timeout.as_secs_f64(),
                            delay_secs: c.delay.as_secs_f64(),
                            healthy: c.healthy,
                        })
                        .collect(),
                    rollback: stage.rollback.as_ref().map(|r| RollbackView {
                        scope: r.scope,
                        steps: r.steps.iter().map(|s| step_view(s, &host_names)).collect(),
                    }),
                    rolling: stage.rolling.as_ref().map(|r| RollingView {
                        batch: r.batch[0],
                        sizes: r.batch.clone(),
                        max_fail: r.max_fail,
                        pause_secs: r.pause.as_secs_f64(),
                        batches: r
                            .batches(host_names.len())
                            .into_iter()
                            .map(|range| host_names[range].iter().map(|s| s.to_string()).collect())
                            .collect(),
                    }),
                }
            })
            .collect(),
    }
}

fn step_view<'a>(step: &'a PlannedStep, host_names: &[&'a str]) -> StepView<'a> {
    StepView {
        kind: step.kind.name(),
        written: &step.written,
        timeout_secs: step.timeout.as_secs_f64(),
        commands: host_names
            .iter()
            .copied()
            .zip(step.commands.iter().map(String::as_str))
            .collect(),
        guards: guard_views(step, host_names),
        unchanged_exit: step.unchanged_exit,
    }
}

/// The guards of `step`, each with its value and test command per host.
fn guard_views<'a>(step: &'a PlannedStep, hosts: &[&'a str]) -> Vec<GuardView<'a>> {
    let count = step.guards.first().map_or(0, Vec::len);
    (0..count)
        .map(|g| GuardView {
            kind: step.guards[0][g].0.property(),
            values: hosts
                .iter()
                .zip(&step.guards)
                .map(|(host, gs)| (*host, gs[g].0.value().as_str()))
                .collect(),
            commands: hosts
                .iter()
                .zip(&step.guards)
                .map(|(host, gs)| (*host, gs[g].1.as_str()))
                .collect(),
        })
        .collect()
}
