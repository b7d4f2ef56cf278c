//! `tsync workflows`: the built-in workflows `tsync init` copies, with what each does and the
//! vars it takes.

use std::io::Write;

use crate::exit_code;
use crate::report::OutputFormat;
use crate::workflow::{WORKFLOWS, Workflow};

pub fn run(output: OutputFormat) -> i32 {
    let text = match output {
        OutputFormat::Human => human(),
        OutputFormat::Json => json(),
    };
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("error: cannot write to stdout: {e}");
            exit_code::INTERNAL
        }
        _ => exit_code::SUCCESS,
    }
}

fn human() -> String {
    let mut out = String::new();
    for workflow in WORKFLOWS {
        out.push_str(&format!(
            "{}\n    {}\n",
            workflow.name,
            workflow.description()
        ));
        let vars: Vec<String> = workflow
            .vars()
            .iter()
            .map(|(name, default)| format!("{name}={default}"))
            .collect();
        if !vars.is_empty() {
            out.push_str(&format!("    vars: {}\n", vars.join(" ")));
        }
        if !workflow.groups.is_empty() {
            out.push_str(&format!("    groups: {}\n", workflow.groups.join(", ")));
        }
    }
    out.push_str("copy them into this directory: tsync init [--with NAME,NAME…]\n");
    out
}

fn json() -> String {
    let all: Vec<serde_json::Value> = WORKFLOWS.iter().map(described).collect();
    let mut text = serde_json::Value::Array(all).to_string();
    text.push('\n');
    text
}

fn described(workflow: &Workflow) -> serde_json::Value {
    let vars: Vec<serde_json::Value> = workflow
        .vars()
        .into_iter()
        .map(|(name, default)| serde_json::json!({ "name": name, "default": default }))
        .collect();
    serde_json::json!({
        "name": workflow.name,
        "description": workflow.description(),
        "file": workflow.file(),
        "vars": vars,
        "groups": workflow.groups,
        "scripts": workflow.scripts.iter().map(|s| s.path).collect::<Vec<_>>(),
    })
}
