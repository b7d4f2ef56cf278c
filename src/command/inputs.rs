//! The second step of argument handling: flags → inventory, variables, `--limit`, and for each
//! playbook its typed form and plan, with every diagnostic found on the way.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use crate::cli::{Inputs, Sources};
use crate::diagnostic::{Code, Diagnostic, Diagnostics, Source};
use crate::inventory::ssh_config::Resolved;
use crate::inventory::{Inventory, InventoryOptions, Scope};
use crate::plan::dangers;
use crate::plan::{Plan, Selection};
use crate::playbook::{Parser, Playbook, read_source};
use crate::selector::Selector;

/// Inventory, variables and limit, read once per run and shared by every playbook.
pub struct Prepared {
    pub inventory: Inventory,
    pub vars: Vec<(String, String)>,
    pub limit: Option<(Selector, Source)>,
    pub diagnostics: Diagnostics,
    /// `--allow-dangerous`: the guard warns about dangerous commands instead of refusing.
    allow_dangerous: bool,
}

impl Prepared {
    pub fn new(inputs: &Inputs) -> Prepared {
        let (mut inventory, mut diagnostics) = Inventory::load(&inventory_options(&inputs.sources));
        // `--inventory` replaces the discovered file rather than adding to it, so that a
        // command line says exactly which groups a run sees.
        let files = match inputs.inventory.as_slice() {
            [] => discovered_inventory().into_iter().collect(),
            given => given.to_vec(),
        };
        for path in &files {
            merge_inventory_file(&mut inventory, path, &mut diagnostics);
        }
        let mut vars = Vec::new();
        for var in &inputs.vars {
            match var.split_once('=') {
                Some((name, _)) if crate::playbook::BUILTIN_VARS.contains(&name) => diagnostics
                    .push(
                        Diagnostic::error(
                            Code::BuiltinVariable,
                            format!("`--var {var}` sets a built-in variable"),
                        )
                        .help(format!(
                            "tsync sets {} for each host; pick another name",
                            crate::playbook::BUILTIN_VARS.join(", ")
                        )),
                    ),
                Some((name, value)) if crate::playbook::is_var_name(name) => {
                    vars.push((name.to_string(), value.to_string()));
                }
                _ => diagnostics.push(
                    Diagnostic::error(Code::BadVar, format!("`--var {var}` is not NAME=VALUE"))
                        .help("write `--var app-dir=/srv/web`; names start with a letter or `_`"),
                ),
            }
        }
        let limit = inputs.limit.as_ref().and_then(|text| {
            let source = Source::new("--limit", text.as_str());
            match Selector::parse(text, Some(0), (0, text.len()).into()) {
                Ok(selector) if selector.pick.is_some() => {
                    diagnostics.push(
                        Diagnostic::error(Code::BadSelector, "`--limit` cannot pick hosts by load")
                            .in_source(&source)
                            .label((0, text.len()).into(), "picks by load")
                            .help("`--limit` narrows every stage to the hosts it names; write `least-loaded(…)` in a stage's `on` or in `tsync run`"),
                    );
                    None
                }
                Ok(selector) => Some((selector, source)),
                Err(e) => {
                    diagnostics.push(e.into_diagnostic(&source));
                    None
                }
            }
        });
        Prepared {
            inventory,
            vars,
            limit,
            diagnostics,
            allow_dangerous: false,
        }
    }

    /// Lets dangerous commands of the playbooks through, each with a warning.
    pub fn allow_dangerous(mut self, allow: bool) -> Self {
        self.allow_dangerous = allow;
        self
    }

    pub fn limit(&self) -> Option<(&Selector, &Source)> {
        self.limit.as_ref().map(|(s, src)| (s, src))
    }

    /// Reads, checks and plans one playbook. The plan is None when anything is wrong.
    pub fn plan(&self, path: &Path) -> (Option<Plan>, Diagnostics) {
        self.plan_without(path, None)
    }

