//! Step nodes (`run`, `script`, `sync`, `pull`, `local`): what each kind reads from its
//! arguments, and what steps share (`timeout`, guards; `cwd` and `env` for commands). A new step kind is a variant of [`StepKind`] and one
//! reader function here, dispatched in [`Parser::step`].

use std::path::PathBuf;
use std::sync::Arc;

use kdl::{KdlEntry, KdlNode};

use super::node_kind::NodeKind;
use super::parser::Parser;
use super::values::value_span;
use crate::diagnostic::Code;
use crate::playbook::{Action, Confirm, Guard, Spanned, Step, StepKind, SyncStep, Template};
use crate::sync::Direction;

/// The nodes inside a step that runs a command (`run`, `script`, `local`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepNode {
    Env,
    Revert,
}

/// The nodes inside a step that moves files (`sync`, `pull`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncNode {
    /// Patterns of paths to leave alone.
    Exclude,
}

/// The names of the step kinds that run a command, or that sync (`syncs`).
const fn step_names<const N: usize>(syncs: bool) -> [&'static str; N] {
    let mut names = [""; N];
    let (mut i, mut n) = (0, 0);
    while i < StepKind::ALL.len() {
        if StepKind::ALL[i].syncs() == syncs {
            names[n] = StepKind::ALL[i].name();
            n += 1;
        }
        i += 1;
    }
    assert!(n == N, "N is the number of such step kinds");
    names
}

const COMMAND_STEPS: [&str; 3] = step_names(false);
const SYNC_STEPS: [&str; 2] = step_names(true);

impl NodeKind for StepNode {
    const PARENTS: &'static [&'static str] = &COMMAND_STEPS;
    const ALL: &'static [Self] = &[Self::Env, Self::Revert];

    fn name(self) -> &'static str {
        match self {
            Self::Env => "env",
            Self::Revert => "revert",
        }
    }

    fn properties(self) -> &'static [&'static str] {
        // `env` takes any variable name; they are checked as names, not against a list.
        match self {
            Self::Env | Self::Revert => &[],
        }
    }
}

impl NodeKind for SyncNode {
    const PARENTS: &'static [&'static str] = &SYNC_STEPS;
    const ALL: &'static [Self] = &[Self::Exclude];

    fn name(self) -> &'static str {
        match self {
            Self::Exclude => "exclude",
        }
    }

    fn properties(self) -> &'static [&'static str] {
        match self {
            Self::Exclude => &[],
        }
    }
}

