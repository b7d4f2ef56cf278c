//! `tsync plan`: what `apply` would do, touching no host.

use std::io::Write;
use std::path::Path;

use crate::cli::{Inputs, PlanFormat, Safety};
use crate::command::Prepared;
use crate::exit_code;
use crate::plan::render;
use crate::report::diagnostics::{self, Color};

pub fn run(path: &Path, format: PlanFormat, inputs: &Inputs, safety: &Safety, color: Color) -> i32 {
    let mut prepared = Prepared::new(inputs).allow_dangerous(safety.allow_dangerous);
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
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => exit_code::SUCCESS,
        // The reader has what it wanted (`tsync plan … | head`): a normal ending.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => exit_code::SUCCESS,
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "error: cannot write the plan to stdout: {e}"
            );
            exit_code::INTERNAL
        }
    }
}
