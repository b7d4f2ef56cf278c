//! The top of a playbook (`playbook`, `group`, `vars`, `lock`, `stage` nodes) and the checks that
//! look across nodes: unique names, known `needs`, defined variables.

use std::collections::HashMap;
use std::path::Path;

use kdl::{KdlDocument, KdlNode, KdlValue};
use miette::SourceSpan;

use super::node_kind::{NodeKind, TOP};
use super::parser::Parser;
use super::values::value_span;
use crate::diagnostic::{Code, Diagnostic};
use crate::playbook::{Playbook, Spanned, is_var_name};
use crate::suggest::did_you_mean;

/// Built-in variables every step can use; the runner fills them per host.
pub const BUILTIN_VARS: &[&str] = &["host", "address", "user", "port", "stage"];

/// The nodes at the top of a playbook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentNode {
    Playbook,
    Group,
    Vars,
    Lock,
    Stage,
}

impl NodeKind for DocumentNode {
    const PARENTS: &'static [&'static str] = &[TOP];
    const ALL: &'static [Self] = &[
        Self::Playbook,
        Self::Group,
        Self::Vars,
        Self::Lock,
        Self::Stage,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Playbook => "playbook",
            Self::Group => "group",
            Self::Vars => "vars",
            Self::Lock => "lock",
            Self::Stage => "stage",
        }
    }

    fn properties(self) -> &'static [&'static str] {
        match self {
            Self::Lock => &["on", "name", "expiry"],
            Self::Playbook | Self::Group | Self::Vars | Self::Stage => &[],
        }
    }
}

/// The nodes inside `playbook`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaybookNode {
    Description,
}

impl NodeKind for PlaybookNode {
    const PARENTS: &'static [&'static str] = &["playbook"];
    const ALL: &'static [Self] = &[Self::Description];

    fn name(self) -> &'static str {
        match self {
            Self::Description => "description",
        }
    }

    fn properties(self) -> &'static [&'static str] {
        match self {
            Self::Description => &[],
        }
    }
}

