//! `tsync init`: starts a repo of playbooks in the current directory: an inventory drafted
//! from the hosts and groups found, the chosen built-in workflows, and how to run them.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::inputs::{INVENTORY_FILE, inventory_options};
use crate::cli::Sources;
use crate::exit_code;
use crate::inventory::{Inventory, sshsync};
use crate::report::diagnostics::{self, Color};
use crate::suggest::did_you_mean;
use crate::workflow::{InventoryDraft, Starter, WORKFLOWS, Workflow, find};

pub fn run(with: &[String], sources: &Sources, color: Color) -> i32 {
    let workflows = match chosen(with) {
        Ok(workflows) => workflows,
        Err(code) => return code,
    };
    let (inventory, found) = Inventory::load(&inventory_options(sources));
    diagnostics::print(&found, color);
    if found.has_errors() {
        return exit_code::INVALID_INPUT;
    }
    let mut needed: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for workflow in &workflows {
        for group in workflow.groups {
            needed.entry(group).or_default().push(workflow.name);
        }
    }
    let draft = InventoryDraft::new(&inventory, &needed);
    let starter = Starter::new(&workflows, draft.render(&read(sources, &inventory)));

    // All or nothing: a file the user already has is theirs, and half a starter is worse
    // than none.
    let conflicts: Vec<&Path> = starter
        .files
        .iter()
        .map(|f| f.path.as_path())
        .filter(|p| p.symlink_metadata().is_ok())
        .collect();
    if !conflicts.is_empty() {
        eprintln!("error: init would overwrite what is already here; nothing was written:");
        for path in conflicts {
            eprintln!("  {} exists", path.display());
        }
        eprintln!(
            "help: run `tsync init` in an empty directory, or move these away first; \
             `--with NAME,…` writes only some workflows"
        );
        return exit_code::INVALID_INPUT;
    }
    if let Err((path, e)) = write(&starter) {
        eprintln!("error: cannot write {}: {e}", path.display());
        return exit_code::INTERNAL;
    }

    let mut out = String::new();
    let (defined, examples) = draft.group_names();
    out.push_str(&format!("wrote {INVENTORY_FILE}"));
    if !defined.is_empty() {
        out.push_str(&format!(": groups {}", defined.join(", ")));
    }
    if !examples.is_empty() {
        out.push_str(&format!(
            " (no host known: {} left commented out for you to fill in)",
            examples.join(", ")
        ));
    }
    out.push('\n');
    for file in starter.files.iter().skip(1) {
        out.push_str(&format!("wrote {}\n", file.path.display()));
    }
    out.push_str(&format!(
        "next: review the groups in {INVENTORY_FILE}, then run `tsync check playbooks/*.kdl`\n"
    ));
    match std::io::stdout().lock().write_all(out.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("error: cannot write to stdout: {e}");
            exit_code::INTERNAL
        }
        _ => exit_code::SUCCESS,
    }
}

/// The workflows `--with` names, in the catalog's order (all of them without `--with`); an
/// unknown name is reported with the closest one.
fn chosen(with: &[String]) -> Result<Vec<&'static Workflow>, i32> {
    if with.is_empty() {
        return Ok(WORKFLOWS.iter().collect());
    }
    let mut unknown = false;
    for name in with {
        if find(name).is_none() {
            unknown = true;
            eprintln!("error: there is no built-in workflow named `{name}`");
            let names = WORKFLOWS.iter().map(|w| w.name);
            match did_you_mean(name, names) {
                Some(close) => {
                    eprintln!("help: did you mean `{close}`? `tsync workflows` lists them")
                }
                None => eprintln!("help: `tsync workflows` lists them"),
            }
        }
    }
    if unknown {
        return Err(exit_code::INVALID_INPUT);
    }
    Ok(WORKFLOWS
        .iter()
        .filter(|w| with.iter().any(|n| n == w.name))
        .collect())
}

/// One line per source of hosts and groups: what was read, and what it held.
fn read(sources: &Sources, inventory: &Inventory) -> Vec<String> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let shown = |path: &Path| match home.as_deref().and_then(|h| path.strip_prefix(h).ok()) {
        Some(rest) if home.as_deref() != Some(Path::new("/")) => format!("~/{}", rest.display()),
        _ => path.display().to_string(),
    };
    let mut lines = Vec::new();
    let config = sources
        .ssh_config
        .clone()
        .or_else(|| home.as_ref().map(|h| h.join(".ssh/config")));
    if let Some(config) = config {
        let hosts = inventory.hosts().iter().filter(|h| h.in_ssh_config).count();
        lines.push(if config.exists() {
            format!("the ssh config {}: {hosts} hosts", shown(&config))
        } else {
            format!("the ssh config {}: not found", shown(&config))
        });
    }
    lines.push(match inventory.tailscale.why_not() {
        None => {
            let peers = inventory.hosts().iter().filter(|h| h.os.is_some()).count();
            format!("Tailscale: {peers} peers")
        }
        Some(why) => format!("Tailscale: not read ({why})"),
    });
    if let Some(path) = sshsync::default_path() {
        let groups = inventory.groups().count();
        lines.push(if path.exists() {
            format!("sshsync's groups in {}: {groups} groups", shown(&path))
        } else {
            format!("sshsync's groups: none ({} not found)", shown(&path))
        });
    }
    lines
}

/// Writes every file, none over an existing one; on a failure, removes those written.
fn write(starter: &Starter) -> Result<(), (PathBuf, std::io::Error)> {
    let mut written = Vec::new();
    for file in &starter.files {
        let result = file
            .path
            .parent()
            .filter(|dir| !dir.as_os_str().is_empty())
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| {
                std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(if file.executable { 0o755 } else { 0o644 })
                    .open(&file.path)
            })
            .and_then(|mut f| f.write_all(file.text.as_bytes()));
        if let Err(e) = result {
            for path in written {
                let _ = std::fs::remove_file(path);
            }
            return Err((file.path.clone(), e));
        }
        written.push(&file.path);
    }
    Ok(())
}
