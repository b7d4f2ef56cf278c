//! The plan: a playbook's stages as a DAG, each with its resolved hosts and the exact
//! commands it will run on each of them. Built once, never changed; `plan` prints it and the
//! runner executes it.

use std::collections::HashMap;
use std::time::Duration;

use petgraph::graph::DiGraph;

use super::host_vars::HostVars;
use super::planned_check::{PlannedCheck, plan_check};
use super::planned_lock::PlannedLock;
use super::planned_step::{PlannedStep, plan_step, render_error};
use super::rollout::{PlannedRollback, Rollout};
use super::selection::{Selection, ad_hoc_hosts};
use crate::diagnostic::{Diagnostics, Source};
use crate::inventory::ssh_config::Resolved;
use crate::inventory::{Host, Inventory};
use crate::playbook::{Action, Playbook, Rolling, StepKind, SyncStep};
use crate::selector::Selector;
use crate::sync::Direction;

#[derive(Debug)]
pub struct Plan {
    pub name: String,
    pub description: Option<String>,
    /// Every host some stage runs on, in inventory order.
    pub hosts: Vec<Host>,
    /// Stages in file order; `graph` nodes carry indices into it.
    pub stages: Vec<PlannedStage>,
    /// An edge `a → b` means b needs a.
    pub graph: DiGraph<usize, ()>,
    /// Stage indices in the order they run: by wave, then file order.
    pub order: Vec<usize>,
    /// Stages grouped by how many stages must finish before them; stages of a wave never
    /// depend on each other.
    pub waves: Vec<Vec<usize>>,
    /// The ssh config in use, for the runner.
    pub ssh_config: Option<std::path::PathBuf>,
    /// Where the plan came from, for diagnostics about its stages.
    pub source: Source,
    /// Where `apply` holds the deploy lock; None for `tsync run`, `push` and `pull`.
    pub lock: Option<PlannedLock>,
}

#[derive(Debug)]
pub struct PlannedStage {
    pub name: String,
    pub needs: Vec<usize>,
    /// Indices into [`Plan::hosts`].
    pub hosts: Vec<usize>,
    pub selectors: Vec<String>,
    pub steps: Vec<PlannedStep>,
    pub checks: Vec<PlannedCheck>,
    pub rolling: Option<Rolling>,
    /// `least-loaded(…, N)`: the stage runs on N of [`hosts`](Self::hosts), the least loaded
    /// when it starts; the others are only measured.
    pub pick: Option<usize>,
    /// The batches and failure tolerance the runner follows.
    pub rollout: Rollout,
    pub rollback: Option<PlannedRollback>,
    /// Hosts left out because they finished this stage in the run a retry finishes.
    pub done: Vec<String>,
}

impl Plan {
    /// Renders the commands of every stage for the hosts `selection` picked, reporting
    /// values that cannot be placed. `facts` is what `ssh -G` said about the selected hosts,
    /// looked up by the caller when [`Selection::needs_connection_facts`]; `inventory` is the
    /// one the selection was made in.
    pub fn build(
        playbook: &Playbook,
        selection: Selection,
        inventory: &Inventory,
        facts: &HashMap<usize, Resolved>,
        cli_vars: &[(String, String)],
    ) -> (Option<Plan>, Diagnostics) {
        let source = &playbook.source;
        let mut diagnostics = Diagnostics::default();
        let Selection {
            graph,
            stage_hosts,
            hosts: used,
            done,
            lock_hosts,
            ..
        } = selection;
        // Hosts in the plan, renumbered densely in inventory order.
        let renumber: HashMap<usize, usize> = used
            .iter()
            .enumerate()
            .map(|(new, &old)| (old, new))
            .collect();

        let mut vars: HashMap<&str, &str> = playbook
            .vars
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        vars.extend(cli_vars.iter().map(|(k, v)| (k.as_str(), v.as_str())));

        let stages = playbook
            .stages
            .iter()
            .zip(&stage_hosts)
            .zip(&done)
            .map(|((stage, hosts), done)| {
                let per_host: Vec<HostVars> = hosts
                    .iter()
                    .map(|&i| HostVars::new(inventory.host(i), facts.get(&i), &stage.name.value))
                    .collect();
                PlannedStage {
                    name: stage.name.value.clone(),
                    needs: stage
                        .needs
                        .iter()
                        .filter_map(|n| {
                            playbook.stages.iter().position(|s| s.name.value == n.value)
                        })
                        .collect(),
                    hosts: hosts.iter().map(|i| renumber[i]).collect(),
                    selectors: stage.on.iter().map(|s| s.text.clone()).collect(),
                    steps: stage
                        .steps
                        .iter()
                        .filter_map(|step| match plan_step(step, &per_host, &vars) {
                            Ok(planned) => Some(planned),
                            Err(e) => {
                                diagnostics.push(render_error(e, source));
                                None
                            }
                        })
                        .collect(),
                    checks: stage
                        .checks
                        .iter()
                        .filter_map(|check| match plan_check(check, &per_host, &vars, source) {
                            Ok(planned) => Some(planned),
                            Err(e) => {
                                diagnostics.push(e);
                                None
                            }
                        })
                        .collect(),
                    done: done
                        .iter()
                        .map(|&i| inventory.host(i).name.clone())
                        .collect(),
                    rolling: stage.rolling.clone(),
                    pick: stage.on.iter().find_map(|s| s.pick),
                    rollout: Rollout::new(stage.rolling.as_ref(), hosts.len()),
                    rollback: stage.rollback.as_ref().map(|rollback| PlannedRollback {
                        scope: rollback.scope,
                        steps: rollback
                            .steps
                            .iter()
                            .filter_map(|step| match plan_step(step, &per_host, &vars) {
                                Ok(planned) => Some(planned),
                                Err(e) => {
                                    diagnostics.push(render_error(e, source));
                                    None
                                }
                            })
                            .collect(),
                    }),
                }
            })
            .collect();
        if diagnostics.has_errors() {
            return (None, diagnostics);
        }

        let plan = Plan {
            name: playbook.name.clone(),
            description: playbook.description.clone(),
            hosts: used.iter().map(|&i| inventory.host(i).clone()).collect(),
            stages,
            graph: graph.graph,
            order: graph.order,
            waves: graph.waves,
            ssh_config: inventory.ssh_config.clone(),
            source: source.clone(),
            lock: (!playbook.lock.as_ref().is_some_and(|l| l.off)).then(|| PlannedLock {
                name: playbook
                    .lock
                    .as_ref()
                    .and_then(|l| l.name.as_ref())
                    .map_or_else(|| playbook.name.clone(), |n| n.value.clone()),
                hosts: lock_hosts
                    .map(|hosts| hosts.iter().map(|&i| inventory.host(i).clone()).collect()),
                expiry: playbook
                    .lock
                    .as_ref()
                    .and_then(|l| l.expiry.as_ref())
                    .map(|e| e.value),
            }),
        };
        (Some(plan), diagnostics)
    }

