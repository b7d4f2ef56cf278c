//! Step nodes (`run`, `script`): what each kind reads from its arguments, and what all steps
//! share (`cwd`, `timeout`, `env`). A new step kind is a variant of [`StepKind`] and one
//! reader function here, dispatched in [`Parser::step`].

use std::path::PathBuf;
use std::sync::Arc;

use kdl::{KdlEntry, KdlNode};

use super::node_kind::NodeKind;
use super::parser::Parser;
use super::values::value_span;
use crate::diagnostic::Code;
use crate::playbook::{Action, Confirm, Guard, Spanned, Step, StepKind, Template};

/// The nodes inside a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepNode {
    Env,
    Revert,
}

/// The names of the step kinds: every step takes the same children.
const STEP_NAMES: [&str; StepKind::ALL.len()] = {
    let mut names = [""; StepKind::ALL.len()];
    let mut i = 0;
    while i < names.len() {
        names[i] = StepKind::ALL[i].name();
        i += 1;
    }
    names
};

impl NodeKind for StepNode {
    const PARENTS: &'static [&'static str] = &STEP_NAMES;
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

impl Parser<'_> {
    pub(super) fn step(&mut self, node: &KdlNode, kind: StepKind) -> Option<Step> {
        self.known_props(node, kind.name(), kind.properties());
        let args = self.args(node);
        let action = match kind {
            StepKind::Run => self.run(node, &args),
            StepKind::Script => self.script(node, &args),
        }?;
        let cwd = node.entry("cwd").and_then(|e| {
            let cwd = self.string(e, "a directory")?;
            Some(Template::plain(
                cwd,
                e.format().map(|f| f.value_repr.as_str()),
            ))
        });
        let timeout = node.entry("timeout").and_then(|e| self.duration(e, false));
        let (env, revert) = self.step_children(node);
        let within = node.entry("confirm").and_then(|e| self.duration(e, false));
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
            (None, Some(revert)) if node.entry("confirm").is_none() => {
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
        let guards = self.guards(node);
        let unchanged_exit = node
            .entry("unchanged-exit")
            .and_then(|e| self.integer(e, 1, 255))
            .map(|code| code as u8);
        Some(Step {
            action,
            cwd,
            timeout,
            env,
            confirm,
            guards,
            unchanged_exit,
            span: node.span(),
        })
    }

    /// `creates="PATH"`, `unless="CMD"`, `only-if="CMD"`, in the order they are tested:
    /// the cheapest test first.
    fn guards(&mut self, node: &KdlNode) -> Vec<Guard> {
        let creates = self.guard(node, "creates", false).map(Guard::Creates);
        let unless = self.guard(node, "unless", true).map(Guard::Unless);
        let only_if = self.guard(node, "only-if", true).map(Guard::OnlyIf);
        [creates, unless, only_if].into_iter().flatten().collect()
    }

    /// The value of guard `property`: a command is a shell template as `run`'s command is;
    /// a path is filled in and then quoted as one word.
    fn guard(&mut self, node: &KdlNode, property: &str, command: bool) -> Option<Template> {
        let entry = node.entry(property)?;
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

    /// `run "command"`: one shell command.
    fn run(&mut self, node: &KdlNode, args: &[&KdlEntry]) -> Option<Action> {
        let Some(first) = args.first() else {
            self.missing_arg(node, "command", "run \"systemctl restart web\"");
            return None;
        };
        let command = self.string(first, "a command")?;
        if let Some(extra) = args.get(1) {
            self.error(
                Code::WrongArguments,
                value_span(extra),
                "`run` takes one command string",
                "extra argument",
                "put the whole command in one string: `run \"cp a b\"`",
            );
        }
        let repr = self.repr_of(node, &command);
        Some(Action::Run(self.shell_template(command, repr.as_deref())?))
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

    /// The children of a step: its `env` variables, set for it alone, and its `revert`.
    fn step_children(
        &mut self,
        node: &KdlNode,
    ) -> (Vec<(Spanned<String>, Template)>, Option<Template>) {
        let mut env = Vec::new();
        let mut revert = None;
        for (kind, child) in self.children::<StepNode>(node) {
            match kind {
                StepNode::Revert => {
                    self.no_children(child);
                    self.props(child, kind);
                    let Some(command) = self.one_string(child, "revert command") else {
                        continue;
                    };
                    let repr = self.repr_of(child, &command);
                    revert = self.shell_template(command, repr.as_deref());
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
        (env, revert)
    }
}

fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
