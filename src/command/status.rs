//! `tsync status [SELECTOR]`: which hosts answer over SSH, how far away and how loaded they
//! are, beside Tailscale's view. Exit 0 when every selected host answers, 4 otherwise, so a
//! cron job can alert on it.

use std::collections::HashMap;
use std::io::{self, IsTerminal, Write};
use std::sync::Arc;
use std::time::SystemTime;

use tokio::signal::unix::{SignalKind, signal};

use crate::cli::{Inputs, StatusFlags};
use crate::command::Prepared;
use crate::diagnostic::{Code, Diagnostic, Source};
use crate::exit_code;
use crate::fleet::{self, Disk, HostStatus, Score, TailscaleView, Target};
use crate::history::{History, HostRecord, NewRun, RunId, RunKind};
use crate::inventory::{Host, Inventory};
use crate::plan::ad_hoc_hosts;
use crate::report::diagnostics::{self, Color};
use crate::report::status_table::{self, Style};
use crate::report::{OutputFormat, warn_history};
use crate::transport::{Connector, Masters};

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
    let runtime = match super::start_runtime(&mut tokio::runtime::Builder::new_multi_thread()) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let terminal = io::stdout().is_terminal();
    let style = Style::for_terminal(terminal, color.enabled(terminal));
    let mut recording = Recording::open(selector);
    runtime.block_on(async {
        // One listener for the whole command: a Ctrl-C that lands while a round is being
        // asked must end the watch too, and a listener made per sleep would miss it.
        let mut interrupt = match signal(SignalKind::interrupt()) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: cannot listen for Ctrl-C: {e}");
                return exit_code::INTERNAL;
            }
        };
        loop {
            let names: Vec<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
            let last_seen = recording.last_seen(&names);
            let round = survey(&targets, &hosts, inventory, flags, &last_seen);
            tokio::pin!(round);
            let rows = tokio::select! {
                rows = &mut round => rows,
                _ = interrupt.recv() => {
                    // The round is bounded by the status timeout: let it close its
                    // connections rather than leave masters behind, then stop.
                    let _ = round.await;
                    return exit_code::INTERRUPTED;
                }
            };
            let rows = match rows {
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
            recording.record(&rows, code);
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
                _ = interrupt.recv() => return exit_code::INTERRUPTED,
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
    last_seen: &HashMap<String, SystemTime>,
) -> io::Result<Vec<HostStatus>> {
    let mut connector = Connector::new(
        inventory.ssh_config.as_deref(),
        flags.timeout,
        flags.max_connecting,
    )?;
    if let Some(idle) = flags.persist {
        match Masters::open(idle, inventory.ssh_config.as_deref()) {
            Ok(masters) => connector = connector.persist(masters),
            Err(e) => eprintln!("warning: connections are not kept (--persist): {e}"),
        }
    }
    let connector = Arc::new(connector);
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
            let took = answer.took;
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
                // For a host that did not answer: the later of tsync's and Tailscale's sight.
                last_seen: if online {
                    Some(now)
                } else {
                    last_seen.get(&host.name).copied().max(tailscale_seen)
                },
                took,
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

/// The run history, while it works: its first failure is a warning, and from then on this
/// status goes unrecorded (never failed). A `--watch` is one run in the history, the hosts'
/// last sight updated on every refresh.
struct Recording {
    history: Option<History>,
    run: Option<NewRun>,
}

impl Recording {
    fn open(selector: &str) -> Recording {
        let history = History::open().map_err(|e| warn_history(&e)).ok();
        Recording {
            history,
            run: Some(NewRun::new(RunKind::Status, selector.to_string())),
        }
    }

    fn last_seen(&mut self, hosts: &[&str]) -> HashMap<String, SystemTime> {
        let Some(history) = &self.history else {
            return HashMap::new();
        };
        match history.last_seen(hosts) {
            Ok(seen) => seen,
            Err(e) => {
                warn_history(&e);
                self.history = None;
                HashMap::new()
            }
        }
    }

    fn record(&mut self, rows: &[HostStatus], code: i32) {
        let Some(history) = &mut self.history else {
            return;
        };
        let recorded = (|| {
            let mut disks = Vec::new();
            for row in rows.iter().filter(|r| r.online) {
                let probe = serde_json::to_string(&row.load).ok();
                let seen = row.last_seen.unwrap_or_else(SystemTime::now);
                history.seen(&row.host, seen, probe.as_deref())?;
                // What a placement in the next minutes takes instead of running `df`.
                if let Some(disk) = row.load.as_ref().and_then(|load| Disk::of(load, seen)) {
                    disks.push((row.host.clone(), disk));
                }
            }
            history.record_disks(&disks)?;
            if let Some(run) = self.run.take() {
                let id: RunId = history.begin(&run)?;
                let hosts: Vec<HostRecord> = rows
                    .iter()
                    .map(|r| HostRecord {
                        host: r.host.clone(),
                        outcome: if r.online { "ok" } else { "unreachable" }.to_string(),
                        duration_secs: r.took.as_secs_f64(),
                        failure: r.error.clone(),
                    })
                    .collect();
                history.finish(id, code, &hosts)?;
            }
            Ok(())
        })();
        if let Err(e) = recorded {
            warn_history(&e);
            self.history = None;
        }
    }
}
