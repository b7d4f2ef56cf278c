//! `stage` nodes and what is inside them that is not a step or a check: `description`,
//! `needs`, `on` and `rolling`.

use std::time::Duration;

use kdl::{KdlEntry, KdlNode, KdlValue};

use super::document::DocumentNode;
use super::node_kind::NodeKind;
use super::parser::Parser;
use super::values::value_span;
use crate::diagnostic::Code;
use crate::playbook::{Amount, Rollback, RollbackScope, Rolling, Stage, Step, StepKind};

/// The nodes inside `stage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageNode {
    Description,
    Needs,
    On,
    Step(StepKind),
    Check,
    Rolling,
    Rollback,
}

/// [`StageNode::ALL`], built from [`StepKind::ALL`] so that a new step kind is accepted in
/// a stage without a second list to keep in step.
const STAGE_NODES: [StageNode; 6 + StepKind::ALL.len()] = {
    let mut all = [StageNode::Description; 6 + StepKind::ALL.len()];
    all[1] = StageNode::Needs;
    all[2] = StageNode::On;
    let mut i = 0;
    while i < StepKind::ALL.len() {
        all[3 + i] = StageNode::Step(StepKind::ALL[i]);
        i += 1;
    }
    all[3 + i] = StageNode::Check;
    all[4 + i] = StageNode::Rolling;
    all[5 + i] = StageNode::Rollback;
    all
};

impl NodeKind for StageNode {
    const PARENTS: &'static [&'static str] = &["stage"];
    const ALL: &'static [Self] = &STAGE_NODES;

    fn name(self) -> &'static str {
        match self {
            Self::Description => "description",
            Self::Needs => "needs",
            Self::On => "on",
            Self::Step(kind) => kind.name(),
            Self::Check => "check",
            Self::Rolling => "rolling",
            Self::Rollback => "rollback",
        }
    }

    fn properties(self) -> &'static [&'static str] {
        match self {
            Self::Step(kind) => kind.properties(),
            Self::Rolling => &["batch", "max-fail", "pause"],
            Self::Rollback => &["scope"],
            Self::Description | Self::Needs | Self::On | Self::Check => &[],
        }
    }
}

/// The nodes inside `rollback`: steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollbackNode {
    Step(StepKind),
}

const ROLLBACK_NODES: [RollbackNode; StepKind::ALL.len()] = {
    let mut all = [RollbackNode::Step(StepKind::ALL[0]); StepKind::ALL.len()];
    let mut i = 0;
    while i < StepKind::ALL.len() {
        all[i] = RollbackNode::Step(StepKind::ALL[i]);
        i += 1;
    }
    all
};

impl NodeKind for RollbackNode {
    const PARENTS: &'static [&'static str] = &["rollback"];
    const ALL: &'static [Self] = &ROLLBACK_NODES;

    fn name(self) -> &'static str {
        match self {
            Self::Step(kind) => kind.name(),
        }
    }

    fn properties(self) -> &'static [&'static str] {
        match self {
            Self::Step(kind) => kind.properties(),
        }
    }
}

