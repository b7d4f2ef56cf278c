//! The first phase of planning: the order of the stages and the hosts each one runs on.
//! Between it and [`Plan::build`](super::Plan::build), the command layer asks `ssh -G` about
//! the selected hosts when the playbook uses what only ssh knows, so the planner itself
//! starts no process.

use std::collections::{BTreeSet, HashMap};

use super::resolve::resolve_or_report;
use super::stage_graph::StageGraph;
use crate::diagnostic::{Code, Diagnostic, Diagnostics, Source};
use crate::inventory::{Inventory, Scope, Tailscale};
use crate::playbook::{Playbook, Stage};
use crate::selector::{Atom, Selector};

#[derive(Debug)]
pub struct Selection {
    pub(super) graph: StageGraph,
    /// The hosts of each stage, in file order, as indices into the inventory.
    pub(super) stage_hosts: Vec<BTreeSet<usize>>,
    /// Every host some stage runs on.
    pub(super) hosts: BTreeSet<usize>,
    /// The hosts the playbook's `lock on` picks, never narrowed by `--limit`; None when it
    /// names none (the lock is then on every host of the run).
    pub(super) lock_hosts: Option<BTreeSet<usize>>,
    /// Whether a step or a check uses `{{address}}`, `{{user}}` or `{{port}}`.
    needs_connection_facts: bool,
    /// Per stage, hosts left out because they finished it in the run a retry finishes.
    pub(super) done: Vec<BTreeSet<usize>>,
}

impl Selection {
    /// Orders `playbook`'s stages and picks their hosts in `scope`, within `limit`. Every
    /// problem is reported, cycles before selectors: cycles, selectors that name nothing or
    /// match no host. None when anything is wrong, or when no host is known at all.
    pub fn new(
        playbook: &Playbook,
        scope: &Scope,
        limit: Option<(&Selector, &Source)>,
    ) -> (Option<Selection>, Diagnostics) {
        let source = &playbook.source;
        let mut diagnostics = Diagnostics::default();
        let graph = StageGraph::new(playbook)
            .map_err(|cycles| {
                for cycle in cycles {
                    diagnostics.push(cycle);
                }
            })
            .ok();

        if !scope.inventory().has_sources {
            diagnostics.push(
                Diagnostic::warning(Code::NoInventory, "no hosts are known: host names and groups were not checked")
                    .help("tsync reads ~/.ssh/config, sshsync's groups and Tailscale; or pass --ssh-config / --inventory"),
            );
            return (None, diagnostics);
        }

        let limited = limit.and_then(|(selector, limit_source)| {
            resolve_or_report(selector, scope, limit_source, &mut diagnostics)
        });

        let mut stage_hosts: Vec<BTreeSet<usize>> = Vec::new();
        for stage in &playbook.stages {
            let mut hosts = BTreeSet::new();
            let mut failed = false;
            for selector in &stage.on {
                match resolve_or_report(selector, scope, source, &mut diagnostics) {
                    Some(h) => hosts.extend(h),
                    None => failed = true,
                }
            }
            if let Some(d) = misplaced_pick(stage, source) {
                diagnostics.push(d);
            }
            if !failed && hosts.is_empty() && !stage.on.is_empty() {
                diagnostics.push(no_hosts(stage, scope, source));
            }
            if let Some(limited) = &limited {
                hosts = hosts.intersection(limited).copied().collect();
            }
            stage_hosts.push(hosts);
        }

        // Every controller must lock the same hosts, whatever it limits the run to.
        let lock_hosts = playbook.lock.as_ref().and_then(|lock| {
            let selector = lock.on.as_ref()?;
            let hosts = resolve_or_report(selector, scope, source, &mut diagnostics)?;
            if hosts.is_empty() {
                diagnostics.push(
                    Diagnostic::error(Code::NoHosts, "`lock on` picks no host")
                        .in_source(source)
                        .label(selector.span, "no host")
                        .help("name a host or group that exists; the lock must live somewhere"),
                );
            }
            Some(hosts)
        });

        let Some(graph) = graph.filter(|_| !diagnostics.has_errors()) else {
            return (None, diagnostics);
        };
        let needs_connection_facts = playbook
            .stages
            .iter()
            .flat_map(|s| {
                s.all_steps()
                    .flat_map(|st| st.templates())
                    .chain(s.checks.iter().map(|c| c.template()))
            })
            .flat_map(|t| t.placeholders())
            .any(|p| matches!(p.name.as_str(), "address" | "user" | "port"));
        let selection = Selection {
            graph,
            done: vec![BTreeSet::new(); stage_hosts.len()],
            hosts: stage_hosts.iter().flatten().copied().collect(),
            stage_hosts,
            lock_hosts,
            needs_connection_facts,
        };
        (Some(selection), diagnostics)
    }

