//! KDL text → typed [`Playbook`], collecting every problem instead of stopping at the first.
//!
//! The mapping is written by hand (kdl's serde layer loses spans and mis-fills missing
//! fields): each node kind has a function that reads its entries, reports what is wrong with
//! a label on the exact entry, and returns what it could make of the rest, so that one run
//! shows all the mistakes of a file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kdl::{KdlDocument, KdlEntry, KdlNode, KdlValue};
use miette::SourceSpan;

use super::amount::Amount;
use super::check::{Check, Probe};
use super::group::Group;
use super::playbook::Playbook;
use super::prescan::{MAX_DEPTH, Refusal, prescan};
use super::rolling::Rolling;
use super::spanned::Spanned;
use super::stage::Stage;
use super::step::{Action, Step};
use super::template::{Template, is_var_name};
use crate::diagnostic::{Diagnostic, Diagnostics, Source};
use crate::limited_read::{LimitedReadError, read_limited, size};
use crate::selector::Selector;
use crate::suggest::did_you_mean;

/// Which children each node accepts. `schema/playbook.kdl` lists the same names, and a test
/// keeps the two in agreement.
pub const CHILDREN: &[(&str, &[&str])] = &[
    ("(top)", &["playbook", "group", "vars", "stage"]),
    ("playbook", &["description"]),
    ("group", &["hosts", "tag"]),
    (
        "stage",
        &[
            "description",
            "needs",
            "on",
            "run",
            "script",
            "check",
            "rolling",
        ],
    ),
    ("run", &["env"]),
    ("script", &["env"]),
    (
        "check",
        &["http", "tcp", "cmd", "retries", "interval", "timeout"],
    ),
];

/// The properties each node accepts (`env` takes any variable name).
pub const PROPERTIES: &[(&str, &[&str])] = &[
    ("run", &["cwd", "timeout"]),
    ("script", &["cwd", "timeout"]),
    ("http", &["status"]),
    ("rolling", &["batch", "max-fail", "pause"]),
];

/// Larger playbooks (and inventory files and scripts) are refused, unread past the limit:
/// nobody writes one, and it bounds the time and memory a stray file can cost.
pub const MAX_BYTES: usize = 8 << 20;

/// The longest duration accepted anywhere (timeouts, intervals, pauses, and the flags):
/// longer ones are typos (`70years`), and huge ones overflowed deadline arithmetic.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// Built-in variables every step can use; the runner fills them per host.
pub const BUILTIN_VARS: &[&str] = &["host", "address", "user", "port", "stage"];

pub struct Parser<'a> {
    source: &'a Source,
    base_dir: PathBuf,
    diagnostics: Diagnostics,
}

