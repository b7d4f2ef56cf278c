//! The plan: a playbook's stages as a DAG, each with its resolved hosts and the exact
//! commands it will run on each of them. Built once, never changed; `plan` prints it and the
//! runner executes it.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use serde::Serialize;

use super::resolve::resolve_or_report;
use crate::diagnostic::{Diagnostic, Diagnostics, Source};
use crate::inventory::{Host, Inventory};
use crate::playbook::{Action, Check, Playbook, RenderError, Rolling, Stage, Step, Template};
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
    /// Builds the plan, reporting every problem found: cycles, selectors that name nothing
    /// or match no host. When the parser already found errors (`playbook_ok` false) these
    /// checks still run, so the user sees everything, but no plan is made.
    pub fn build(
        playbook: &Playbook,
        inventory: &mut Inventory,
        cli_vars: &[(String, String)],
        limit: Option<(&Selector, &Source)>,
        playbook_ok: bool,
    ) -> (Option<Plan>, Diagnostics) {
        let source = &playbook.source;
        let mut diagnostics = inventory.define_groups(&playbook.groups, source);

        let (graph, order, waves) = match stage_graph(playbook) {
            Ok(g) => g,
            Err(cycles) => {
                for cycle in cycles {
                    diagnostics.push(cycle);
                }
                (DiGraph::new(), Vec::new(), Vec::new())
            }
        };

        if !inventory.has_sources {
            diagnostics.push(
                Diagnostic::warning("no-inventory", "no hosts are known: host names and groups were not checked")
                    .help("tsync reads ~/.ssh/config, sshsync's groups and Tailscale; or pass --ssh-config / --inventory"),
            );
            return (None, diagnostics);
        }

        let limited = limit.and_then(|(selector, limit_source)| {
            resolve_or_report(selector, inventory, limit_source, &mut diagnostics)
        });

        let mut stage_hosts: Vec<BTreeSet<usize>> = Vec::new();
        for stage in &playbook.stages {
            let mut hosts = BTreeSet::new();
            let mut failed = false;
            for selector in &stage.on {
                match resolve_or_report(selector, inventory, source, &mut diagnostics) {
                    Some(h) => hosts.extend(h),
                    None => failed = true,
                }
            }
            if !failed && hosts.is_empty() && !stage.on.is_empty() {
                diagnostics.push(no_hosts(stage, inventory, source));
            }
            if let Some(limited) = &limited {
                hosts = hosts.intersection(limited).copied().collect();
            }
            stage_hosts.push(hosts);
        }

        // Commands can only be rendered from a playbook without errors (every variable known).
        if diagnostics.has_errors() || !playbook_ok {
            return (None, diagnostics);
        }

        // Hosts in the plan, renumbered densely in inventory order.
        let used: BTreeSet<usize> = stage_hosts.iter().flatten().copied().collect();
        let renumber: HashMap<usize, usize> = used
            .iter()
            .enumerate()
            .map(|(new, &old)| (old, new))
            .collect();
        let connection_vars = playbook
            .stages
            .iter()
            .flat_map(|s| {
                s.steps
                    .iter()
                    .flat_map(|st| st.templates())
                    .chain(s.checks.iter().map(|c| c.template()))
            })
            .flat_map(|t| t.placeholders())
            .any(|p| matches!(p.name.as_str(), "address" | "user" | "port"));
        let resolved = if connection_vars {
            let (resolved, warnings) = inventory.resolve(&used);
            for w in warnings {
                diagnostics.push(Diagnostic::warning("ssh-config", w));
            }
            resolved
        } else {
            HashMap::new()
        };

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
                    .map(|&i| {
                        let host = inventory.host(i);
                        let r = resolved.get(&i);
                        HostVars {
                            host: host.name.clone(),
                            address: r
                                .map(|r| r.hostname.clone())
                                .unwrap_or_else(|| host.destination().to_string()),
                            user: r.map(|r| r.user.clone()).unwrap_or_default(),
                            port: r.map(|r| r.port.to_string()).unwrap_or_else(|| "22".into()),
                            stage: stage.name.value.clone(),
                        }
                    })
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
            graph,
            order,
            waves,
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
        let mut diagnostics = Diagnostics::default();
        let source = Source::new("selector", selector);
        let parsed = match Selector::parse(selector, Some(0), (0, selector.len()).into()) {
            Ok(s) => s,
            Err(e) => {
                diagnostics.push(e.into_diagnostic(&source));
                return (None, diagnostics);
            }
        };
        let Some(mut hosts) = resolve_or_report(&parsed, inventory, &source, &mut diagnostics)
        else {
            return (None, diagnostics);
        };
        if let Some((limit, limit_source)) = limit {
            match resolve_or_report(limit, inventory, limit_source, &mut diagnostics) {
                Some(l) => hosts = hosts.intersection(&l).copied().collect(),
                None => return (None, diagnostics),
            }
        }
        if hosts.is_empty() {
            diagnostics.push(
                Diagnostic::error("no-hosts", format!("`{selector}` selects no hosts"))
                    .in_source(&source)
                    .label((0, selector.len()).into(), "matches no host")
                    .help(if inventory.has_sources {
                        "check the name; hosts come from your ssh config, Tailscale and groups"
                    } else {
                        "no hosts are known: tsync reads ~/.ssh/config (or --ssh-config) and Tailscale"
                    }),
            );
            return (None, diagnostics);
        }
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

struct HostVars {
    host: String,
    address: String,
    user: String,
    port: String,
    stage: String,
}

impl HostVars {
    fn get<'a>(&'a self, name: &str, vars: &HashMap<&str, &'a str>) -> Option<&'a str> {
        match name {
            "host" => Some(&self.host),
            "address" => Some(&self.address),
            "user" => Some(&self.user),
            "port" => Some(&self.port),
            "stage" => Some(&self.stage),
            _ => vars.get(name).copied(),
        }
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

type StageGraph = (DiGraph<usize, ()>, Vec<usize>, Vec<Vec<usize>>);

/// The `needs` DAG, the run order and the waves; or one diagnostic per cycle.
fn stage_graph(playbook: &Playbook) -> Result<StageGraph, Vec<Diagnostic>> {
    let mut graph = DiGraph::new();
    for i in 0..playbook.stages.len() {
        graph.add_node(i);
    }
    let position: HashMap<&str, usize> = playbook
        .stages
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    for (i, stage) in playbook.stages.iter().enumerate() {
        for need in &stage.needs {
            // Unknown names and self-needs were reported by the parser.
            if let Some(&j) = position.get(need.as_str()).filter(|&&j| j != i) {
                graph.update_edge(NodeIndex::new(j), NodeIndex::new(i), ());
            }
        }
    }
    if toposort(&graph, None).is_err() {
        let mut cycles: Vec<Vec<usize>> = tarjan_scc(&graph)
            .into_iter()
            .filter(|scc| scc.len() > 1)
            .map(|scc| scc.into_iter().map(|n| n.index()).collect())
            .collect();
        cycles.sort();
        return Err(cycles
            .into_iter()
            .map(|scc| cycle_diagnostic(playbook, &graph, scc))
            .collect());
    }
    // Wave = length of the longest chain of needs before a stage.
    let mut wave = vec![0usize; playbook.stages.len()];
    let topo = toposort(&graph, None).unwrap_or_default();
    for node in &topo {
        for edge in graph.edges(*node) {
            let next = edge.target().index();
            wave[next] = wave[next].max(wave[node.index()] + 1);
        }
    }
    let depth = wave.iter().max().map_or(0, |m| m + 1);
    let waves: Vec<Vec<usize>> = (0..depth)
        .map(|w| (0..wave.len()).filter(|&i| wave[i] == w).collect())
        .collect();
    let order = waves.iter().flatten().copied().collect();
    Ok((graph, order, waves))
}

/// Names every stage of a circle in order, each `needs` edge labelled where it is written.
fn cycle_diagnostic(
    playbook: &Playbook,
    graph: &DiGraph<usize, ()>,
    members: Vec<usize>,
) -> Diagnostic {
    let in_scc: BTreeSet<usize> = members.iter().copied().collect();
    let start = *members.iter().min().expect("a cycle has members");
    // Walk `needs` edges (graph edges reversed) inside the component until back at the start.
    let needs_of = |i: usize| -> Vec<usize> {
        let mut v: Vec<usize> = graph
            .edges_directed(NodeIndex::new(i), petgraph::Direction::Incoming)
            .map(|e| e.source().index())
            .filter(|j| in_scc.contains(j))
            .collect();
        v.sort();
        v
    };
    let mut path = vec![start];
    let mut seen = BTreeSet::from([start]);
    // Depth-first search for a simple circle through `start`.
    fn search(
        path: &mut Vec<usize>,
        seen: &mut BTreeSet<usize>,
        start: usize,
        needs_of: &dyn Fn(usize) -> Vec<usize>,
    ) -> bool {
        let last = *path.last().expect("path starts non-empty");
        for next in needs_of(last) {
            if next == start {
                return true;
            }
            if seen.insert(next) {
                path.push(next);
                if search(path, seen, start, needs_of) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    search(&mut path, &mut seen, start, &needs_of);
    let name = |i: usize| playbook.stages[i].name.value.as_str();
    let circle: Vec<&str> = path
        .iter()
        .chain(std::iter::once(&start))
        .map(|&i| name(i))
        .collect();
    let mut d = Diagnostic::error(
        "cycle",
        format!("stages need each other in a circle: {}", circle.join(" → ")),
    )
    .in_source(&playbook.source);
    for (k, &i) in path.iter().enumerate() {
        let next = path.get(k + 1).copied().unwrap_or(start);
        let stage: &Stage = &playbook.stages[i];
        if let Some(need) = stage.needs.iter().find(|n| n.value == name(next)) {
            d = d.label(need.span, format!("`{}` needs `{}`", name(i), name(next)));
        }
    }
    d.help("a stage can only need stages that run before it; remove one of these `needs`")
}

fn no_hosts(stage: &Stage, inventory: &Inventory, source: &Source) -> Diagnostic {
    let mut d = Diagnostic::error(
        "no-hosts",
        format!("stage `{}` selects no hosts", stage.name.value),
    )
    .in_source(source);
    for selector in &stage.on {
        d = d.label(selector.span, "matches no host");
    }
    let tag_group = stage.on.iter().flat_map(|s| s.atoms()).any(|(atom, _)| {
        matches!(atom, crate::selector::Atom::Name(n) if inventory.group(n).is_some_and(|(_, tags)| tags))
    });
    let known: Vec<&str> = inventory
        .hosts()
        .iter()
        .take(8)
        .map(|h| h.name.as_str())
        .collect();
    let help = if tag_group && inventory.tailscale != crate::inventory::Tailscale::Running {
        "this group selects by Tailscale tag, and Tailscale is not running".to_string()
    } else if known.is_empty() {
        "the inventory has no hosts".to_string()
    } else {
        format!(
            "known hosts: {}{}",
            known.join(", "),
            if inventory.hosts().len() > known.len() {
                ", …"
            } else {
                ""
            }
        )
    };
    d.help(help)
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
