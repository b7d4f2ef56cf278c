//! `tsync status` for people: one row per host, sorted by group then name, with why a host
//! is offline on the line below it.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use super::printable::printable;
use crate::fleet::HostStatus;
use crate::history::ago;

/// How rows are marked: coloured emoji where the terminal shows them, words elsewhere.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
    pub emoji: bool,
}

impl Style {
    /// Emoji only on a terminal whose locale is UTF-8 and which is not the Linux console
    /// (its font has no emoji).
    pub fn for_terminal(terminal: bool, color: bool) -> Style {
        let locale = ["LC_ALL", "LC_CTYPE", "LANG"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
            .unwrap_or_default()
            .to_ascii_lowercase();
        let utf8 = locale.contains("utf-8") || locale.contains("utf8");
        let console = std::env::var("TERM").is_ok_and(|t| t == "linux");
        Style {
            color,
            emoji: terminal && utf8 && !console,
        }
    }
}

const HEADER: [&str; 12] = [
    "", "HOST", "GROUP", "SSH", "TCP", "RTT", "LOAD", "CPU", "MEM", "DISK", "SCORE", "SEEN",
];

/// The table, sorted, with a last line counting hosts up and down.
pub fn render(rows: &[HostStatus], style: Style, now: SystemTime) -> String {
    let mut sorted: Vec<&HostStatus> = rows.iter().collect();
    sorted.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
    let mut cells: Vec<[String; 12]> = vec![HEADER.map(str::to_string)];
    let mut notes: Vec<Option<String>> = vec![None];
    for row in &sorted {
        cells.push(cells_of(row, style, now));
        notes.push(note_of(row));
    }
    let mut widths = [0usize; 12];
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for (i, (row, note)) in cells.iter().zip(&notes).enumerate() {
        let mut line = String::new();
        for (j, (cell, width)) in row.iter().zip(widths).enumerate() {
            if width == 0 {
                continue;
            }
            let padded = format!("{cell:<width$}");
            let painted = match (j, i) {
                (3, 1..) if style.color => paint(&padded, sorted[i - 1].online),
                _ => padded,
            };
            line.push_str(&painted);
            line.push_str("  ");
        }
        let _ = writeln!(out, "{}", line.trim_end());
        if let Some(note) = note {
            let _ = writeln!(out, "    {note}");
        }
    }
    let up = rows.iter().filter(|r| r.online).count();
    let _ = writeln!(out, "{up} of {} hosts online", rows.len());
    out
}

fn sort_key(row: &HostStatus) -> (bool, &str, &str) {
    match row.groups.first() {
        Some(group) => (false, group.as_str(), row.host.as_str()),
        None => (true, "", row.host.as_str()),
    }
}

fn cells_of(row: &HostStatus, style: Style, now: SystemTime) -> [String; 12] {
    let mark = match (style.emoji, row.online) {
        (true, true) => "🟢",
        (true, false) => "🔴",
        (false, _) => "",
    };
    let load = row.load.as_ref();
    let percent = |share: Option<f64>| share.map_or("-".into(), |s| format!("{:.0}%", s * 100.0));
    [
        mark.to_string(),
        printable(&row.host).into_owned(),
        row.groups
            .first()
            .map_or("-".into(), |g| printable(g).into_owned()),
        ssh_state(row),
        ms(row.tcp_connect_ms),
        ms(row.round_trip_ms),
        load.map_or("-".into(), |l| format!("{:.2}/{}", l.load[0], l.cpus)),
        percent(load.and_then(|l| l.cpu_busy)),
        percent(load.and_then(|l| l.mem_used)),
        percent(load.and_then(|l| l.disk_used)),
        row.score.map_or("-".into(), |s| format!("{:.2}", s.total)),
        seen(row, now),
    ]
}

/// The SSH truth, with Tailscale's view beside it when Tailscale knows the host.
fn ssh_state(row: &HostStatus) -> String {
    let ssh = if row.online { "online" } else { "offline" };
    match &row.tailscale {
        None => ssh.to_string(),
        Some(ts) => {
            let mut view = String::from(if ts.online { "online" } else { "offline" });
            if let Some(path) = &ts.path {
                view.push_str(&format!(", {}", printable(path)));
            }
            if ts.key_expired {
                view.push_str(", key expired");
            }
            format!("{ssh} (tailscale: {view})")
        }
    }
}

/// Why a host is offline, under its row.
fn note_of(row: &HostStatus) -> Option<String> {
    let error = row.error.as_ref()?;
    Some(format!("└ {}", printable(error)))
}

fn ms(d: Option<Duration>) -> String {
    match d {
        Some(d) if d < Duration::from_millis(10) => format!("{:.1}ms", d.as_secs_f64() * 1e3),
        Some(d) => format!("{:.0}ms", d.as_secs_f64() * 1e3),
        None => "-".into(),
    }
}

fn seen(row: &HostStatus, now: SystemTime) -> String {
    if row.online {
        return "now".into();
    }
    match row.last_seen {
        Some(at) => ago(now.duration_since(at).unwrap_or_default()),
        None => "never".into(),
    }
}

fn paint(text: &str, online: bool) -> String {
    let color = if online { "\x1b[32m" } else { "\x1b[31m" };
    format!("{color}{text}\x1b[0m")
}
