//! A plan written out for people (`text`), programs (`json`) and pictures (`dot`, `mermaid`).

mod view;

use std::fmt::Write;

use super::plan::Plan;
use super::planned_step::PlannedStep;
use crate::playbook::{Action, Probe, RollbackScope};

pub fn text(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = write!(out, "playbook {}", plan.name);
    if let Some(d) = &plan.description {
        let _ = write!(out, ": {d}");
    }
    let _ = writeln!(
        out,
        "\n{} stage{} in {} wave{}, {} host{}",
        plan.stages.len(),
        plural(plan.stages.len()),
        plan.waves.len(),
        plural(plan.waves.len()),
        plan.hosts.len(),
        plural(plan.hosts.len()),
    );
    // The default lock (every host of the run) goes without saying; lock hosts do not, nor
    // does `lock #false`.
    match &plan.lock {
        Some(lock) => {
            if let Some(hosts) = &lock.hosts {
                let names: Vec<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
                let _ = writeln!(out, "deploy lock {} on {}", lock.name, names.join(", "));
            }
        }
        None => {
            let _ = writeln!(out, "no deploy lock (`lock #false`)");
        }
    }
    let parallel = plan.parallel_sets();
    for (w, wave) in plan.waves.iter().enumerate() {
        let _ = writeln!(
            out,
            "\nwave {}{}",
            w + 1,
            if wave.len() > 1 {
                " (these stages run in parallel)"
            } else {
                ""
            }
        );
        for &i in wave {
            stage_text(plan, i, &parallel[i], &mut out);
        }
    }
    out
}

fn stage_text(plan: &Plan, i: usize, parallel: &[usize], out: &mut String) {
    let stage = &plan.stages[i];
    let names: Vec<&str> = stage
        .hosts
        .iter()
        .map(|&h| plan.hosts[h].name.as_str())
        .collect();
    let _ = write!(out, "  stage {}", stage.name);
    if !stage.needs.is_empty() {
        let needs: Vec<&str> = stage
            .needs
            .iter()
            .map(|&n| plan.stages[n].name.as_str())
            .collect();
        let _ = write!(out, "  needs {}", needs.join(", "));
    }
    let _ = writeln!(out);
    let parallel: Vec<&str> = parallel
        .iter()
        .map(|&n| plan.stages[n].name.as_str())
        .collect();
    if !parallel.is_empty() {
        let _ = writeln!(out, "    parallel with {}", parallel.join(", "));
    }
    let _ = writeln!(
        out,
        "    on {} → {} host{}: {}",
        stage.selectors.join(" + "),
        names.len(),
        plural(names.len()),
        if names.is_empty() {
            "(none: skipped)".to_string()
        } else {
            names.join(", ")
        }
    );
    if let Some(count) = stage.pick {
        let _ = writeln!(
            out,
            "    runs on the {} least loaded of them, measured when the stage starts",
            if count == 1 {
                "one".to_string()
            } else {
                count.to_string()
            }
        );
    }
    for step in &stage.steps {
        write_step(out, step, &names, "    ");
    }
    for check in &stage.checks {
        let retries = check.attempts - 1;
        let _ = writeln!(
            out,
            "    check {} ({}): {}; {retries} retr{} every {}, {} per try{}{}",
            check.name,
            check.kind.name(),
            check.written.describe(),
            if retries == 1 { "y" } else { "ies" },
            humantime::format_duration(check.interval),
            humantime::format_duration(check.timeout),
            if check.delay.is_zero() {
                String::new()
            } else {
                format!(", first after {}", humantime::format_duration(check.delay))
            },
            if check.healthy > 1 {
                format!(", healthy {} in a row", check.healthy)
            } else {
                String::new()
            },
        );
        // Filled-in probes, where placeholders made them differ from what is written.
        let first = check.probes.first().map(Probe::target);
        if check.probes.iter().all(|p| Some(p.target()) == first) {
            if let Some(probe) = check
                .probes
                .first()
                .filter(|p| p.target() != check.written.target())
            {
                let _ = writeln!(out, "      {}", probe.describe());
            }
        } else {
            for (host, probe) in names.iter().zip(&check.probes) {
                let _ = writeln!(out, "      {host}: {}", probe.describe());
            }
        }
    }
    if let Some(rolling) = &stage.rolling {
        let batches = rolling.batches(names.len());
        let _ = writeln!(
            out,
            "    rolling: batches of {}, tolerating {} failed host(s), pause {}",
            rolling.sizes(),
            rolling.max_fail,
            humantime::format_duration(rolling.pause)
        );
        for (b, range) in batches.into_iter().enumerate() {
            let _ = writeln!(out, "      batch {}: {}", b + 1, names[range].join(", "));
        }
    }
    if let Some(rollback) = &stage.rollback {
        let _ = writeln!(
            out,
            "    rollback on {}:",
            match rollback.scope {
                RollbackScope::Failed => "each failed host",
                RollbackScope::Stage => "every host the stage changed, if the stage fails",
            }
        );
        for step in &rollback.steps {
            write_step(out, step, &names, "      ");
        }
    }
}

