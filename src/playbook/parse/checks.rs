//! `check` nodes: one probe (`http`, `tcp`, `cmd`) and how it is retried. A new probe kind
//! is a variant of [`ProbeKind`] and one reader function here, dispatched in
//! [`Parser::probe`].

use std::time::Duration;

use kdl::{KdlEntry, KdlNode, KdlValue};
use miette::SourceSpan;

use super::node_kind::NodeKind;
use super::parser::Parser;
use super::stages::StageNode;
use super::values::value_span;
use crate::diagnostic::{Code, Diagnostic};
use crate::playbook::{Check, HttpExpect, Probe, ProbeKind, Spanned, Template};

/// The nodes inside `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckNode {
    Probe(ProbeKind),
    Retries,
    Interval,
    Timeout,
    Delay,
    Healthy,
}

/// [`CheckNode::ALL`], built from [`ProbeKind::ALL`] so that a new probe kind is accepted
/// in a check without a second list to keep in step.
const CHECK_NODES: [CheckNode; 5 + ProbeKind::ALL.len()] = {
    let mut all = [CheckNode::Retries; 5 + ProbeKind::ALL.len()];
    let mut i = 0;
    while i < ProbeKind::ALL.len() {
        all[i] = CheckNode::Probe(ProbeKind::ALL[i]);
        i += 1;
    }
    all[i] = CheckNode::Retries;
    all[i + 1] = CheckNode::Interval;
    all[i + 2] = CheckNode::Timeout;
    all[i + 3] = CheckNode::Delay;
    all[i + 4] = CheckNode::Healthy;
    all
};

impl NodeKind for CheckNode {
    const PARENTS: &'static [&'static str] = &["check"];
    const ALL: &'static [Self] = &CHECK_NODES;

    fn name(self) -> &'static str {
        match self {
            Self::Probe(kind) => kind.name(),
            Self::Retries => "retries",
            Self::Interval => "interval",
            Self::Timeout => "timeout",
            Self::Delay => "delay",
            Self::Healthy => "healthy",
        }
    }

    fn properties(self) -> &'static [&'static str] {
        match self {
            Self::Probe(kind) => kind.properties(),
            Self::Retries | Self::Interval | Self::Timeout | Self::Delay | Self::Healthy => &[],
        }
    }
}

