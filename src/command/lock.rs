//! `tsync lock status|release SELECTOR`: the deploy locks on a set of hosts, and removing
//! one by its id when its holder is gone.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::task::JoinSet;

use crate::cli::{Inputs, LockCommand};
use crate::command::Prepared;
use crate::diagnostic::Source;
use crate::exit_code;
use crate::lock::{self, FoundLock, LockRecord, Released, unix_now};
use crate::plan::ad_hoc_hosts;
use crate::playbook::is_lock_name;
use crate::report::OutputFormat;
use crate::report::diagnostics::{self, Color};
use crate::transport::{Connection, Connector};

/// How long one host may take to connect.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshakes at once.
const MAX_CONNECTING: usize = 32;

/// One host's answer: its locks, or why it could not be asked.
struct HostLocks {
    host: String,
    connection: Option<Connection>,
    locks: Result<Vec<FoundLock>, String>,
}

/// A lock as `--output json` shows it.
#[derive(Serialize)]
struct LockRow<'a> {
    host: &'a str,
    name: &'a str,
    stale: bool,
    record: Option<&'a LockRecord>,
}

pub fn run(command: &LockCommand, color: Color) -> i32 {
    let (selector, inputs) = match command {
        LockCommand::Status {
            selector, inputs, ..
        }
        | LockCommand::Release {
            selector, inputs, ..
        } => (selector, inputs),
    };
    if let LockCommand::Release { id, .. } = command
        && !is_lock_name(id)
    {
        eprintln!("error: `{id}` is not a lock id\n  help: copy the id from `tsync lock status`");
        return exit_code::INVALID_INPUT;
    }
    let Some(hosts) = select(selector, inputs, color) else {
        return exit_code::INVALID_INPUT;
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return exit_code::INTERNAL;
        }
    };
    runtime.block_on(async {
        let ssh_config = hosts.0.clone();
        // The connector holds the control sockets: it outlives every connection.
        let (_connector, answers) = match ask(ssh_config.as_deref(), hosts.1).await {
            Ok(a) => a,
            Err(e) => {
                eprintln!("error: cannot connect: {e}");
                return exit_code::INTERNAL;
            }
        };
        let code = match command {
            LockCommand::Status { output, .. } => status(&answers, *output),
            LockCommand::Release { id, .. } => release(&answers, id).await,
        };
        Connection::close_each(answers.into_iter().filter_map(|a| a.connection)).await;
        code
    })
}

/// The ssh config and the selected hosts (name, destination), or None after diagnostics.
#[expect(clippy::type_complexity, reason = "a pair read once by the caller")]
fn select(
    selector: &str,
    inputs: &Inputs,
    color: Color,
) -> Option<(Option<std::path::PathBuf>, Vec<(String, String)>)> {
    let mut prepared = Prepared::new(inputs);
    let source = Source::new("selector", selector);
    let (selected, found) = ad_hoc_hosts(selector, &source, &prepared.inventory, prepared.limit());
    prepared.diagnostics.extend(found);
    diagnostics::print(&prepared.diagnostics, color);
    let (selected, _) = selected.filter(|_| !prepared.diagnostics.has_errors())?;
    let inventory = &prepared.inventory;
    let hosts = selected
        .iter()
        .map(|&i| {
            let host = inventory.host(i);
            (host.name.clone(), host.destination().to_string())
        })
        .collect();
    Some((inventory.ssh_config.clone(), hosts))
}

/// Connects to every host at once and lists its locks; answers in host order.
async fn ask(
    ssh_config: Option<&std::path::Path>,
    hosts: Vec<(String, String)>,
) -> std::io::Result<(Arc<Connector>, Vec<HostLocks>)> {
    let connector = Arc::new(Connector::new(ssh_config, CONNECT_TIMEOUT, MAX_CONNECTING)?);
    let mut asking = JoinSet::new();
    for (i, (host, destination)) in hosts.into_iter().enumerate() {
        let connector = connector.clone();
        asking.spawn(async move {
            let answer = match connector.connect(&destination).await {
                Ok(connection) => {
                    let locks = lock::list(&connection).await;
                    HostLocks {
                        host,
                        connection: Some(connection),
                        locks,
                    }
                }
                Err(e) => HostLocks {
                    host,
                    connection: None,
                    locks: Err(format!("unreachable: {}", e.message)),
                },
            };
            (i, answer)
        });
    }
    let mut answers = Vec::new();
    while let Some(joined) = asking.join_next().await {
        answers.push(joined.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic())));
    }
    answers.sort_by_key(|(i, _)| *i);
    Ok((connector, answers.into_iter().map(|(_, a)| a).collect()))
}