    /// `tsync run`: one stage, named `run`, running `command` on the hosts `selector` picks.
    pub fn ad_hoc(
        selector: &str,
        command: &str,
        timeout: Duration,
        inventory: &Inventory,
        limit: Option<(&Selector, &Source)>,
    ) -> (Option<Plan>, Diagnostics) {
        Self::one_step("run", selector, inventory, limit, |hosts| PlannedStep {
            kind: StepKind::Run,
            written: command.to_string(),
            timeout,
            commands: vec![command.to_string(); hosts.len()],
            actions: vec![Action::Run(command.to_string()); hosts.len()],
            confirm: None,
            guards: vec![Vec::new(); hosts.len()],
            unchanged_exit: None,
        })
    }

    /// `tsync push` and `tsync pull`: one stage, named after the command, running `sync`
    /// on the hosts `selector` picks (a pull into each host's own directory).
    pub fn ad_hoc_sync(
        selector: &str,
        sync: &SyncStep<String>,
        timeout: Duration,
        inventory: &Inventory,
        limit: Option<(&Selector, &Source)>,
    ) -> (Option<Plan>, Diagnostics) {
        let action = Action::Sync(sync.clone());
        let kind = action.kind();
        let name = match sync.direction {
            Direction::Push => "push",
            Direction::Pull => "pull",
        };
        Self::one_step(name, selector, inventory, limit, |hosts| {
            let actions: Vec<Action<String>> = hosts
                .iter()
                .map(|host| Action::Sync(sync.on_host(&host.name)))
                .collect();
            PlannedStep {
                kind,
                written: action.command(),
                timeout,
                commands: actions.iter().map(Action::command).collect(),
                actions,
                confirm: None,
                guards: vec![Vec::new(); hosts.len()],
                unchanged_exit: None,
            }
        })
    }

    /// A plan of one stage named `name` with the one step `step` makes for the hosts
    /// `selector` picks.
    fn one_step(
        name: &str,
        selector: &str,
        inventory: &Inventory,
        limit: Option<(&Selector, &Source)>,
        step: impl FnOnce(&[Host]) -> PlannedStep,
    ) -> (Option<Plan>, Diagnostics) {
        let source = Source::new("selector", selector);
        let (hosts, diagnostics) = ad_hoc_hosts(selector, &source, inventory, limit);
        let Some((hosts, pick)) = hosts else {
            return (None, diagnostics);
        };
        let hosts: Vec<Host> = hosts.iter().map(|&i| inventory.host(i).clone()).collect();
        let mut graph = DiGraph::new();
        graph.add_node(0);
        let plan = Plan {
            name: name.into(),
            description: None,
            stages: vec![PlannedStage {
                name: name.into(),
                needs: Vec::new(),
                hosts: (0..hosts.len()).collect(),
                selectors: vec![selector.to_string()],
                steps: vec![step(&hosts)],
                checks: Vec::new(),
                rolling: None,
                pick,
                rollout: Rollout::new(None, hosts.len()),
                rollback: None,
                done: Vec::new(),
            }],
            hosts,
            graph,
            order: vec![0],
            waves: vec![vec![0]],
            ssh_config: inventory.ssh_config.clone(),
            source,
            lock: None,
        };
        (Some(plan), diagnostics)
    }

    /// For every stage, the stages that could run at the same time: no path either way.
    /// Computed for all stages at once from ancestor bit sets, so a plan of thousands of
    /// stages costs milliseconds, not a path search per pair.
    pub fn parallel_sets(&self) -> Vec<Vec<usize>> {
        let n = self.stages.len();
        let words = n.div_ceil(64);
        let mut ancestors = vec![vec![0u64; words]; n];
        for &i in &self.order {
            for &need in &self.stages[i].needs {
                let (before, inherited) = (need, ancestors[need].clone());
                let row = &mut ancestors[i];
                row.iter_mut().zip(&inherited).for_each(|(w, a)| *w |= a);
                row[before / 64] |= 1 << (before % 64);
            }
        }
        let is = |row: &[u64], j: usize| row[j / 64] & (1 << (j % 64)) != 0;
        (0..n)
            .map(|i| {
                (0..n)
                    .filter(|&j| j != i && !is(&ancestors[i], j) && !is(&ancestors[j], i))
                    .collect()
            })
            .collect()
    }
}