impl Parser<'_> {
    pub(super) fn step(&mut self, node: &KdlNode, kind: StepKind) -> Option<Step> {
        self.inapplicable_props(node, kind);
        self.known_props(node, kind.name(), kind.properties(), kind.inapplicable());
        let args = self.args(node);
        let action = match kind {
            StepKind::Run => self.run(node, &args),
            StepKind::Script => self.script(node, &args),
            StepKind::Sync => self.sync(node, &args, Direction::Push),
            StepKind::Pull => self.sync(node, &args, Direction::Pull),
            StepKind::Local => self.local(node, &args),
        };
        // A command step with no command says nothing more; a sync step's other problems
        // (its flags, its excludes) are reported along with its paths'.
        if action.is_none() && !kind.syncs() {
            return None;
        }
        // What does not apply to this kind was reported above, and is not read.
        let entry = |name: &str| {
            node.entry(name)
                .filter(|_| !kind.inapplicable().contains(&name))
        };
        let cwd = entry("cwd").and_then(|e| {
            let cwd = self.string(e, "a directory")?;
            Some(Template::plain(
                cwd,
                e.format().map(|f| f.value_repr.as_str()),
            ))
        });
        let timeout = node.entry("timeout").and_then(|e| self.duration(e, false));
        let (env, revert, excludes) = self.step_children(node, kind);
        let within = entry("confirm").and_then(|e| self.duration(e, false));
        let confirm = match (within, revert) {
            (Some(within), Some(revert)) => Some(Confirm { within, revert }),
            (Some(within), None) => {
                self.error(
                    Code::MissingArgument,
                    within.span,
                    "a step with `confirm` needs a `revert` for the host to run when it is not confirmed",
                    "no revert",
                    "add the command that undoes the step: run \"…\" confirm=\"30s\" { revert \"…\" }",
                );
                None
            }
            (None, Some(revert)) if entry("confirm").is_none() => {
                self.error(
                    Code::MissingArgument,
                    revert.text.span,
                    "`revert` runs only for a step with `confirm`",
                    "never run",
                    "add confirm=\"30s\" to the step: the host reverts if tsync cannot reach it again in time",
                );
                None
            }
            (None, _) => None,
        };
        let guards = self.guards(node, kind);
        let unchanged_exit = entry("unchanged-exit")
            .and_then(|e| self.integer(e, 1, 255))
            .map(|code| code as u8);
        let dangerous = node
            .entry("dangerous")
            .filter(|e| self.boolean(e) == Some(true))
            .map(KdlEntry::span);
        let mut action = action?;
        if let Action::Sync(sync) = &mut action {
            sync.excludes = excludes;
        }
        Some(Step {
            action,
            cwd,
            timeout,
            env,
            confirm,
            guards,
            unchanged_exit,
            dangerous,
            span: node.span(),
        })
    }

    /// `creates="PATH"`, `unless="CMD"`, `only-if="CMD"`, in the order they are tested:
    /// the cheapest test first.
    fn guards(&mut self, node: &KdlNode, kind: StepKind) -> Vec<Guard> {
        let creates = self.guard(node, kind, "creates", false).map(Guard::Creates);
        let unless = self.guard(node, kind, "unless", true).map(Guard::Unless);
        let only_if = self.guard(node, kind, "only-if", true).map(Guard::OnlyIf);
        [creates, unless, only_if].into_iter().flatten().collect()
    }

    /// The value of guard `property`: a command is a shell template as `run`'s command is;
    /// a path is filled in and then quoted as one word. Not read for a step of a `kind` it
    /// does not apply to (that was reported).
    fn guard(
        &mut self,
        node: &KdlNode,
        kind: StepKind,
        property: &str,
        command: bool,
    ) -> Option<Template> {
        let entry = node
            .entry(property)
            .filter(|_| !kind.inapplicable().contains(&property))?;
        let value = self.string(entry, if command { "a command" } else { "a path" })?;
        if value.value.trim().is_empty() {
            let (what, example) = if command {
                ("a command", "unless=\"test -L /srv/web/current\"")
            } else {
                ("a path", "creates=\"/srv/web/current\"")
            };
            self.error(
                Code::EmptyValue,
                value.span,
                format!("`{property}` needs {what}"),
                "empty",
                format!("for example: {example}"),
            );
            return None;
        }
        let repr = entry.format().map(|f| f.value_repr.clone());
        if command {
            self.shell_template(value, repr.as_deref())
        } else {
            Some(Template::plain(value, repr.as_deref()))
        }
    }

    /// Reports the properties of other step kinds that mean nothing to this one, with what
    /// to do instead.
    fn inapplicable_props(&mut self, node: &KdlNode, kind: StepKind) {
        for entry in node.entries() {
            let Some(name) = entry.name() else { continue };
            let name_text = name.value();
            if !kind.inapplicable().contains(&name_text) {
                continue;
            }
            let help = match name_text {
                "creates" | "unless" | "only-if" => {
                    "guards test the host, and a `local` step runs on this machine: put the \
                     test in the command (`test -e out/app || make`)"
                }
                "confirm" if kind == StepKind::Local => {
                    "a command on this machine cannot cut off access to a host: confirm-or-revert \
                     is for `run` and `script`"
                }
                "cwd" => {
                    "give the remote path in full; a relative one is relative to the login's home"
                }
                "unchanged-exit" => "a sync says by itself whether it changed anything",
                "confirm" => {
                    "confirm-or-revert is for commands: put it on the `run` step that could cut off access"
                }
                _ => "`delete` and `checksum` belong on a `sync` or `pull` step",
            };
            self.error(
                Code::UnknownProperty,
                name.span(),
                format!("`{name_text}` does not apply to a `{}` step", kind.name()),
                "does not apply",
                help,
            );
        }
    }

    /// `sync "LOCAL" "REMOTE"` or `pull "REMOTE" "LOCAL"`, with `delete` and `checksum`;
    /// both paths and every exclude are templates filled in per host.
    fn sync(&mut self, node: &KdlNode, args: &[&KdlEntry], direction: Direction) -> Option<Action> {
        let (example, names) = match direction {
            Direction::Push => (
                "sync \"site/\" \"/srv/site\"",
                ["local path", "remote path"],
            ),
            Direction::Pull => (
                "pull \"/var/log/app\" \"logs\"",
                ["remote path", "local directory"],
            ),
        };
        let name = node.name().value();
        let delete = node.entry("delete").and_then(|e| self.boolean(e));
        let checksum = node.entry("checksum").and_then(|e| self.boolean(e));
        if args.len() < 2 {
            self.error(
                Code::MissingArgument,
                node.name().span(),
                format!("`{name}` needs a {} and a {}", names[0], names[1]),
                format!("{} missing", names[args.len()]),
                format!("for example: {example}"),
            );
        }
        if let Some(extra) = args.get(2) {
            self.error(
                Code::WrongArguments,
                value_span(extra),
                format!("`{name}` takes two paths"),
                "extra argument",
                "sync one directory per step; add another step for another one",
            );
        }
        let mut paths = args.iter().take(2).zip(names).map(|(entry, what)| {
            let path = self.string(entry, &format!("a {what}"))?;
            if path.value.trim().is_empty() {
                self.error(
                    Code::EmptyValue,
                    path.span,
                    format!("`{name}` needs a {what}, not an empty string"),
                    "empty",
                    format!("for example: {example}"),
                );
                return None;
            }
            Some(Template::plain(
                path,
                entry.format().map(|f| f.value_repr.as_str()),
            ))
        });
        let (first, second) = (paths.next().flatten(), paths.next().flatten());
        let (local, remote) = match direction {
            Direction::Push => (first?, second?),
            Direction::Pull => (second?, first?),
        };
        Some(Action::Sync(SyncStep {
            direction,
            local,
            remote,
            delete: delete.unwrap_or(false),
            checksum: checksum.unwrap_or(false),
            excludes: Vec::new(),
            base: self.base_dir.as_path().into(),
        }))
    }

    /// `run "command"`: one shell command.
    fn run(&mut self, node: &KdlNode, args: &[&KdlEntry]) -> Option<Action> {
        let command = self.command(node, args, "run \"systemctl restart web\"")?;
        Some(Action::Run(command))
    }

    /// The one command string of a `run` or `local` step, as a shell template; `example`
    /// shows a step for the help when it is missing.
    fn command(&mut self, node: &KdlNode, args: &[&KdlEntry], example: &str) -> Option<Template> {
        let Some(first) = args.first() else {
            self.missing_arg(node, "command", example);
            return None;
        };
        let command = self.string(first, "a command")?;
        let kind = node.name().value();
        if let Some(extra) = args.get(1) {
            self.error(
                Code::WrongArguments,
                value_span(extra),
                format!("`{kind}` takes one command string"),
                "extra argument",
                format!("put the whole command in one string: `{kind} \"cp a b\"`"),
            );
        }
        let repr = self.repr_of(node, &command);
        self.shell_template(command, repr.as_deref())
    }

    /// `local "command"`: one shell command for this machine, run in the playbook's
    /// directory (a `cwd` is joined to it when the plan fills it in).
    fn local(&mut self, node: &KdlNode, args: &[&KdlEntry]) -> Option<Action> {
        let command = self.command(node, args, "local \"mkdir -p backups/{{host}}\"")?;
        // `sh -c` cannot be started in "": a playbook named without a directory is in ".".
        let dir = if self.base_dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            self.base_dir.clone()
        };
        Some(Action::Local { command, dir })
    }

    /// `script "path" "arg" …`: the path is recorded here and the file read by the load
    /// phase, which reports a problem reading it at this point of the findings.
    fn script(&mut self, node: &KdlNode, args: &[&KdlEntry]) -> Option<Action> {
        let Some(first) = args.first() else {
            self.missing_arg(node, "script path", "script \"scripts/deploy.sh\"");
            return None;
        };
        let path = self.string(first, "a script path")?;
        self.scripts.push(self.found.len());
        let args = args[1..]
            .iter()
            .filter_map(|a| {
                let arg = self.string(a, "a script argument")?;
                Some(Template::plain(
                    arg,
                    a.format().map(|f| f.value_repr.as_str()),
                ))
            })
            .collect();
        Some(Action::Script {
            path: Spanned::new(PathBuf::from(path.value), path.span),
            body: Arc::from(""),
            args,
        })
    }

    /// The children of a step: its `env` variables, set for it alone, and its `revert` (for
    /// a command); its `exclude` patterns (for a sync). A child of the other kind of step
    /// is reported as not applying here.
    fn step_children(&mut self, node: &KdlNode, kind: StepKind) -> StepChildren {
        let mut children = (Vec::new(), None, Vec::new());
        for child in node.children().map(|c| c.nodes()).unwrap_or_default() {
            let name = child.name().value();
            let (step_node, sync_node) = (StepNode::named(name), SyncNode::named(name));
            match (kind.syncs(), step_node, sync_node) {
                (false, Some(step_node), _) => self.command_child(child, step_node, &mut children),
                (true, _, Some(SyncNode::Exclude)) => self.excludes(child, &mut children.2),
                (true, Some(_), _) | (false, _, Some(_)) => {
                    let help = if kind.syncs() {
                        "a sync runs no command: leave it out"
                    } else {
                        "`exclude` belongs inside a `sync` or `pull` step"
                    };
                    self.error(
                        Code::UnknownNode,
                        child.name().span(),
                        format!("`{name}` does not apply to a `{}` step", kind.name()),
                        "does not apply",
                        help,
                    );
                }
                (false, None, None) => self.unknown_node::<StepNode>(child, kind.name()),
                (true, None, None) => self.unknown_node::<SyncNode>(child, kind.name()),
            }
        }
        children
    }

    /// `exclude "PATTERN" …`: gitignore patterns, each a template.
    fn excludes(&mut self, child: &KdlNode, excludes: &mut Vec<Template>) {
        self.no_children(child);
        self.props(child, SyncNode::Exclude);
        for pattern in self.strings(child, "pattern") {
            if pattern.value.trim().is_empty() {
                self.error(
                    Code::EmptyValue,
                    pattern.span,
                    "an empty pattern excludes nothing",
                    "empty",
                    "write a gitignore pattern such as \"*.log\" or \"target/\"",
                );
                continue;
            }
            let repr = self.repr_of(child, &pattern);
            excludes.push(Template::plain(pattern, repr.as_deref()));
        }
    }

    /// A child of a command step: `env` or `revert`.
    fn command_child(&mut self, child: &KdlNode, kind: StepNode, children: &mut StepChildren) {
        let (env, revert, _) = children;
        match kind {
            StepNode::Revert => {
                self.no_children(child);
                self.props(child, kind);
                let Some(command) = self.one_string(child, "revert command") else {
                    return;
                };
                let repr = self.repr_of(child, &command);
                *revert = self.shell_template(command, repr.as_deref());
            }
            StepNode::Env => {
                self.no_args(child);
                self.no_children(child);
                for entry in child.entries().iter().filter(|e| e.name().is_some()) {
                    let name = entry
                        .name()
                        .map(|n| n.value().to_string())
                        .unwrap_or_default();
                    let name_span = entry.name().map(|n| n.span()).unwrap_or(entry.span());
                    if !is_env_name(&name) {
                        self.error(
                            Code::BadEnvName,
                            name_span,
                            format!("`{name}` is not a valid environment variable name"),
                            "bad name",
                            "use letters, digits and `_`, not starting with a digit",
                        );
                        continue;
                    }
                    if let Some(value) = self.string(entry, "the value") {
                        let repr = entry.format().map(|f| f.value_repr.clone());
                        env.push((
                            Spanned::new(name, name_span),
                            Template::plain(value, repr.as_deref()),
                        ));
                    }
                }
            }
        }
    }
}

/// What a step's children give it: `env` variables, a `revert`, `exclude` patterns.
type StepChildren = (
    Vec<(Spanned<String>, Template)>,
    Option<Template>,
    Vec<Template>,
);

fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