/// Prints every lock found; exit 4 when a host could not be asked.
fn status(answers: &[HostLocks], output: OutputFormat) -> i32 {
    let now = unix_now();
    let mut failed = false;
    let mut rows = Vec::new();
    for answer in answers {
        match &answer.locks {
            Ok(locks) => rows.extend(locks.iter().map(|found| LockRow {
                host: &answer.host,
                name: &found.name,
                stale: found.record.as_ref().is_some_and(|r| r.is_stale(now)),
                record: found.record.as_ref(),
            })),
            Err(e) => {
                failed = true;
                eprintln!("error: {}: {e}", answer.host);
            }
        }
    }
    match output {
        OutputFormat::Json => {
            let text = serde_json::json!({ "locks": rows });
            println!("{text}");
        }
        OutputFormat::Human if rows.is_empty() => {
            println!(
                "no deploy locks on {} host{}",
                answers.len(),
                plural(answers.len())
            );
        }
        OutputFormat::Human => print_table(&rows, now),
    }
    if failed {
        exit_code::UNREACHABLE
    } else {
        exit_code::SUCCESS
    }
}

fn print_table(rows: &[LockRow], now: u64) {
    let mut lines = vec![[
        "HOST".to_string(),
        "LOCK".to_string(),
        "STATE".to_string(),
        "HOLDER".to_string(),
        "HEARTBEAT".to_string(),
        "ID".to_string(),
        "MESSAGE".to_string(),
    ]];
    for row in rows {
        let state = if row.stale { "stale" } else { "live" };
        let (holder, heartbeat, id, message) = match row.record {
            Some(r) => (
                format!("{}@{} (pid {})", r.user, r.controller, r.pid),
                format!(
                    "{} ago",
                    humantime::format_duration(Duration::from_secs(
                        now.saturating_sub(r.heartbeat)
                    ))
                ),
                r.id.clone(),
                r.message.clone().unwrap_or_default(),
            ),
            None => (
                "(record unreadable)".into(),
                "-".into(),
                "-".into(),
                String::new(),
            ),
        };
        lines.push([
            row.host.to_string(),
            row.name.to_string(),
            state.to_string(),
            holder,
            heartbeat,
            id,
            message,
        ]);
    }
    let widths: Vec<usize> = (0..7)
        .map(|c| {
            lines
                .iter()
                .map(|l| l[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for line in lines {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:w$}"))
            .collect();
        println!("{}", crate::report::printable(cells.join("  ").trim_end()));
    }
}

/// Removes every lock whose id is `id`; exit 2 when there is none.
async fn release(answers: &[HostLocks], id: &str) -> i32 {
    let now = unix_now();
    let mut released = 0;
    let mut failed = false;
    let mut others = Vec::new();
    for answer in answers {
        let (Some(connection), Ok(locks)) = (&answer.connection, &answer.locks) else {
            if let Err(e) = &answer.locks {
                eprintln!("error: {}: {e}", answer.host);
            }
            failed = true;
            continue;
        };
        for found in locks {
            let Some(record) = found.record.as_ref() else {
                continue;
            };
            if record.id != id {
                others.push(format!(
                    "`{}` on {} (id {})",
                    found.name, answer.host, record.id
                ));
                continue;
            }
            match lock::release(connection, &found.name, id).await {
                Ok(Released::Released) => {
                    released += 1;
                    println!(
                        "released lock `{}` on {}, {}",
                        found.name,
                        answer.host,
                        record.describe(now)
                    );
                }
                Ok(Released::Gone) => {}
                Ok(Released::Other(_)) => others.push(format!(
                    "`{}` on {} (taken again meanwhile)",
                    found.name, answer.host
                )),
                Err(e) => {
                    failed = true;
                    eprintln!(
                        "error: cannot release `{}` on {}: {e}",
                        found.name, answer.host
                    );
                }
            }
        }
    }
    if released == 0 {
        let found = if others.is_empty() {
            "there are no locks there".to_string()
        } else {
            format!("locks there: {}", others.join(", "))
        };
        eprintln!(
            "error: no lock with id {id} on the selected hosts; nothing was released ({found})\n  \
             help: `tsync lock status` lists each lock with its id"
        );
        return exit_code::INVALID_INPUT;
    }
    if failed {
        exit_code::UNREACHABLE
    } else {
        exit_code::SUCCESS
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
