//! `tsync plan`: what `apply` would do, touching no host.

use std::path::Path;

use crate::cli::{Inputs, PlanFormat};
use crate::command::Prepared;
use crate::exit_code;
use crate::plan::render;
use crate::report::diagnostics::{self, Color};

pub fn run(path: &Path, format: PlanFormat, inputs: &Inputs, color: Color) -> i32 {
    let mut prepared = Prepared::new(inputs);
    let (plan, found) = prepared.plan(path);
    prepared.diagnostics.extend(found);
    diagnostics::print(&prepared.diagnostics, color);
    let Some(plan) = plan.filter(|_| !prepared.diagnostics.has_errors()) else {
        if let Some(counts) = diagnostics::summary(&prepared.diagnostics) {
            eprintln!("cannot plan {}: {counts}", path.display());
        }
        return exit_code::INVALID_INPUT;
    };
    let text = match format {
        PlanFormat::Text => render::text(&plan),
        PlanFormat::Json => render::json(&plan),
        PlanFormat::Dot => render::dot(&plan),
        PlanFormat::Mermaid => render::mermaid(&plan),
    };
    print!("{text}");
    exit_code::SUCCESS
}