/// One step: what is written, its timeout, and the command per host where placeholders
/// made it differ.
fn write_step(out: &mut String, step: &PlannedStep, names: &[&str], indent: &str) {
    let _ = writeln!(
        out,
        "{indent}{} {}  (timeout {})",
        step.kind.name(),
        step.written,
        humantime::format_duration(step.timeout)
    );
    // Where a `local` step runs: once when every host has the same directory, else per host.
    let dirs: Vec<_> = step
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Local { dir, .. } => Some(dir.as_path()),
            _ => None,
        })
        .collect();
    if dirs.iter().all(|d| *d == dirs[0]) {
        if let Some(dir) = dirs.first() {
            let _ = writeln!(out, "{indent}  on this machine, in {}", dir.display());
        }
    } else {
        for (host, dir) in names.iter().zip(&dirs) {
            let _ = writeln!(
                out,
                "{indent}  {host}: on this machine, in {}",
                dir.display()
            );
        }
    }
    if let Some(confirm) = &step.confirm {
        let _ = writeln!(
            out,
            "{indent}  confirmed over a new connection within {}, or the host runs: {}",
            humantime::format_duration(confirm.within),
            confirm
                .reverts
                .first()
                .map(String::as_str)
                .unwrap_or_default()
        );
    }
    // A shell command is marked `$`; a sync's line (`sync a → b`) is no command.
    let prompt = if step.kind.syncs() { "" } else { "$ " };
    let first = step.commands.first();
    if step.commands.iter().all(|c| Some(c) == first) {
        if let Some(command) = first.filter(|c| **c != step.written) {
            let _ = writeln!(out, "{indent}  {prompt}{command}");
        }
    } else {
        for (host, command) in names.iter().zip(&step.commands) {
            let _ = writeln!(out, "{indent}  {host}: {prompt}{command}");
        }
    }
    // Guards, filled in: once when every host has the same, else per host.
    for g in 0..step.guards.first().map_or(0, Vec::len) {
        let first = &step.guards[0][g].0;
        if step.guards.iter().all(|gs| gs[g].0 == *first) {
            let _ = writeln!(out, "{indent}  {}", first.describe());
        } else {
            for (host, gs) in names.iter().zip(&step.guards) {
                let _ = writeln!(out, "{indent}  {host}: {}", gs[g].0.describe());
            }
        }
    }
    if let Some(code) = step.unchanged_exit {
        let _ = writeln!(out, "{indent}  exit code {code}: ok, nothing changed");
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

pub fn json(plan: &Plan) -> String {
    serde_json::to_string_pretty(&view::view(plan)).expect("plan views serialize")
}

/// Graphviz: one box per stage with its host count, an arrow per `needs`.
pub fn dot(plan: &Plan) -> String {
    let mut out =
        String::from("digraph playbook {\n  rankdir=LR;\n  node [shape=box, style=rounded];\n");
    for &i in &plan.order {
        let stage = &plan.stages[i];
        let _ = writeln!(
            out,
            "  s{i} [label=\"{}\\n{} host{}\"];",
            escape_dot(&stage.name),
            stage.hosts.len(),
            plural(stage.hosts.len())
        );
    }
    for edge in plan.graph.raw_edges() {
        let _ = writeln!(
            out,
            "  s{} -> s{};",
            edge.source().index(),
            edge.target().index()
        );
    }
    out.push_str("}\n");
    out
}

fn escape_dot(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Mermaid flowchart, for Markdown that renders it (GitHub does).
pub fn mermaid(plan: &Plan) -> String {
    let mut out = String::from("flowchart LR\n");
    for &i in &plan.order {
        let stage = &plan.stages[i];
        let label = stage.name.replace('"', "#quot;");
        let _ = writeln!(
            out,
            "  s{i}[\"{label}<br/>{} host{}\"]",
            stage.hosts.len(),
            plural(stage.hosts.len())
        );
    }
    for edge in plan.graph.raw_edges() {
        let _ = writeln!(
            out,
            "  s{} --> s{}",
            edge.source().index(),
            edge.target().index()
        );
    }
    out
}
