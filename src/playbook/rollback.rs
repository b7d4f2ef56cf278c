//! What a stage does to put a host back when its steps or checks failed there: steps run
//! on the failed hosts (or on every host the stage changed) before the rollout stops.

use miette::SourceSpan;

use super::step::Step;

#[derive(Debug, Clone)]
pub struct Rollback {
    pub steps: Vec<Step>,
    pub scope: RollbackScope,
    pub span: SourceSpan,
}

/// Which hosts are rolled back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RollbackScope {
    /// Each host whose steps or checks failed, right after its batch.
    Failed,
    /// When the stage fails, every host it changed, so a failed canary wave leaves no
    /// host half-deployed; failures within `max-fail` roll back the failed hosts only.
    Stage,
}

impl RollbackScope {
    pub fn name(self) -> &'static str {
        match self {
            RollbackScope::Failed => "failed",
            RollbackScope::Stage => "stage",
        }
    }
}