impl Parser<'_> {
    /// Reads the nodes of a playbook, then checks what spans several of them.
    pub(super) fn document(&mut self, doc: &KdlDocument, vars: &[(String, String)]) -> Playbook {
        let mut playbook = Playbook {
            source: self.source.clone(),
            name: Path::new(&self.source.name)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            description: None,
            groups: Vec::new(),
            vars: Vec::new(),
            stages: Vec::new(),
            lock: None,
        };
        let mut seen_playbook: Option<SourceSpan> = None;
        let mut seen_lock: Option<SourceSpan> = None;
        let mut seen_vars: Option<SourceSpan> = None;
        // `vars` is read first, wherever it stands, for the placeholders of selectors; its
        // problems are reported where it stands.
        let first_vars = doc.nodes().iter().find(|n| n.name().value() == "vars");
        let mut vars_problems = Vec::new();
        if let Some(node) = first_vars {
            let before = self.found.len();
            self.vars(node, DocumentNode::Vars, &mut playbook.vars);
            vars_problems = self.found.split_off(before);
        }
        self.values = playbook
            .vars
            .iter()
            .map(|(name, value)| (name.value.clone(), value.value.clone()))
            .chain(vars.iter().cloned())
            .collect();
        for node in doc.nodes() {
            let Some(kind) = DocumentNode::named(node.name().value()) else {
                self.unknown_node::<DocumentNode>(node, TOP);
                continue;
            };
            match kind {
                DocumentNode::Playbook => {
                    if let Some(first) = seen_playbook {
                        self.duplicate_node(node, first, "a file holds one `playbook` node");
                        continue;
                    }
                    seen_playbook = Some(node.name().span());
                    self.header(node, kind, &mut playbook);
                }
                DocumentNode::Group => {
                    if let Some(group) = self.group(node) {
                        playbook.groups.push(group);
                    }
                }
                DocumentNode::Vars => {
                    if let Some(first) = seen_vars {
                        self.duplicate_node(node, first, "put every variable in one `vars` block");
                        continue;
                    }
                    seen_vars = Some(node.name().span());
                    self.found.append(&mut vars_problems);
                }
                DocumentNode::Lock => {
                    if let Some(first) = seen_lock {
                        self.duplicate_node(node, first, "a playbook has one deploy lock");
                        continue;
                    }
                    seen_lock = Some(node.name().span());
                    playbook.lock = Some(self.lock(node, kind));
                }
                DocumentNode::Stage => {
                    if let Some(stage) = self.stage(node, kind) {
                        playbook.stages.push(stage);
                    }
                }
            }
        }
        self.check_duplicate_names(playbook.groups.iter().map(|g| &g.name), "group");
        self.check_duplicate_names(playbook.stages.iter().map(|s| &s.name), "stage");
        self.check_needs(&playbook);
        self.check_variables(&playbook, vars);
        if playbook.stages.is_empty() && !self.found.iter().any(Diagnostic::is_error) {
            self.found.push(
                Diagnostic::warning(
                    Code::NoStages,
                    "this playbook has no stages: it does nothing",
                )
                .in_source(self.source)
                .help("add a `stage \"name\" { on \"…\"; run \"…\" }` node"),
            );
        }
        playbook
    }

    /// The `playbook` node: the playbook's name and description.
    fn header(&mut self, node: &KdlNode, kind: DocumentNode, playbook: &mut Playbook) {
        self.props(node, kind);
        if let Some(name) = self.one_string(node, "playbook name") {
            playbook.name = name.value;
        }
        for (kind, child) in self.children::<PlaybookNode>(node) {
            match kind {
                PlaybookNode::Description => {
                    self.props(child, kind);
                    self.no_children(child);
                    playbook.description = self.one_string(child, "description").map(|d| d.value);
                }
            }
        }
    }

    fn vars(
        &mut self,
        node: &KdlNode,
        kind: DocumentNode,
        vars: &mut Vec<(Spanned<String>, Spanned<String>)>,
    ) {
        self.no_args(node);
        self.props(node, kind);
        let Some(children) = node.children() else {
            return;
        };
        let mut seen: HashMap<String, SourceSpan> = HashMap::new();
        for child in children.nodes() {
            let name = Spanned::new(child.name().value().to_string(), child.name().span());
            // A variable may be named like a node that takes properties (`run`): check it as
            // a variable, not as that node.
            self.known_props(child, "variable", &[], &[]);
            self.no_children(child);
            if !is_var_name(&name.value) {
                self.error(
                    Code::BadVariableName,
                    name.span,
                    format!("`{}` is not a valid variable name", name.value),
                    "bad name",
                    "start with a letter or `_`; then letters, digits, `_`, `-` or `.`",
                );
                continue;
            }
            if BUILTIN_VARS.contains(&name.value.as_str()) {
                self.error(
                    Code::BuiltinVariable,
                    name.span,
                    format!("`{}` is a built-in variable", name.value),
                    "set by tsync for each host",
                    format!(
                        "built-ins are {}; pick another name",
                        BUILTIN_VARS.join(", ")
                    ),
                );
                continue;
            }
            if let Some(first) = seen.get(&name.value) {
                let first = *first;
                self.found.push(
                    Diagnostic::error(
                        Code::DuplicateVariable,
                        format!("variable `{}` is set twice", name.value),
                    )
                    .in_source(self.source)
                    .label(name.span, "set again here")
                    .label(first, "first set here")
                    .help("remove one of them"),
                );
                continue;
            }
            let args = self.args(child);
            if args.len() != 1 {
                self.error(
                    Code::WrongArguments,
                    child.span(),
                    format!("variable `{}` needs exactly one value", name.value),
                    format!("{} values given", args.len()),
                    format!("write `{} \"value\"`", name.value),
                );
                continue;
            }
            let value = args[0];
            let text = match value.value() {
                KdlValue::String(s) => s.clone(),
                KdlValue::Integer(i) => i.to_string(),
                KdlValue::Float(f) => f.to_string(),
                other => {
                    self.wrong_type(value, "a string or a number", other);
                    continue;
                }
            };
            seen.insert(name.value.clone(), name.span);
            vars.push((name, Spanned::new(text, value_span(value))));
        }
    }

    pub(super) fn check_duplicate_names<'n>(
        &mut self,
        names: impl Iterator<Item = &'n Spanned<String>>,
        what: &str,
    ) {
        let mut seen: HashMap<&str, SourceSpan> = HashMap::new();
        for name in names {
            if let Some(first) = seen.get(name.value.as_str()) {
                self.found.push(
                    Diagnostic::error(
                        if what == "stage" {
                            Code::DuplicateStage
                        } else {
                            Code::DuplicateGroup
                        },
                        format!("{what} `{}` is defined twice", name.value),
                    )
                    .in_source(self.source)
                    .label(name.span, "defined again here")
                    .label(*first, "first defined here")
                    .help(format!("rename one of them; {what} names must be unique")),
                );
            } else {
                seen.insert(&name.value, name.span);
            }
        }
    }

    fn check_needs(&mut self, playbook: &Playbook) {
        let names: Vec<&str> = playbook.stages.iter().map(|s| s.name.as_str()).collect();
        for stage in &playbook.stages {
            for need in &stage.needs {
                if need.value == stage.name.value {
                    self.error(
                        Code::SelfNeed,
                        need.span,
                        format!("stage `{}` needs itself", need.value),
                        "this stage",
                        "remove it from `needs`",
                    );
                } else if !names.contains(&need.as_str()) {
                    let help = match did_you_mean(&need.value, names.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("stages in this playbook: {}", names.join(", ")),
                    };
                    self.error(
                        Code::UnknownStage,
                        need.span,
                        format!(
                            "stage `{}` needs `{}`, which is not a stage",
                            stage.name.value, need.value
                        ),
                        "unknown stage",
                        help,
                    );
                }
            }
        }
    }

    fn check_variables(&mut self, playbook: &Playbook, known: &[(String, String)]) {
        let mut names: Vec<&str> = BUILTIN_VARS.to_vec();
        names.extend(playbook.vars.iter().map(|(n, _)| n.as_str()));
        names.extend(known.iter().map(|(n, _)| n.as_str()));
        let templates = playbook.stages.iter().flat_map(|stage| {
            stage
                .all_steps()
                .flat_map(|s| s.templates())
                .chain(stage.checks.iter().map(|c| c.template()))
        });
        let mut unknown = Vec::new();
        for template in templates {
            for placeholder in template.placeholders() {
                if !names.contains(&placeholder.name.as_str()) {
                    unknown.push((placeholder.name.clone(), placeholder.span));
                }
            }
        }
        for (name, span) in unknown {
            self.undefined_variable(&name, span, &names);
        }
    }

    /// Reports a placeholder naming none of `names`, suggesting the closest.
    pub(super) fn undefined_variable(&mut self, name: &str, span: SourceSpan, names: &[&str]) {
        let help = match did_you_mean(name, names.iter().copied()) {
            Some(s) => format!("did you mean `{{{{{s}}}}}`?"),
            None => format!("define it in `vars {{ {name} \"…\" }}` or pass `--var {name}=…`"),
        };
        self.error(
            Code::UndefinedVariable,
            span,
            format!("variable `{name}` is not defined"),
            "undefined",
            help,
        );
    }
}
