//! `tsync check`: every problem of every playbook, in one run.

use std::path::PathBuf;

use crate::cli::{Inputs, Safety};
use crate::command::Prepared;
use crate::diagnostic::Code;
use crate::exit_code;
use crate::report::diagnostics::{self, Color};

pub fn run(playbooks: &[PathBuf], inputs: &Inputs, safety: &Safety, color: Color) -> i32 {
    let mut prepared = Prepared::new(inputs).allow_dangerous(safety.allow_dangerous);
    let mut all = std::mem::take(&mut prepared.diagnostics);
    let mut clean = 0;
    for path in playbooks {
        let (_, mut found) = prepared.plan(path);
        found.drop_code(Code::NoInventory, true);
        if !found.has_errors() {
            clean += 1;
        }
        all.extend(found);
    }
    diagnostics::print(&all, color);
    let counts = diagnostics::summary(&all);
    if all.has_errors() && clean == playbooks.len() {
        // Every playbook is fine; a flag or an inventory source is not.
        eprintln!(
            "invalid options or inventory: {}",
            counts.unwrap_or_default()
        );
        exit_code::INVALID_INPUT
    } else if all.has_errors() {
        eprintln!(
            "{} of {} playbook{} invalid: {}",
            playbooks.len() - clean,
            playbooks.len(),
            if playbooks.len() == 1 { "" } else { "s" },
            counts.unwrap_or_default()
        );
        exit_code::INVALID_INPUT
    } else {
        match counts {
            Some(c) => eprintln!(
                "{clean} playbook{} ok ({c})",
                if clean == 1 { "" } else { "s" }
            ),
            None => eprintln!("{clean} playbook{} ok", if clean == 1 { "" } else { "s" }),
        }
        exit_code::SUCCESS
    }
}