    /// Leaves out of each stage the hosts that finished it in an earlier run (`done`: host
    /// names by stage name), for `tsync apply --retry`. A `least-loaded(…, N)` stage is done
    /// once N hosts finished it; until then it places again among all its candidates.
    pub fn leave_out(
        &mut self,
        playbook: &Playbook,
        inventory: &Inventory,
        done: &HashMap<String, BTreeSet<String>>,
    ) {
        for (i, stage) in playbook.stages.iter().enumerate() {
            let Some(finished) = done.get(&stage.name.value) else {
                continue;
            };
            let hosts = &mut self.stage_hosts[i];
            let left: BTreeSet<usize> = hosts
                .iter()
                .copied()
                .filter(|&h| finished.contains(&inventory.host(h).name))
                .collect();
            match stage.on.iter().find_map(|s| s.pick) {
                Some(n) if left.len() < n => {}
                _ => {
                    hosts.retain(|h| !left.contains(h));
                    self.done[i] = left;
                }
            }
        }
        self.hosts = self.stage_hosts.iter().flatten().copied().collect();
    }

    /// Every host some stage runs on, as indices into the inventory.
    pub fn hosts(&self) -> &BTreeSet<usize> {
        &self.hosts
    }

    /// Whether rendering needs what `ssh -G` says about [`hosts`](Self::hosts): a step or a
    /// check uses `{{address}}`, `{{user}}` or `{{port}}`.
    pub fn needs_connection_facts(&self) -> bool {
        self.needs_connection_facts
    }
}

/// A command's hosts, and how many of them `least-loaded(…, N)` runs on.
pub type Candidates = (BTreeSet<usize>, Option<usize>);

/// The hosts of `tsync run SELECTOR`, `source` holding the selector's text, and how many of
/// them `least-loaded(…, N)` picks: None, with the reason reported, when the selector is
/// wrong or picks no host within `limit`.
pub fn ad_hoc_hosts(
    selector: &str,
    source: &Source,
    inventory: &Inventory,
    limit: Option<(&Selector, &Source)>,
) -> (Option<Candidates>, Diagnostics) {
    let mut diagnostics = Diagnostics::default();
    let scope = Scope::new(inventory);
    let parsed = match Selector::parse(selector, Some(0), (0, selector.len()).into()) {
        Ok(s) => s,
        Err(e) => {
            diagnostics.push(e.into_diagnostic(source));
            return (None, diagnostics);
        }
    };
    let Some(mut hosts) = resolve_or_report(&parsed, &scope, source, &mut diagnostics) else {
        return (None, diagnostics);
    };
    if let Some((limit, limit_source)) = limit {
        match resolve_or_report(limit, &scope, limit_source, &mut diagnostics) {
            Some(l) => hosts = hosts.intersection(&l).copied().collect(),
            None => return (None, diagnostics),
        }
    }
    if hosts.is_empty() {
        diagnostics.push(
            Diagnostic::error(Code::NoHosts, format!("`{selector}` selects no hosts"))
                .in_source(source)
                .label((0, selector.len()).into(), "matches no host")
                .help(if inventory.has_sources {
                    "check the name; hosts come from your ssh config, Tailscale and groups"
                } else {
                    "no hosts are known: tsync reads ~/.ssh/config (or --ssh-config) and Tailscale"
                }),
        );
        return (None, diagnostics);
    }
    (Some((hosts, parsed.pick)), diagnostics)
}

/// A `least-loaded(…)` stage picks among the hosts of its one `on`, and runs on them all at
/// once: beside another `on` or a `rolling` it would mean two ways of choosing hosts.
fn misplaced_pick(stage: &Stage, source: &Source) -> Option<Diagnostic> {
    let picking = stage.on.iter().find(|s| s.pick.is_some())?;
    let (span, label, help) = if stage.on.len() > 1 {
        let other = stage
            .on
            .iter()
            .find(|s| s.pick.is_none())
            .unwrap_or(picking);
        (
            other.span,
            "another `on` of the same stage",
            "put every candidate inside the parentheses: `on \"least-loaded(web, db)\"`",
        )
    } else if let Some(rolling) = &stage.rolling {
        (
            rolling.span,
            "a rollout over the picked hosts",
            "pick the hosts in one stage and roll out in another, or drop `rolling`",
        )
    } else {
        return None;
    };
    Some(
        Diagnostic::error(
            Code::BadSelector,
            format!(
                "stage `{}` picks its hosts by load and also another way",
                stage.name.value
            ),
        )
        .in_source(source)
        .label(picking.span, "picks the least loaded hosts")
        .label(span, label)
        .help(help),
    )
}

/// "stage `x` selects no hosts", with the likeliest reason.
fn no_hosts(stage: &Stage, scope: &Scope, source: &Source) -> Diagnostic {
    let inventory = scope.inventory();
    let mut d = Diagnostic::error(
        Code::NoHosts,
        format!("stage `{}` selects no hosts", stage.name.value),
    )
    .in_source(source);
    for selector in &stage.on {
        d = d.label(selector.span, "matches no host");
    }
    let tag_group = stage.on.iter().flat_map(|s| s.atoms()).any(
        |(atom, _)| matches!(atom, Atom::Name(n) if scope.group(n).is_some_and(|(_, tags)| tags)),
    );
    let known: Vec<&str> = inventory
        .hosts()
        .iter()
        .take(8)
        .map(|h| h.name.as_str())
        .collect();
    let help = if tag_group && inventory.tailscale != Tailscale::Running {
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