    /// [`plan`](Self::plan), leaving out of each stage the hosts that `done` says finished
    /// it (host names by stage name: a retry of a failed run).
    pub fn plan_without(
        &self,
        path: &Path,
        done: Option<&HashMap<String, BTreeSet<String>>>,
    ) -> (Option<Plan>, Diagnostics) {
        let mut diagnostics = Diagnostics::default();
        let source = match read_source(path) {
            Ok(s) => s,
            Err(e) => {
                diagnostics.push(e);
                return (None, diagnostics);
            }
        };
        let base = path.parent().unwrap_or(Path::new("."));
        let (playbook, found) = Parser::new(&source, base).playbook(&self.vars);
        diagnostics.extend(found);
        let Some(playbook) = playbook else {
            return (None, diagnostics);
        };
        let plan = self.plan_parsed(path, &playbook, done, &mut diagnostics);
        // The guard judges the commands as written even when there is no plan, and as
        // filled in for each host when there is one.
        diagnostics.extend(dangers::judge_playbook(
            &playbook,
            plan.as_ref(),
            self.allow_dangerous,
        ));
        (plan.filter(|_| !diagnostics.has_errors()), diagnostics)
    }

    /// Plans a parsed playbook, without the hosts `done` has for each stage; None when
    /// anything is wrong.
    fn plan_parsed(
        &self,
        path: &Path,
        playbook: &Playbook,
        done: Option<&HashMap<String, BTreeSet<String>>>,
        diagnostics: &mut Diagnostics,
    ) -> Option<Plan> {
        // The playbook's groups are laid over the shared inventory, not written into it, so
        // they do not leak into the next playbook.
        let mut scope = Scope::new(&self.inventory);
        diagnostics.extend(scope.define_groups(&playbook.groups, &playbook.source));
        let (selection, found) = Selection::new(playbook, &scope, self.limit());
        diagnostics.extend(found);
        // Commands can only be rendered from a playbook without errors (every variable known).
        if diagnostics.has_errors() {
            return None;
        }
        let Some(mut selection) = selection else {
            // Only `check` can do without hosts; everything else needs them resolved.
            diagnostics.push(
                Diagnostic::error(Code::NoInventory, format!("cannot plan `{}` without any known host", path.display()))
                    .help("pass --ssh-config FILE (or write ~/.ssh/config), --inventory FILE or --tailscale-status FILE"),
            );
            return None;
        };
        if let Some(done) = done {
            selection.leave_out(playbook, &self.inventory, done);
        }
        let facts = self.connection_facts(&selection, diagnostics);
        let (plan, found) = Plan::build(playbook, selection, &self.inventory, &facts, &self.vars);
        diagnostics.extend(found);
        plan
    }

    /// What `ssh -G` says about the selected hosts (address, user, port), looked up only when
    /// the playbook uses it; a host ssh cannot resolve is a warning, and keeps the defaults.
    fn connection_facts(
        &self,
        selection: &Selection,
        diagnostics: &mut Diagnostics,
    ) -> HashMap<usize, Resolved> {
        if !selection.needs_connection_facts() {
            return HashMap::new();
        }
        let (resolved, warnings) = self.inventory.resolve(selection.hosts());
        for w in warnings {
            diagnostics.push(Diagnostic::warning(Code::SshConfig, w));
        }
        resolved
    }
}

/// What the inventory flags ask [`Inventory::load`] to read.
pub(super) fn inventory_options(sources: &Sources) -> InventoryOptions {
    InventoryOptions {
        ssh_config: sources.ssh_config.clone(),
        tailscale_status: sources.tailscale_status.clone(),
        no_tailscale: sources.no_tailscale,
    }
}

/// The file name `tsync init` writes and every command looks for.
pub(super) const INVENTORY_FILE: &str = "inventory.kdl";

/// `inventory.kdl` in the current directory or the nearest parent that has one, as git finds
/// `.git`: playbooks are run from anywhere inside the repo that holds them.
fn discovered_inventory() -> Option<PathBuf> {
    let here = std::env::current_dir().ok()?;
    here.ancestors()
        .map(|dir| dir.join(INVENTORY_FILE))
        .find(|file| file.is_file())
}

/// Reads one inventory file (KDL, `group` nodes only) and merges its groups, after every
/// other source so that they can name any known host.
fn merge_inventory_file(inventory: &mut Inventory, path: &Path, diagnostics: &mut Diagnostics) {
    match read_source(path) {
        Ok(source) => {
            let base = path.parent().unwrap_or(Path::new("."));
            let (groups, found) = Parser::new(&source, base).inventory();
            diagnostics.extend(found);
            diagnostics.extend(inventory.merge_file(&groups, &source));
        }
        Err(e) => diagnostics.push(e),
    }
}