impl Parser<'_> {
    pub(super) fn check(&mut self, node: &KdlNode, kind: StageNode) -> Option<Check> {
        self.props(node, kind);
        let name = self.one_string(node, "check name")?;
        let mut probe: Option<(Probe, SourceSpan)> = None;
        let mut retries = Check::DEFAULT_RETRIES;
        let mut interval = Check::DEFAULT_INTERVAL;
        let mut timeout = Check::DEFAULT_TIMEOUT;
        let mut delay = Duration::ZERO;
        let mut healthy = Check::DEFAULT_HEALTHY;
        let mut dangerous = None;
        for (kind, child) in self.children::<CheckNode>(node) {
            self.no_children(child);
            self.props(child, kind);
            match kind {
                CheckNode::Probe(probe_kind) => {
                    let Some(target) = self.one_string(child, "probe target") else {
                        continue;
                    };
                    if let Some(entry) = child.entry("dangerous")
                        && self.boolean(entry) == Some(true)
                    {
                        dangerous = Some(entry.span());
                    }
                    let made = self.probe(child, probe_kind, target);
                    if let Some((_, first)) = &probe {
                        let first = *first;
                        self.found.push(
                            Diagnostic::error(Code::TwoProbes, "a check probes one thing")
                                .in_source(self.source)
                                .label(child.name().span(), "second probe")
                                .label(first, "first probe")
                                .help("split it into two `check` nodes"),
                        );
                    } else if let Some(made) = made {
                        probe = Some((made, child.name().span()));
                    }
                }
                CheckNode::Retries => {
                    if let Some(n) = self.one_integer(child, 0, 10_000) {
                        retries = n;
                    }
                }
                CheckNode::Interval => {
                    if let Some(d) = self.one_duration(child, true) {
                        interval = d;
                    }
                }
                CheckNode::Timeout => {
                    if let Some(d) = self.one_duration(child, false) {
                        timeout = d;
                    }
                }
                CheckNode::Delay => {
                    if let Some(d) = self.one_duration(child, true) {
                        delay = d;
                    }
                }
                CheckNode::Healthy => {
                    if let Some(n) = self.one_integer(child, 1, 1_000) {
                        healthy = n;
                    }
                }
            }
        }
        let Some((probe, _)) = probe else {
            self.error(
                Code::MissingProbe,
                name.span,
                format!("check `{}` does not say what to probe", name.value),
                "no probe",
                format!("add one of {}", probe_examples()),
            );
            return None;
        };
        Some(Check {
            name,
            probe,
            retries,
            interval,
            timeout,
            delay,
            healthy,
            dangerous,
            span: node.span(),
        })
    }

    /// The probe a probe node makes of `target`, its argument.
    fn probe(&mut self, node: &KdlNode, kind: ProbeKind, target: Spanned<String>) -> Option<Probe> {
        let repr = self.repr_of(node, &target);
        let repr = repr.as_deref();
        match kind {
            ProbeKind::Http => Some(self.http(node, target, repr)),
            ProbeKind::Tcp => Some(Probe::Tcp {
                address: Template::plain(target, repr),
            }),
            ProbeKind::Cmd => self
                .shell_template(target, repr)
                .map(|command| Probe::Cmd { command }),
        }
    }

    /// `http "URL" status=200 body-contains="ok" insecure=#true from="controller"`.
    fn http(&mut self, node: &KdlNode, url: Spanned<String>, repr: Option<&str>) -> Probe {
        let mut expect = HttpExpect::default();
        if let Some(entry) = node.entry("status") {
            expect.status = self.statuses(entry);
        }
        if let Some(entry) = node.entry("body-contains") {
            expect.body_contains = self.string(entry, "a string").map(|s| s.value);
        }
        if let Some(entry) = node.entry("insecure") {
            expect.insecure = self.boolean(entry).unwrap_or(false);
        }
        if let Some(entry) = node.entry("follow-redirects") {
            expect.follow_redirects = self.boolean(entry).unwrap_or(false);
        }
        if let Some(entry) = node.entry("from") {
            expect.from_controller = match entry.value() {
                KdlValue::String(s) if s == "host" => false,
                KdlValue::String(s) if s == "controller" => true,
                other => {
                    self.wrong_type(entry, "\"host\" or \"controller\"", other);
                    false
                }
            };
        }
        Probe::Http {
            url: Template::plain(url, repr),
            expect,
        }
    }

    /// `status=200`, or several codes in a string: `status="200 204"`.
    fn statuses(&mut self, entry: &KdlEntry) -> Vec<u16> {
        match entry.value() {
            KdlValue::Integer(_) => self.status(entry).into_iter().collect(),
            KdlValue::String(text) => {
                let codes: Option<Vec<u16>> = text
                    .split(|c: char| c == ',' || c.is_whitespace())
                    .filter(|w| !w.is_empty())
                    .map(|w| w.parse::<u16>().ok().filter(|c| (100..=599).contains(c)))
                    .collect();
                match codes {
                    Some(codes) if !codes.is_empty() => codes,
                    _ => {
                        self.error(
                            Code::WrongType,
                            value_span(entry),
                            format!("`{text}` is not a list of HTTP status codes"),
                            "not status codes",
                            "write one code (status=204) or several in a string (status=\"200 204\"), each from 100 to 599",
                        );
                        Vec::new()
                    }
                }
            }
            other => {
                self.wrong_type(entry, "a status code (200) or a list (\"200 204\")", other);
                Vec::new()
            }
        }
    }

    pub(super) fn boolean(&mut self, entry: &KdlEntry) -> Option<bool> {
        match entry.value() {
            KdlValue::Bool(b) => Some(*b),
            other => {
                self.wrong_type(entry, "#true or #false", other);
                None
            }
        }
    }
}

/// An example of each probe kind, for help texts: "`a`, `b` or `c`".
fn probe_examples() -> String {
    let mut text = String::new();
    for (k, kind) in ProbeKind::ALL.iter().enumerate() {
        if k > 0 {
            text.push_str(if k + 1 == ProbeKind::ALL.len() {
                " or "
            } else {
                ", "
            });
        }
        text.push_str(&format!("`{}`", kind.example()));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_takes_every_probe_kind_and_each_kind_once() {
        for kind in ProbeKind::ALL {
            assert!(CheckNode::ALL.contains(&CheckNode::Probe(kind)));
        }
        let mut names: Vec<&str> = CheckNode::ALL.iter().map(|kind| kind.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CheckNode::ALL.len());
    }
}
