//! A stage: steps run on a set of hosts, gated by checks, after the stages it needs.

use miette::SourceSpan;

use super::check::Check;
use super::rollback::Rollback;
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
    pub rollback: Option<Rollback>,
    pub span: SourceSpan,
}

impl Stage {
    /// Every step of the stage: its own, then its rollback's.
    pub fn all_steps(&self) -> impl Iterator<Item = &Step> {
        self.steps
            .iter()
            .chain(self.rollback.iter().flat_map(|r| r.steps.iter()))
    }

    /// As [`Stage::all_steps`], to fill in what loading reads.
    pub fn all_steps_mut(&mut self) -> impl Iterator<Item = &mut Step> {
        self.steps
            .iter_mut()
            .chain(self.rollback.iter_mut().flat_map(|r| r.steps.iter_mut()))
    }
}
