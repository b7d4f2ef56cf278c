//! `tsync disconnect [SELECTOR]`: closes the masters `--persist` kept open, every one or the
//! selected hosts'.

use std::io::Write;
use std::time::Duration;

use crate::cli::Inputs;
use crate::command::Prepared;
use crate::diagnostic::Source;
use crate::exit_code;
use crate::plan::ad_hoc_hosts;
use crate::report::diagnostics::{self, Color};
use crate::transport::Masters;

pub fn run(selector: Option<&str>, inputs: &Inputs, color: Color) -> i32 {
    let mut destinations = None;
    let mut ssh_config = None;
    if let Some(selector) = selector {
        let mut prepared = Prepared::new(inputs);
        let source = Source::new("selector", selector);
        let (selected, found) =
            ad_hoc_hosts(selector, &source, &prepared.inventory, prepared.limit());
        prepared.diagnostics.extend(found);
        diagnostics::print(&prepared.diagnostics, color);
        let Some((selected, _)) = selected.filter(|_| !prepared.diagnostics.has_errors()) else {
            return exit_code::INVALID_INPUT;
        };
        let inventory = &prepared.inventory;
        destinations = Some(
            selected
                .iter()
                .map(|&i| inventory.host(i).destination().to_string())
                .collect::<Vec<_>>(),
        );
        ssh_config = inventory.ssh_config.clone();
    }
    let masters = match Masters::open(Duration::ZERO, ssh_config.as_deref()) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return exit_code::INTERNAL;
        }
    };
    let runtime = match super::start_runtime(&mut tokio::runtime::Builder::new_current_thread()) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let closed = runtime.block_on(masters.close(destinations.as_deref()));
    let word = if closed == 1 {
        "connection"
    } else {
        "connections"
    };
    let _ = writeln!(std::io::stdout(), "closed {closed} kept {word}");
    exit_code::SUCCESS
}
