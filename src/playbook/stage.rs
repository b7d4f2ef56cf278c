//! A stage: steps run on a set of hosts, gated by checks, after the stages it needs.

use miette::SourceSpan;

use super::check::Check;
use super::rolling::Rolling;
use super::spanned::Spanned;
use super::step::Step;
use crate::selector::Selector;

#[derive(Debug, Clone)]
pub struct Stage {
    pub name: Spanned<String>,
    pub needs: Vec<Spanned<String>>,
    /// The hosts: the union of every selector given.
    pub on: Vec<Selector>,
    pub steps: Vec<Step>,
    pub checks: Vec<Check>,
    pub rolling: Option<Rolling>,
    pub span: SourceSpan,
}
