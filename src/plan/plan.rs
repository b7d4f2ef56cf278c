//! The plan: a playbook's stages as a DAG, each with its resolved hosts and the exact
//! commands it will run on each of them. Built once, never changed; `plan` prints it and the
//! runner executes it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use petgraph::graph::DiGraph;
use serde::Serialize;

use super::host_vars::HostVars;
use super::selection::{Selection, ad_hoc_hosts};
use crate::diagnostic::{Diagnostic, Diagnostics, Source};
use crate::inventory::ssh_config::Resolved;
use crate::inventory::{Host, Inventory};
use crate::playbook::{Action, Check, Playbook, RenderError, Rolling, Step, Template};
use crate::selector::Selector;
use crate::shell::quote_word;

/// Default limit for a step without its own `timeout`: long enough for a build, short
/// enough that a hung host cannot hold a cron run forever.
pub const DEFAULT_STEP_TIMEOUT: Duration = Duration::from_secs(30 * 60);

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
}

#[derive(Debug)]
pub struct PlannedStage {
    pub name: String,
    pub needs: Vec<usize>,
    /// Indices into [`Plan::hosts`].
    pub hosts: Vec<usize>,
    pub selectors: Vec<String>,
    pub steps: Vec<PlannedStep>,
    pub checks: Vec<Check>,
    pub rolling: Option<Rolling>,
}

#[derive(Debug)]
pub struct PlannedStep {
    pub kind: &'static str,
    /// The step as written in the playbook (command or script path).
    pub written: String,
    pub timeout: Duration,
    /// The remote command for each host of the stage, in the stage's host order.
    pub commands: Vec<String>,
    /// Fed to the command's stdin (a script's body).
    pub stdin: Option<Arc<str>>,
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
            .map(|(stage, hosts)| {
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
                    checks: stage.checks.clone(),
                    rolling: stage.rolling.clone(),
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
        };
        (Some(plan), diagnostics)
    }

    /// A one-stage plan that runs `command` on the hosts `selector` picks (`tsync run`).
    pub fn ad_hoc(
        selector: &str,
        command: &str,
        timeout: Duration,
        inventory: &Inventory,
        limit: Option<(&Selector, &Source)>,
    ) -> (Option<Plan>, Diagnostics) {
        let source = Source::new("selector", selector);
        let (hosts, diagnostics) = ad_hoc_hosts(selector, &source, inventory, limit);
        let Some(hosts) = hosts else {
            return (None, diagnostics);
        };
        let mut graph = DiGraph::new();
        graph.add_node(0);
        let plan = Plan {
            name: "run".into(),
            description: None,
            hosts: hosts.iter().map(|&i| inventory.host(i).clone()).collect(),
            stages: vec![PlannedStage {
                name: "run".into(),
                needs: Vec::new(),
                hosts: (0..hosts.len()).collect(),
                selectors: vec![selector.to_string()],
                steps: vec![PlannedStep {
                    kind: "run",
                    written: command.to_string(),
                    timeout,
                    commands: vec![command.to_string(); hosts.len()],
                    stdin: None,
                }],
                checks: Vec::new(),
                rolling: None,
            }],
            graph,
            order: vec![0],
            waves: vec![vec![0]],
            ssh_config: inventory.ssh_config.clone(),
            source,
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

fn plan_step(
    step: &Step,
    hosts: &[HostVars],
    vars: &HashMap<&str, &str>,
) -> Result<PlannedStep, RenderError> {
    let render = |t: &Template, h: &HostVars| t.render(|name| h.get(name, vars));
    let commands = hosts
        .iter()
        .map(|h| {
            // `;` rather than `&&`: `cd DIR && a; b` would run `b` in the home directory.
            let mut command = String::new();
            if let Some(cwd) = &step.cwd {
                command.push_str(&format!("cd -- {} || exit; ", quote_path(&render(cwd, h)?)));
            }
            for (name, value) in &step.env {
                command.push_str(&format!(
                    "export {}={}; ",
                    name.value,
                    quote_word(&render(value, h)?)
                ));
            }
            match &step.action {
                Action::Run(run) => command.push_str(&render(run, h)?),
                Action::Script { args, .. } => {
                    command.push_str("sh -s --");
                    for a in args {
                        command.push(' ');
                        command.push_str(&quote_word(&render(a, h)?));
                    }
                }
            }
            Ok(command)
        })
        .collect::<Result<_, _>>()?;
    let (written, stdin) = match &step.action {
        Action::Run(command) => (command.text.value.clone(), None),
        Action::Script { path, body, .. } => (
            path.value.display().to_string(),
            Some(Arc::from(body.as_str())),
        ),
    };
    Ok(PlannedStep {
        kind: step.kind(),
        written,
        timeout: step
            .timeout
            .as_ref()
            .map(|t| t.value)
            .unwrap_or(DEFAULT_STEP_TIMEOUT),
        commands,
        stdin,
    })
}

/// A value that cannot be placed where its placeholder stands, pointing at the placeholder.
fn render_error(error: RenderError, source: &Source) -> Diagnostic {
    let message = error.to_string();
    match error {
        RenderError::Undefined(_) => Diagnostic::error("undefined-variable", message),
        RenderError::Nul { span, .. } => Diagnostic::error("unsafe-value", message)
            .in_source(source)
            .label(span, "this placeholder")
            .help("remove the NUL character from the value"),
        RenderError::EndsHereDoc { span, .. } => {
            Diagnostic::error("unsafe-value", message)
                .in_source(source)
                .label(span, "this placeholder")
                .help("choose an end word for the here-document that no value can hold, or pass the value another way")
        }
    }
}

/// Quotes a directory for `cd`, keeping a leading `~/` outside the quotes so the shell
/// still expands it to the login's home.
fn quote_path(path: &str) -> String {
    match path.strip_prefix("~/") {
        Some(rest) if !rest.is_empty() => format!("~/{}", quote_word(rest)),
        _ if path == "~" || path == "~/" => "~".to_string(),
        _ => quote_word(path),
    }
}

/// JSON form of a plan (`tsync plan --format json`).
#[derive(Serialize)]
pub struct PlanView<'a> {
    pub playbook: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
    pub waves: Vec<Vec<&'a str>>,
    pub stages: Vec<StageView<'a>>,
}

#[derive(Serialize)]
pub struct StageView<'a> {
    pub name: &'a str,
    pub needs: Vec<&'a str>,
    pub parallel_with: Vec<&'a str>,
    pub selectors: &'a [String],
    pub hosts: Vec<&'a str>,
    pub steps: Vec<StepView<'a>>,
    pub checks: Vec<CheckView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rolling: Option<RollingView>,
}

#[derive(Serialize)]
pub struct StepView<'a> {
    pub kind: &'a str,
    pub written: &'a str,
    pub timeout_secs: f64,
    /// Host name → command.
    pub commands: std::collections::BTreeMap<&'a str, &'a str>,
}

