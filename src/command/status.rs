//! `tsync status [SELECTOR]`: which hosts answer over SSH, how far away and how loaded they
//! are, beside Tailscale's view. Exit 0 when every selected host answers, 4 otherwise, so a
//! cron job can alert on it.

use std::io::{self, IsTerminal, Write};
use std::sync::Arc;
use std::time::SystemTime;

use crate::cli::{Inputs, StatusFlags};
use crate::command::Prepared;
use crate::diagnostic::{Code, Diagnostic, Source};
use crate::exit_code;
use crate::fleet::{self, HostStatus, Score, TailscaleView, Target};
use crate::inventory::{Host, Inventory};
use crate::plan::ad_hoc_hosts;
use crate::report::OutputFormat;
use crate::report::diagnostics::{self, Color};
use crate::report::status_table::{self, Style};
use crate::transport::Connector;

pub fn run(selector: &str, flags: &StatusFlags, inputs: &Inputs, color: Color) -> i32 {
    let mut prepared = Prepared::new(inputs);
    let source = Source::new("selector", selector);
    let (selected, found) = ad_hoc_hosts(selector, &source, &prepared.inventory, prepared.limit());
    prepared.diagnostics.extend(found);
    if selected.as_ref().is_some_and(|(_, pick)| pick.is_some()) {
        prepared.diagnostics.push(
            Diagnostic::error(Code::BadSelector, "`status` shows every host it selects")
                .in_source(&source)
                .label((0, selector.len()).into(), "picks by load")
                .help("`tsync status` shows each host's load score; `least-loaded(…)` is for `run` and `on`"),
        );
    }
    diagnostics::print(&prepared.diagnostics, color);
    let Some((selected, _)) = selected.filter(|_| !prepared.diagnostics.has_errors()) else {
        return exit_code::INVALID_INPUT;
    };
    let inventory = &prepared.inventory;
    // The address and port ssh would use, for the TCP connect time.
    let (addresses, warnings) = inventory.resolve(&selected);
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
    let hosts: Vec<&Host> = selected.iter().map(|&i| inventory.host(i)).collect();
    let targets: Vec<Target> = selected
        .iter()
        .map(|&i| {
            let host = inventory.host(i);
            Target {
                name: host.name.clone(),
                destination: host.destination().to_string(),
                address: addresses.get(&i).map(|r| (r.hostname.clone(), r.port)),
            }
        })
        .collect();
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
    let terminal = io::stdout().is_terminal();
    let style = Style::for_terminal(terminal, color.enabled(terminal));
    runtime.block_on(async {
        loop {
            let rows = match survey(&targets, &hosts, inventory, flags).await {
                Ok(rows) => rows,
                Err(e) => {
                    eprintln!("error: {e}");
                    return exit_code::INTERNAL;
                }
            };
            let code = if rows.iter().all(|r| r.online) {
                exit_code::SUCCESS
            } else {
                exit_code::UNREACHABLE
            };
            if let Err(e) = show(&rows, flags, style, terminal) {
                if e.kind() == io::ErrorKind::BrokenPipe {
                    return code;
                }
                eprintln!("error: cannot write the status to stdout: {e}");
                return exit_code::INTERNAL;
            }
            let Some(every) = flags.watch else {
                return code;
            };
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = tokio::signal::ctrl_c() => return exit_code::INTERRUPTED,
            }
        }
    })
}

/// One round: every host asked at once, each row filled in.
async fn survey(
    targets: &[Target],
    hosts: &[&Host],
    inventory: &Inventory,
    flags: &StatusFlags,
) -> io::Result<Vec<HostStatus>> {
    let connector = Arc::new(Connector::new(
        inventory.ssh_config.as_deref(),
        flags.timeout,
        flags.max_connecting,
    )?);
    let answers = fleet::survey(connector, targets, flags.timeout, flags.jobs).await;
    let now = SystemTime::now();
    Ok(hosts
        .iter()
        .zip(answers)
        .map(|(host, answer)| {
            let (online, error, load, round_trip) = match answer.probed {
                Ok(probed) => (true, None, Some(probed.load), probed.round_trip),
                Err(e) => (false, Some(e), None, None),
            };
            let tailscale = host.online.map(|online| TailscaleView {
                online,
                path: host.path.clone(),
                last_seen: host.last_seen.clone(),
                key_expiry: host.key_expiry.clone(),
                key_expired: host.key_expired,
            });
            let tailscale_seen = host
                .last_seen
                .as_deref()
                .and_then(|t| humantime::parse_rfc3339_weak(t).ok());
            HostStatus {
                host: host.name.clone(),
                groups: groups_of(inventory, &host.name),
                online,
                error,
                tcp_connect_ms: answer.tcp_connect,
                round_trip_ms: round_trip,
                last_seen: if online { Some(now) } else { tailscale_seen },
                score: load.as_ref().map(Score::of),
                load,
                tailscale,
            }
        })
        .collect())
}

fn groups_of(inventory: &Inventory, host: &str) -> Vec<String> {
    let Some(i) = inventory.host_index(host) else {
        return Vec::new();
    };
    let mut groups: Vec<String> = inventory
        .groups()
        .filter(|(_, members, _)| members.contains(&i))
        .map(|(name, _, _)| name.to_string())
        .collect();
    groups.sort();
    groups
}

fn show(rows: &[HostStatus], flags: &StatusFlags, style: Style, terminal: bool) -> io::Result<()> {
    let mut out = io::stdout().lock();
    match flags.output {
        OutputFormat::Human => {
            if flags.watch.is_some() && terminal {
                // Home and clear: each refresh replaces the last.
                out.write_all(b"\x1b[H\x1b[2J")?;
            }
            out.write_all(status_table::render(rows, style, SystemTime::now()).as_bytes())?;
        }
        OutputFormat::Json => {
            let online = rows.iter().filter(|r| r.online).count();
            let document = serde_json::json!({
                "hosts": rows,
                "online": online,
                "total": rows.len(),
            });
            serde_json::to_writer(&mut out, &document)?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()
}