impl Parser<'_> {
    pub(super) fn stage(&mut self, node: &KdlNode, kind: DocumentNode) -> Option<Stage> {
        self.props(node, kind);
        let name = self.one_string(node, "stage name")?;
        let mut stage = Stage {
            name,
            needs: Vec::new(),
            on: Vec::new(),
            steps: Vec::new(),
            checks: Vec::new(),
            rolling: None,
            rollback: None,
            span: node.span(),
        };
        let mut on_seen = false;
        for (kind, child) in self.children::<StageNode>(node) {
            match kind {
                StageNode::Description => {
                    self.props(child, kind);
                    self.no_children(child);
                    self.one_string(child, "description");
                }
                StageNode::Needs => {
                    self.props(child, kind);
                    self.no_children(child);
                    let needs = self.strings(child, "a stage name");
                    stage.needs.extend(needs);
                }
                StageNode::On => {
                    on_seen = true;
                    self.props(child, kind);
                    self.no_children(child);
                    self.on(child, &mut stage);
                }
                StageNode::Step(step) => {
                    if let Some(step) = self.step(child, step) {
                        stage.steps.push(step);
                    }
                }
                StageNode::Check => {
                    if let Some(check) = self.check(child, kind) {
                        stage.checks.push(check);
                    }
                }
                StageNode::Rolling => {
                    if let Some(previous) = &stage.rolling {
                        let first = previous.span;
                        self.duplicate_node(child, first, "a stage rolls out one way");
                    } else {
                        stage.rolling = self.rolling(child, kind);
                    }
                }
                StageNode::Rollback => {
                    if let Some(previous) = &stage.rollback {
                        let first = previous.span;
                        self.duplicate_node(child, first, "a stage has one rollback");
                    } else {
                        stage.rollback = self.rollback(child, kind);
                    }
                }
            }
        }
        if !on_seen {
            self.error(
                Code::MissingOn,
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

    /// The selectors of an `on` node, added to the stage's hosts.
    fn on(&mut self, node: &KdlNode, stage: &mut Stage) {
        for text in self.strings(node, "a selector") {
            let repr = self.repr_of(node, &text);
            if let Some(selector) = self.selector(&text, repr.as_deref()) {
                stage.on.push(selector);
            }
        }
    }

    /// `batch=2`, `batch="25%"`, or sizes that grow: `batch="1 25% 100%"`.
    fn batch_sizes(&mut self, entry: &KdlEntry) -> Option<Vec<Amount>> {
        let KdlValue::String(text) = entry.value() else {
            return self.amount(entry, 1).map(|a| vec![a]);
        };
        let words: Vec<&str> = text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|w| !w.is_empty())
            .collect();
        if words.len() == 1 && words[0].ends_with('%') {
            return self.amount(entry, 1).map(|a| vec![a]);
        }
        let sizes: Option<Vec<Amount>> = words
            .iter()
            .map(|w| match w.parse::<u32>() {
                Ok(n) if n >= 1 => Some(Amount::Count(n)),
                Ok(_) => None,
                Err(_) => Amount::parse_percent(w).ok(),
            })
            .collect();
        match sizes {
            Some(sizes) if !sizes.is_empty() => Some(sizes),
            _ => {
                self.error(
                    Code::BadAmount,
                    value_span(entry),
                    format!("`{text}` is not a list of batch sizes"),
                    "bad sizes",
                    "write a count (2), a percentage (\"25%\"), or sizes that grow (\"1 25% 100%\")",
                );
                None
            }
        }
    }

    /// `rollback scope="failed" { run "…" }`: the steps that put a host back.
    fn rollback(&mut self, node: &KdlNode, kind: StageNode) -> Option<Rollback> {
        self.no_args(node);
        self.props(node, kind);
        let scope = match node.entry("scope") {
            None => RollbackScope::Failed,
            Some(entry) => match entry.value() {
                KdlValue::String(s) if s == "failed" => RollbackScope::Failed,
                KdlValue::String(s) if s == "stage" => RollbackScope::Stage,
                other => {
                    self.wrong_type(entry, "\"failed\" or \"stage\"", other);
                    RollbackScope::Failed
                }
            },
        };
        let steps: Vec<Step> = self
            .children::<RollbackNode>(node)
            .into_iter()
            .filter_map(|(RollbackNode::Step(kind), child)| self.step(child, kind))
            .collect();
        if steps.is_empty() && node.children().is_none_or(|c| c.nodes().is_empty()) {
            self.error(
                Code::MissingArgument,
                node.name().span(),
                "a rollback without steps puts nothing back",
                "no steps",
                "add the steps inside braces: rollback { run \"ln -sfn releases/previous current\" }",
            );
        }
        Some(Rollback {
            steps,
            scope,
            span: node.span(),
        })
    }

    fn rolling(&mut self, node: &KdlNode, kind: StageNode) -> Option<Rolling> {
        self.no_args(node);
        self.no_children(node);
        self.props(node, kind);
        let amount = |this: &mut Self, key: &str, default: Amount, min: u32| match node.entry(key) {
            None => Some(default),
            Some(entry) => this.amount(entry, min),
        };
        let batch = match node.entry("batch") {
            None => Some(vec![Amount::Count(1)]),
            Some(entry) => self.batch_sizes(entry),
        };
        let max_fail = amount(self, "max-fail", Amount::Count(0), 0);
        let pause = match node.entry("pause") {
            None => Some(Duration::ZERO),
            Some(e) => self.duration(e, true).map(|d| d.value),
        };
        let (batch, max_fail, pause) = (batch?, max_fail?, pause?);
        if batch.contains(&Amount::Percent(0.0)) {
            let at = node.entry("batch").map(value_span).unwrap_or(node.span());
            self.error(
                Code::BadAmount,
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_takes_every_step_kind_and_each_kind_once() {
        for kind in StepKind::ALL {
            assert!(StageNode::ALL.contains(&StageNode::Step(kind)));
        }
        let mut names: Vec<&str> = StageNode::ALL.iter().map(|kind| kind.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), StageNode::ALL.len());
    }
}