#[derive(Serialize)]
pub struct CheckView<'a> {
    pub name: &'a str,
    pub probe: &'a str,
    pub target: &'a str,
    pub retries: u32,
    pub interval_secs: f64,
    pub timeout_secs: f64,
}

#[derive(Serialize)]
pub struct RollingView {
    pub batch: crate::playbook::Amount,
    pub max_fail: crate::playbook::Amount,
    pub pause_secs: f64,
    /// Host names per batch, in order.
    pub batches: Vec<Vec<String>>,
}

impl Plan {
    pub fn view(&self) -> PlanView<'_> {
        let name = |i: usize| self.stages[i].name.as_str();
        let parallel = self.parallel_sets();
        PlanView {
            playbook: &self.name,
            description: self.description.as_deref(),
            waves: self
                .waves
                .iter()
                .map(|w| w.iter().map(|&i| name(i)).collect())
                .collect(),
            stages: self
                .order
                .iter()
                .map(|&i| {
                    let stage = &self.stages[i];
                    let host_names: Vec<&str> = stage
                        .hosts
                        .iter()
                        .map(|&h| self.hosts[h].name.as_str())
                        .collect();
                    StageView {
                        name: &stage.name,
                        needs: stage.needs.iter().map(|&n| name(n)).collect(),
                        parallel_with: parallel[i].iter().map(|&j| name(j)).collect(),
                        selectors: &stage.selectors,
                        hosts: host_names.clone(),
                        steps: stage
                            .steps
                            .iter()
                            .map(|s| StepView {
                                kind: s.kind,
                                written: &s.written,
                                timeout_secs: s.timeout.as_secs_f64(),
                                commands: host_names
                                    .iter()
                                    .copied()
                                    .zip(s.commands.iter().map(String::as_str))
                                    .collect(),
                            })
                            .collect(),
                        checks: stage
                            .checks
                            .iter()
                            .map(|c| CheckView {
                                name: &c.name.value,
                                probe: c.probe.kind(),
                                target: &c.template().text.value,
                                retries: c.retries,
                                interval_secs: c.interval.as_secs_f64(),
                                timeout_secs: c.timeout.as_secs_f64(),
                            })
                            .collect(),
                        rolling: stage.rolling.as_ref().map(|r| RollingView {
                            batch: r.batch,
                            max_fail: r.max_fail,
                            pause_secs: r.pause.as_secs_f64(),
                            batches: r
                                .batches(host_names.len())
                                .into_iter()
                                .map(|range| {
                                    host_names[range].iter().map(|s| s.to_string()).collect()
                                })
                                .collect(),
                        }),
                    }
                })
                .collect(),
        }
    }
}