/// Reads `path` as UTF-8 text, refusing what cannot be a playbook before parsing it.
pub fn read_source(path: &Path) -> Result<Source, Diagnostic> {
    let name = path.display().to_string();
    let bytes = read_limited(path, MAX_BYTES as u64).map_err(|e| match e {
        LimitedReadError::TooLarge { .. } => Diagnostic::error(
            "too-large",
            format!("`{name}` is larger than a playbook can be"),
        )
        .help(format!(
            "playbooks are limited to {}",
            size(MAX_BYTES as u64)
        )),
        LimitedReadError::Io(e) => Diagnostic::error("io", format!("cannot read `{name}`: {e}"))
            .help(if e.kind() == std::io::ErrorKind::NotFound {
                "check the path; playbooks are usually in playbooks/"
            } else {
                "check the file's permissions"
            }),
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        Diagnostic::error(
            "not-utf8",
            format!(
                "`{name}` is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
        .help("playbooks are KDL text files; is this the right file?")
    })?;
    Ok(Source::new(name, text))
}

impl<'a> Parser<'a> {
    /// `base_dir` is where `script` paths are looked up: the playbook's directory.
    pub fn new(source: &'a Source, base_dir: &Path) -> Self {
        Parser {
            source,
            base_dir: base_dir.to_path_buf(),
            diagnostics: Diagnostics::default(),
        }
    }

    /// Parses a playbook. `known_vars` are the variables given on the command line; the
    /// playbook's own and the built-ins are added. The playbook is returned whenever the KDL
    /// itself was readable, with as much as could be made of it, so that later checks can
    /// still report their own findings.
    pub fn playbook(mut self, known_vars: &[String]) -> (Option<Playbook>, Diagnostics) {
        let Some(doc) = self.document() else {
            return (None, self.diagnostics);
        };
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
        };
        let mut seen_playbook: Option<SourceSpan> = None;
        let mut seen_vars: Option<SourceSpan> = None;
        for node in doc.nodes() {
            match node.name().value() {
                "playbook" => {
                    if let Some(first) = seen_playbook {
                        self.duplicate_node(node, first, "a file holds one `playbook` node");
                        continue;
                    }
                    seen_playbook = Some(node.name().span());
                    self.no_props(node);
                    if let Some(name) = self.one_string(node, "playbook name") {
                        playbook.name = name.value;
                    }
                    for child in self.children(node, "playbook") {
                        if child.name().value() == "description" {
                            self.no_props(child);
                            self.no_children(child);
                            playbook.description =
                                self.one_string(child, "description").map(|d| d.value);
                        }
                    }
                }
                "group" => {
                    if let Some(group) = self.group(node) {
                        playbook.groups.push(group);
                    }
                }
                "vars" => {
                    if let Some(first) = seen_vars {
                        self.duplicate_node(node, first, "put every variable in one `vars` block");
                        continue;
                    }
                    seen_vars = Some(node.name().span());
                    self.vars(node, &mut playbook.vars);
                }
                "stage" => {
                    if let Some(stage) = self.stage(node) {
                        playbook.stages.push(stage);
                    }
                }
                _ => self.unknown_node(node, "(top)"),
            }
        }
        self.check_duplicate_names(playbook.groups.iter().map(|g| &g.name), "group");
        self.check_duplicate_names(playbook.stages.iter().map(|s| &s.name), "stage");
        self.check_needs(&playbook);
        self.check_variables(&playbook, known_vars);
        if playbook.stages.is_empty() && !self.diagnostics.has_errors() {
            self.diagnostics.push(
                Diagnostic::warning("no-stages", "this playbook has no stages: it does nothing")
                    .in_source(self.source)
                    .help("add a `stage \"name\" { on \"…\"; run \"…\" }` node"),
            );
        }
        (Some(playbook), self.diagnostics)
    }

    /// Parses an inventory file: `group` nodes only.
    pub fn inventory(mut self) -> (Vec<Group>, Diagnostics) {
        let Some(doc) = self.document() else {
            return (Vec::new(), self.diagnostics);
        };
        let mut groups = Vec::new();
        for node in doc.nodes() {
            if node.name().value() == "group" {
                groups.extend(self.group(node));
            } else {
                self.error(
                    "unknown-node",
                    node.name().span(),
                    format!("unknown node `{}` in inventory", node.name().value()),
                    "not allowed in an inventory file",
                    "an inventory file holds only `group` nodes",
                );
            }
        }
        self.check_duplicate_names(groups.iter().map(|g| &g.name), "group");
        (groups, self.diagnostics)
    }

    fn document(&mut self) -> Option<KdlDocument> {
        if let Err(refusal) = prescan(&self.source.text) {
            self.refuse(refusal);
            return None;
        }
        match parse_kdl(&self.source.text) {
            Ok(doc) => Some(doc),
            Err(error) => {
                for d in error.diagnostics {
                    let message = d.message.unwrap_or_else(|| "invalid KDL".into());
                    let help = d.help.unwrap_or_else(|| {
                        "tsync reads KDL 2.0: strings in \"quotes\", booleans as #true/#false, \
                         children in { }"
                            .into()
                    });
                    self.diagnostics.push(
                        Diagnostic::error("kdl-syntax", lowercase_first(&message))
                            .in_source(self.source)
                            .label(d.span, d.label.unwrap_or_default())
                            .help(help),
                    );
                }
                None
            }
        }
    }

    /// Reports text the KDL parser must not be given (see [`prescan`]).
    fn refuse(&mut self, refusal: Refusal) {
        let (code, span, message, label, help) = match refusal {
            Refusal::DeepBlocks(at) => (
                "too-deep",
                (at, 1).into(),
                format!("blocks nest deeper than {MAX_DEPTH} levels"),
                "this block is too deep",
                "a playbook needs at most three levels of `{ … }`; is a `}` missing?",
            ),
            Refusal::DeepComments(at) => (
                "too-deep",
                (at, 2).into(),
                format!("`/* */` comments nest deeper than {MAX_DEPTH} levels"),
                "this comment is too deep",
                "comments nest: each `/*` needs its own `*/`; is one missing?",
            ),
            Refusal::LongSlashdash(at) => (
                "too-deep",
                (at, 2).into(),
                format!("more than {MAX_DEPTH} `/-` in one node"),
                "one too many",
                "one `/-` comments out the node, value or block after it; remove the others",
            ),
            Refusal::UnclosedString(span) => (
                "kdl-syntax",
                span,
                "unclosed string".to_string(),
                "this string is never closed",
                "end it with a quote on the same line; for text of several lines, put `\"\"\"` \
                 on lines of their own around it",
            ),
            Refusal::UnclosedComment(at) => (
                "kdl-syntax",
                (at, 2).into(),
                "unclosed `/*` comment".to_string(),
                "this comment is never closed",
                "end the comment with `*/`",
            ),
            Refusal::BadEscape(span) => (
                "kdl-syntax",
                span,
                "unknown escape in a string".to_string(),
                "not an escape KDL knows",
                "escapes are \\\" \\\\ \\n \\t \\r \\b \\f \\s and \\u{1F600}; for a literal \\, \\
                 write \\\\ or use a raw string: #\"…\"#",
            ),
            Refusal::Disallowed(at, c) => (
                "kdl-syntax",
                (at, c.len_utf8()).into(),
                format!("character U+{:04X} is not allowed in KDL", u32::from(c)),
                "not allowed, even in a string",
                "remove it; to put a control character in a value, escape it: \"\\u{1b}\"",
            ),
            Refusal::Glued(at) => (
                "kdl-syntax",
                (at, 1).into(),
                "no space before this value".to_string(),
                "glued to what comes before",
                "KDL needs a space between a node's name, values and properties: \
                 `run \"make\" cwd=\"/srv\"`",
            ),
            Refusal::StrayClose(at) => (
                "kdl-syntax",
                (at, 1).into(),
                "`}` closes no block".to_string(),
                "no `{` before it is still open",
                "remove it, or add the `{` it was meant to close",
            ),
            Refusal::Unexpected(at, c) => (
                "kdl-syntax",
                (at, c.len_utf8()).into(),
                if c.is_control() || c.is_whitespace() {
                    "unexpected line break".to_string()
                } else {
                    format!("unexpected `{c}`")
                },
                "not allowed here",
                match c {
                    '/' => "comments are `// …` and `/* … */`; `/-` comments out what follows it",
                    '\\' => "`\\` continues a node on the next line, so nothing may follow it",
                    '=' => "`=` joins a property's name and value: `run \"make\" timeout=\"10m\"`",
                    // The rest are inside or after a type annotation, or after a bare `=`.
                    _ => {
                        "a property needs a value after `=`, and `( )` holds one type before a \
                          value: `(t)\"x\"`"
                    }
                },
            ),
            Refusal::BadMultiline(span) => (
                "kdl-syntax",
                span,
                "text follows `\"\"\"` on its line".to_string(),
                "a multi-line string starts here",
                "start the text on the next line; for text on one line, use one quote: \"…\"",
            ),
        };
        self.error(code, span, message, label, help);
    }

    // ----- node kinds -------------------------------------------------------------------

    fn group(&mut self, node: &KdlNode) -> Option<Group> {
        self.no_props(node);
        let mut args = self.args(node).into_iter();
        let Some(name) = args.next() else {
            self.missing_arg(node, "group name", "group \"web\" \"web-1\" \"web-2\"");
            return None;
        };
        let name = self.string(name, "group name")?;
        self.check_group_name(&name);
        let mut group = Group {
            name,
            hosts: args
                .filter_map(|a| self.string(a, "host name or pattern"))
                .collect(),
            tags: Vec::new(),
            span: node.span(),
        };
        for child in self.children(node, "group") {
            self.no_props(child);
            self.no_children(child);
            let values = self.strings(child, "at least one value");
            match child.name().value() {
                "hosts" => group.hosts.extend(values),
                "tag" => group.tags.extend(values.into_iter().map(|mut t| {
                    if !t.value.starts_with("tag:") {
                        t.value = format!("tag:{}", t.value);
                    }
                    t
                })),
                _ => unreachable!("children() only yields known nodes"),
            }
        }
        if group.hosts.is_empty() && group.tags.is_empty() {
            self.error(
                "empty-group",
                group.name.span,
                format!("group `{}` has no members", group.name.value),
                "empty group",
                "list hosts after the name, or add `hosts \"web-*\"` or `tag \"tag:web\"` inside",
            );
        }
        Some(group)
    }

    fn check_group_name(&mut self, name: &Spanned<String>) {
        let reserved = ["all", "online", "offline"];
        let bad = if reserved.contains(&name.value.as_str()) {
            Some("it is a selector keyword")
        } else if name.value.starts_with("tag:") || name.value.starts_with("os:") {
            Some("`tag:` and `os:` prefixes belong to Tailscale facts")
        } else if name.value.is_empty()
            || !name
                .value
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '@' | '+'))
        {
            Some("a selector could not name it")
        } else {
            None
        };
        if let Some(why) = bad {
            self.error(
                "bad-group-name",
                name.span,
                format!("`{}` cannot be a group name: {why}", name.value),
                "bad group name",
                "use letters, digits, `-`, `_` and `.`",
            );
        }
    }

    fn vars(&mut self, node: &KdlNode, vars: &mut Vec<(Spanned<String>, Spanned<String>)>) {
        self.no_args(node);
        self.no_props(node);
        let Some(children) = node.children() else {
            return;
        };
        let mut seen: HashMap<String, SourceSpan> = HashMap::new();
        for child in children.nodes() {
            let name = Spanned::new(child.name().value().to_string(), child.name().span());
            // A variable may be named like a node that takes properties (`run`): check it as
            // a variable, not as that node.
            self.known_props(child, "variable");
            self.no_children(child);
            if !is_var_name(&name.value) {
                self.error(
                    "bad-variable-name",
                    name.span,
                    format!("`{}` is not a valid variable name", name.value),
                    "bad name",
                    "start with a letter or `_`; then letters, digits, `_`, `-` or `.`",
                );
                continue;
            }
            if BUILTIN_VARS.contains(&name.value.as_str()) {
                self.error(
                    "builtin-variable",
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
                self.diagnostics.push(
                    Diagnostic::error(
                        "duplicate-variable",
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
                    "wrong-arguments",
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

    fn stage(&mut self, node: &KdlNode) -> Option<Stage> {
        self.no_props(node);
        let name = self.one_string(node, "stage name")?;
        let mut stage = Stage {
            name,
            needs: Vec::new(),
            on: Vec::new(),
            steps: Vec::new(),
            checks: Vec::new(),
            rolling: None,
            span: node.span(),
        };
        let mut on_seen = false;
        for child in self.children(node, "stage") {
            match child.name().value() {
                "description" => {
                    self.no_props(child);
                    self.no_children(child);
                    self.one_string(child, "description");
                }
                "needs" => {
                    self.no_props(child);
                    self.no_children(child);
                    let needs = self.strings(child, "a stage name");
                    stage.needs.extend(needs);
                }
                "on" => {
                    on_seen = true;
                    self.no_props(child);
                    self.no_children(child);
                    for selector in self.strings(child, "a selector") {
                        let repr = self.repr_of(child, &selector);
                        match Selector::parse(
                            &selector.value,
                            text_offset(&selector, repr.as_deref()),
                            selector.span,
                        ) {
                            Ok(s) => stage.on.push(s),
                            Err(e) => self.diagnostics.push(e.into_diagnostic(self.source)),
                        }
                    }
                }
                "run" | "script" => {
                    if let Some(step) = self.step(child) {
                        stage.steps.push(step);
                    }
                }
                "check" => {
                    if let Some(check) = self.check(child) {
                        stage.checks.push(check);
                    }
                }
                "rolling" => {
                    if let Some(previous) = &stage.rolling {
                        let first = previous.span;
                        self.duplicate_node(child, first, "a stage rolls out one way");
                    } else {
                        stage.rolling = self.rolling(child);
                    }
                }
                _ => unreachable!("children() only yields known nodes"),
            }
        }
        if !on_seen {
            self.error(
                "missing-on",
                stage.name.span,
                format!(
                    "stage `{}` does not say which hosts it runs on",
                    stage.name.value
                ),
                "no `on` in this stage",
                "add `on \"group-name\"` (or `on \"all\"`) inside the stage",
            );
        }
        Some(stage)
    }

    fn step(&mut self, node: &KdlNode) -> Option<Step> {
        let kind = node.name().value();
        self.known_props(node, kind);
        let args = self.args(node);
        let Some(first) = args.first() else {
            let example = if kind == "run" {
                "run \"systemctl restart web\""
            } else {
                "script \"scripts/deploy.sh\""
            };
            self.missing_arg(
                node,
                if kind == "run" {
                    "command"
                } else {
                    "script path"
                },
                example,
            );
            return None;
        };
        let first = self.string(
            first,
            if kind == "run" {
                "a command"
            } else {
                "a script path"
            },
        )?;
        let action = if kind == "run" {
            if args.len() > 1 {
                self.error(
                    "wrong-arguments",
                    value_span(args[1]),
                    "`run` takes one command string",
                    "extra argument",
                    "put the whole command in one string: `run \"cp a b\"`",
                );
            }
            let repr = self.repr_of(node, &first);
            Action::Run(self.shell_template(first, repr.as_deref())?)
        } else {
            let path = self.base_dir.join(&first.value);
            let body = match read_limited(&path, MAX_BYTES as u64)
                .map_err(|e| e.to_string())
                .and_then(|b| String::from_utf8(b).map_err(|_| "it is not UTF-8 text".into()))
            {
                Ok(body) => body,
                Err(e) => {
                    self.error(
                        "missing-script",
                        first.span,
                        format!("cannot read script `{}`: {e}", path.display()),
                        "this script",
                        "script paths are relative to the playbook's directory",
                    );
                    String::new()
                }
            };
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
            Action::Script {
                path: Spanned::new(path, first.span),
                body,
                args,
            }
        };
        let cwd = node.entry("cwd").and_then(|e| {
            let cwd = self.string(e, "a directory")?;
            Some(Template::plain(
                cwd,
                e.format().map(|f| f.value_repr.as_str()),
            ))
        });
        let timeout = node.entry("timeout").and_then(|e| self.duration(e, false));
        let mut env = Vec::new();
        for child in self.children(node, kind) {
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
                        "bad-env-name",
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
        Some(Step {
            action,
            cwd,
            timeout,
            env,
            span: node.span(),
        })
    }

    fn check(&mut self, node: &KdlNode) -> Option<Check> {
        self.no_props(node);
        let name = self.one_string(node, "check name")?;
        let mut probe: Option<(Probe, SourceSpan)> = None;
        let mut retries = Check::DEFAULT_RETRIES;
        let mut interval = Check::DEFAULT_INTERVAL;
        let mut timeout = Check::DEFAULT_TIMEOUT;
        for child in self.children(node, "check") {
            let kind = child.name().value();
            self.no_children(child);
            if matches!(kind, "http" | "tcp" | "cmd") {
                self.known_props(child, kind);
                let Some(text) = self.one_string(child, "probe target") else {
                    continue;
                };
                let repr = self.repr_of(child, &text);
                let made = match kind {
                    "http" => {
                        let status = child
                            .entry("status")
                            .and_then(|e| self.status(e))
                            .unwrap_or(200);
                        Some(Probe::Http {
                            url: Template::plain(text, repr.as_deref()),
                            status,
                        })
                    }
                    "tcp" => Some(Probe::Tcp {
                        address: Template::plain(text, repr.as_deref()),
                    }),
                    _ => self
                        .shell_template(text, repr.as_deref())
                        .map(|command| Probe::Cmd { command }),
                };
                if let Some((_, first)) = &probe {
                    let first = *first;
                    self.diagnostics.push(
                        Diagnostic::error("two-probes", "a check probes one thing")
                            .in_source(self.source)
                            .label(child.name().span(), "second probe")
                            .label(first, "first probe")
                            .help("split it into two `check` nodes"),
                    );
                } else if let Some(made) = made {
                    probe = Some((made, child.name().span()));
                }
                continue;
            }
            self.no_props(child);
            match kind {
                "retries" => {
                    if let Some(n) = self.one_integer(child, 0, 10_000) {
                        retries = n;
                    }
                }
                "interval" | "timeout" => {
                    let args = self.args(child);
                    if args.len() != 1 {
                        self.missing_arg(child, "duration", &format!("{kind} \"2s\""));
                    } else if let Some(d) = self.duration(args[0], kind == "interval") {
                        if kind == "interval" {
                            interval = d.value;
                        } else {
                            timeout = d.value;
                        }
                    }
                }
                _ => unreachable!("children() only yields known nodes"),
            }
        }
        let Some((probe, _)) = probe else {
            self.error(
                "missing-probe",
                name.span,
                format!("check `{}` does not say what to probe", name.value),
                "no probe",
                "add one of `http \"http://127.0.0.1:8080/health\"`, `tcp \"127.0.0.1:5432\"` or `cmd \"systemctl is-active web\"`",
            );
            return None;
        };
        Some(Check {
            name,
            probe,
            retries,
            interval,
            timeout,
            span: node.span(),
        })
    }

    fn rolling(&mut self, node: &KdlNode) -> Option<Rolling> {
        self.no_args(node);
        self.no_children(node);
        self.known_props(node, "rolling");
        let amount = |this: &mut Self, key: &str, default: Amount, min: u32| match node.entry(key) {
            None => Some(default),
            Some(entry) => this.amount(entry, min),
        };
        let batch = amount(self, "batch", Amount::Count(1), 1);
        let max_fail = amount(self, "max-fail", Amount::Count(0), 0);
        let pause = match node.entry("pause") {
            None => Some(Duration::ZERO),
            Some(e) => self.duration(e, true).map(|d| d.value),
        };
        let (batch, max_fail, pause) = (batch?, max_fail?, pause?);
        if batch == Amount::Percent(0.0) {
            let at = node.entry("batch").map(value_span).unwrap_or(node.span());
            self.error(
                "bad-amount",
                at,
                "a batch of 0% never finishes",
                "0%",
                "use a positive count or percentage",
            );
        }
        Some(Rolling {
            batch,
            max_fail,
            pause,
            span: node.span(),
        })
    }

    // ----- cross-node checks --------------------------------------------------------------

    fn check_duplicate_names<'n>(
        &mut self,
        names: impl Iterator<Item = &'n Spanned<String>>,
        what: &str,
    ) {
        let mut seen: HashMap<&str, SourceSpan> = HashMap::new();
        for name in names {
            if let Some(first) = seen.get(name.value.as_str()) {
                self.diagnostics.push(
                    Diagnostic::error(
                        if what == "stage" {
                            "duplicate-stage"
                        } else {
                            "duplicate-group"
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
                        "self-need",
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
                        "unknown-stage",
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

    fn check_variables(&mut self, playbook: &Playbook, known: &[String]) {
        let mut names: Vec<&str> = BUILTIN_VARS.to_vec();
        names.extend(playbook.vars.iter().map(|(n, _)| n.as_str()));
        names.extend(known.iter().map(String::as_str));
        let templates = playbook.stages.iter().flat_map(|stage| {
            stage
                .steps
                .iter()
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
            let help = match did_you_mean(&name, names.iter().copied()) {
                Some(s) => format!("did you mean `{{{{{s}}}}}`?"),
                None => format!("define it in `vars {{ {name} \"…\" }}` or pass `--var {name}=…`"),
            };
            self.error(
                "undefined-variable",
                span,
                format!("variable `{name}` is not defined"),
                "undefined",
                help,
            );
        }
    }

    // ----- entries ------------------------------------------------------------------------

    fn args<'n>(&self, node: &'n KdlNode) -> Vec<&'n KdlEntry> {
        node.entries()
            .iter()
            .filter(|e| e.name().is_none())
            .collect()
    }

    /// The known children of `node`; unknown ones are reported and left out.
    fn children<'n>(&mut self, node: &'n KdlNode, context: &str) -> Vec<&'n KdlNode> {
        let Some(children) = node.children() else {
            return Vec::new();
        };
        children
            .nodes()
            .iter()
            .filter(|child| {
                let known = allowed(CHILDREN, context).contains(&child.name().value());
                if !known {
                    self.unknown_node(child, context);
                }
                known
            })
            .collect()
    }

    fn unknown_node(&mut self, node: &KdlNode, context: &str) {
        let name = node.name().value();
        let allowed = allowed(CHILDREN, context);
        let place = if context == "(top)" {
            "at the top of a playbook".to_string()
        } else {
            format!("inside `{context}`")
        };
        let help = match did_you_mean(name, allowed.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None if allowed.is_empty() => format!("`{context}` has no children"),
            None => format!("allowed {place}: {}", allowed.join(", ")),
        };
        self.error(
            "unknown-node",
            node.name().span(),
            format!("unknown node `{name}` {place}"),
            "unknown node",
            help,
        );
    }

    fn known_props(&mut self, node: &KdlNode, context: &str) {
        let allowed = allowed(PROPERTIES, context);
        let mut seen: HashMap<&str, SourceSpan> = HashMap::new();
        for entry in node.entries() {
            let Some(name) = entry.name() else { continue };
            if let Some(first) = seen.insert(name.value(), name.span()) {
                self.diagnostics.push(
                    Diagnostic::error(
                        "duplicate-property",
                        format!("`{}` is given twice", name.value()),
                    )
                    .in_source(self.source)
                    .label(name.span(), "again here")
                    .label(first, "first here")
                    .help("keep one of them"),
                );
            }
            if !allowed.contains(&name.value()) {
                let help = match did_you_mean(name.value(), allowed.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None if allowed.is_empty() => format!("`{context}` takes no properties"),
                    None => format!("`{context}` takes {}", allowed.join(", ")),
                };
                self.error(
                    "unknown-property",
                    name.span(),
                    format!("unknown property `{}` on `{context}`", name.value()),
                    "unknown property",
                    help,
                );
            }
        }
    }

    fn no_props(&mut self, node: &KdlNode) {
        self.known_props(node, node.name().value());
    }

    fn no_args(&mut self, node: &KdlNode) {
        if let Some(extra) = self.args(node).first() {
            self.error(
                "wrong-arguments",
                value_span(extra),
                format!("`{}` takes no arguments", node.name().value()),
                "unexpected argument",
                "remove it",
            );
        }
    }

    fn no_children(&mut self, node: &KdlNode) {
        if node.children().is_some_and(|c| !c.nodes().is_empty()) {
            self.error(
                "unexpected-children",
                node.name().span(),
                format!("`{}` takes no `{{ … }}` block", node.name().value()),
                "has a block",
                "remove the braces and what is inside",
            );
        }
    }

    fn missing_arg(&mut self, node: &KdlNode, what: &str, example: &str) {
        self.error(
            "missing-argument",
            node.name().span(),
            format!("`{}` needs a {what}", node.name().value()),
            format!("{what} missing"),
            format!("for example: {example}"),
        );
    }

    fn duplicate_node(&mut self, node: &KdlNode, first: SourceSpan, help: &str) {
        self.diagnostics.push(
            Diagnostic::error(
                "duplicate-node",
                format!("`{}` is given twice", node.name().value()),
            )
            .in_source(self.source)
            .label(node.name().span(), "again here")
            .label(first, "first here")
            .help(help.to_string()),
        );
    }

    /// Exactly one string argument.
    fn one_string(&mut self, node: &KdlNode, what: &str) -> Option<Spanned<String>> {
        let args = self.args(node);
        match args.as_slice() {
            [] => {
                self.missing_arg(node, what, &format!("{} \"…\"", node.name().value()));
                None
            }
            [one] => self.string(one, what),
            [_, extra, ..] => {
                self.error(
                    "wrong-arguments",
                    value_span(extra),
                    format!("`{}` takes one {what}", node.name().value()),
                    "extra argument",
                    "remove the extra values",
                );
                self.string(args[0], what)
            }
        }
    }

    /// One or more string arguments.
    fn strings(&mut self, node: &KdlNode, what: &str) -> Vec<Spanned<String>> {
        let args = self.args(node);
        if args.is_empty() {
            self.missing_arg(node, what, &format!("{} \"…\"", node.name().value()));
        }
        args.into_iter()
            .filter_map(|a| self.string(a, what))
            .collect()
    }

    fn string(&mut self, entry: &KdlEntry, what: &str) -> Option<Spanned<String>> {
        match entry.value() {
            KdlValue::String(s) => Some(Spanned::new(s.clone(), value_span(entry))),
            other => {
                self.wrong_type(entry, &format!("a string ({what})"), other);
                None
            }
        }
    }

    fn one_integer(&mut self, node: &KdlNode, min: u32, max: u32) -> Option<u32> {
        let args = self.args(node);
        let [entry] = args.as_slice() else {
            self.error(
                "wrong-arguments",
                node.name().span(),
                format!("`{}` takes exactly one number", node.name().value()),
                format!("{} values given", args.len()),
                format!("for example: {} 3", node.name().value()),
            );
            return None;
        };
        self.integer(entry, min, max)
    }

    fn integer(&mut self, entry: &KdlEntry, min: u32, max: u32) -> Option<u32> {
        match entry.value() {
            KdlValue::Integer(i) if (i128::from(min)..=i128::from(max)).contains(i) => {
                Some(*i as u32)
            }
            KdlValue::Integer(i) => {
                self.error(
                    "out-of-range",
                    value_span(entry),
                    format!("{i} is out of range"),
                    "out of range",
                    format!("use a whole number from {min} to {max}"),
                );
                None
            }
            other => {
                self.wrong_type(entry, "a whole number", other);
                None
            }
        }
    }

    fn status(&mut self, entry: &KdlEntry) -> Option<u16> {
        self.integer(entry, 100, 599).map(|s| s as u16)
    }

    /// A duration value; `zero_ok` says whether zero makes sense (a pause, an interval) or
    /// not (a timeout: every attempt would fail).
    fn duration(&mut self, entry: &KdlEntry, zero_ok: bool) -> Option<Spanned<Duration>> {
        let span = value_span(entry);
        match entry.value() {
            KdlValue::String(s) => match humantime::parse_duration(s) {
                Ok(d) if d.is_zero() && !zero_ok => {
                    self.error(
                        "bad-duration",
                        span,
                        "a timeout of zero would fail every attempt",
                        "zero",
                        "give a positive duration such as \"30s\"",
                    );
                    None
                }
                Ok(d) if d > MAX_DURATION => {
                    self.error(
                        "bad-duration",
                        span,
                        format!("`{s}` is longer than a day"),
                        "too long",
                        "durations are at most 24h; is the unit right?",
                    );
                    None
                }
                Ok(d) => Some(Spanned::new(d, span)),
                Err(e) => {
                    self.error(
                        "bad-duration",
                        span,
                        format!("`{s}` is not a duration: {e}"),
                        "bad duration",
                        "write a duration like \"500ms\", \"2s\", \"10m\" or \"1h30m\"",
                    );
                    None
                }
            },
            KdlValue::Integer(i) => {
                self.error(
                    "bad-duration",
                    span,
                    format!("{i} has no unit"),
                    "which unit?",
                    format!("write the unit too: \"{i}s\" or \"{i}m\""),
                );
                None
            }
            other => {
                self.wrong_type(entry, "a duration string like \"2s\"", other);
                None
            }
        }
    }

    fn amount(&mut self, entry: &KdlEntry, min: u32) -> Option<Amount> {
        match entry.value() {
            KdlValue::String(s) => match Amount::parse_percent(s) {
                Ok(a) => Some(a),
                Err(message) => {
                    self.error(
                        "bad-amount",
                        value_span(entry),
                        message,
                        "bad percentage",
                        "write a count (2) or a percentage (\"25%\")",
                    );
                    None
                }
            },
            KdlValue::Integer(_) => self.integer(entry, min, 100_000).map(Amount::Count),
            other => {
                self.wrong_type(entry, "a count (2) or a percentage (\"25%\")", other);
                None
            }
        }
    }

    fn wrong_type(&mut self, entry: &KdlEntry, expected: &str, found: &KdlValue) {
        let found_kind = match found {
            KdlValue::String(_) => "a string",
            KdlValue::Integer(_) | KdlValue::Float(_) => "a number",
            KdlValue::Bool(_) => "a boolean",
            KdlValue::Null => "#null",
        };
        let help = match found {
            KdlValue::Integer(_) | KdlValue::Float(_) | KdlValue::Bool(_)
                if expected.starts_with("a string") =>
            {
                "put the value in quotes".to_string()
            }
            _ => format!("write {expected}"),
        };
        self.error(
            "wrong-type",
            value_span(entry),
            format!("expected {expected}, found {found_kind}"),
            format!("{found_kind} here"),
            help,
        );
    }

    fn shell_template(&mut self, text: Spanned<String>, repr: Option<&str>) -> Option<Template> {
        match Template::shell(text, repr) {
            Ok(t) => Some(t),
            Err(refused) => {
                for r in refused {
                    self.error(
                        "unsafe-placeholder",
                        r.span,
                        format!(
                            "`{{{{{}}}}}` stands {}, where its value cannot be quoted safely",
                            r.name,
                            r.refusal.reason()
                        ),
                        "cannot be quoted here",
                        r.refusal
                            .help()
                            .replace("{{name}}", &format!("{{{{{}}}}}", r.name)),
                    );
                }
                None
            }
        }
    }

    /// How the string argument `value` of `node` was written in the file.
    fn repr_of(&self, node: &KdlNode, value: &Spanned<String>) -> Option<String> {
        node.entries()
            .iter()
            .find(|e| value_span(e) == value.span)
            .and_then(|e| e.format().map(|f| f.value_repr.clone()))
    }

    fn error(
        &mut self,
        code: &'static str,
        span: SourceSpan,
        message: impl Into<String>,
        label: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.diagnostics.push(
            Diagnostic::error(code, message)
                .in_source(self.source)
                .label(span, label)
                .help(help),
        );
    }
}

/// The KDL parser's stack: the pre-scan bounds its recursion, and this leaves room to spare
/// should its error recovery ever read a file other than the pre-scan did.
const PARSER_STACK: usize = 64 << 20;

/// Parses KDL on a thread of its own with a [`PARSER_STACK`]-sized stack (only the pages
/// used cost memory).
fn parse_kdl(text: &str) -> Result<KdlDocument, kdl::KdlError> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("kdl-parser".into())
            .stack_size(PARSER_STACK)
            .spawn_scoped(scope, || KdlDocument::parse_v2(text))
            .map(|parser| {
                parser
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            // Without a thread (the system is out of them), parse on this one.
            .unwrap_or_else(|_| KdlDocument::parse_v2(text))
    })
}

fn allowed(
    table: &'static [(&str, &'static [&'static str])],
    context: &str,
) -> &'static [&'static str] {
    table
        .iter()
        .find(|(c, _)| *c == context)
        .map(|(_, a)| *a)
        .unwrap_or(&[])
}

/// The span of an entry's value alone (an entry's span covers `key=value`).
fn value_span(entry: &KdlEntry) -> SourceSpan {
    let span = entry.span();
    let len = entry
        .format()
        .map(|f| f.value_repr.len())
        .unwrap_or(span.len())
        .min(span.len());
    (span.offset() + span.len() - len, len).into()
}

/// Where the text of a string value starts in the file, when it was written without escapes
/// (so that offsets inside the text are offsets in the file).
fn text_offset(value: &Spanned<String>, repr: Option<&str>) -> Option<usize> {
    let repr = repr?;
    let quote = repr.find('"')?;
    let body = &repr[quote + 1..];
    body.starts_with(value.value.as_str())
        .then_some(value.span.offset() + quote + 1)
        .filter(|_| !repr.starts_with("\"\"\""))
}

fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
