//! `tsync history`: recent runs, newest first; `tsync history show RUN`: the recap of one.

use std::io::{self, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::cli::HistoryCommand;
use crate::exit_code;
use crate::history::{History, HistoryError, RunId, RunRecord, ago, from_millis};
use crate::report::{OutputFormat, printable};

pub fn run(
    show: Option<&HistoryCommand>,
    host: Option<&str>,
    last: usize,
    output: OutputFormat,
) -> i32 {
    let shown = History::open().and_then(|history| match show {
        Some(HistoryCommand::Show {
            run,
            timeline,
            output,
        }) => {
            let run = history.run(RunId(*run))?;
            if let Some(file) = timeline {
                draw(&history, &run, file)?;
            }
            Ok(match output {
                OutputFormat::Human => recap(&run, SystemTime::now()),
                OutputFormat::Json => json(&run),
            })
        }
        None => {
            let runs = history.runs(host, last)?;
            Ok(match output {
                OutputFormat::Human if runs.is_empty() => {
                    format!("no runs recorded in {}\n", history.path().display())
                }
                OutputFormat::Human => table(&runs, SystemTime::now()),
                OutputFormat::Json => json(&runs),
            })
        }
    });
    match shown {
        Ok(text) => match io::stdout().lock().write_all(text.as_bytes()) {
            Ok(()) => exit_code::SUCCESS,
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => exit_code::SUCCESS,
            Err(e) => {
                eprintln!("error: cannot write to stdout: {e}");
                exit_code::INTERNAL
            }
        },
        Err(e @ HistoryError::UnknownRun { .. }) => {
            eprintln!("error: {e}");
            exit_code::INVALID_INPUT
        }
        Err(e) => {
            eprintln!("error: history: {e}");
            exit_code::INTERNAL
        }
    }
}

/// Writes the run's timeline to `file`, whole or not at all (a temp file renamed over it).
fn draw(history: &History, run: &RunRecord, file: &Path) -> Result<(), HistoryError> {
    let events = history.events(run.id)?;
    let title = format!("run {}: {} {}", run.id.0, run.kind, run.target);
    let svg = crate::history::timeline(&title, &events);
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let written = tempfile::NamedTempFile::new_in(dir).and_then(|mut temp| {
        temp.write_all(svg.as_bytes())?;
        temp.persist(file).map_err(|e| e.error)
    });
    written.map(|_| ()).map_err(|e| HistoryError::Timeline {
        path: file.to_path_buf(),
        source: e,
    })
}

fn json(value: &impl serde::Serialize) -> String {
    let mut text = serde_json::to_string(value).unwrap_or_default();
    text.push('\n');
    text
}

/// One line per run, in aligned columns.
fn table(runs: &[RunRecord], now: SystemTime) -> String {
    let mut rows = vec![
        [
            "ID", "WHEN", "KIND", "TARGET", "USER", "TOOK", "EXIT", "HOSTS",
        ]
        .map(String::from),
    ];
    for run in runs {
        let ok = run.hosts_with("ok");
        let hosts = match run.hosts.len() - ok {
            0 => format!("{ok} ok"),
            failed => format!("{ok} ok, {failed} failed"),
        };
        rows.push([
            run.id.to_string(),
            when(run.started_ms, now),
            run.kind.clone(),
            printable(&run.target).into_owned(),
            printable(&run.user).into_owned(),
            took(run),
            exit(run),
            hosts,
        ]);
    }
    let mut widths = [0; 8];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    for row in &rows {
        let mut line = String::new();
        for (cell, width) in row.iter().zip(widths) {
            line.push_str(&format!("{cell:<width$}  "));
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

/// The run, then one line per host.
fn recap(run: &RunRecord, now: SystemTime) -> String {
    let mut text = format!(
        "run {}: {} {}\nby {}, {}, took {}, exit code {}\n",
        run.id,
        run.kind,
        printable(&run.target),
        printable(&run.user),
        when(run.started_ms, now),
        took(run),
        exit(run),
    );
    let width = run
        .hosts
        .iter()
        .map(|h| printable(&h.host).chars().count())
        .max()
        .unwrap_or(0);
    for host in &run.hosts {
        let name = printable(&host.host);
        let mut line = format!(
            "  {name:<width$}  {:<11}  {:>8}",
            host.outcome,
            secs(host.duration_secs)
        );
        if let Some(failure) = &host.failure {
            line.push_str("  ");
            line.push_str(&printable(failure));
        }
        text.push_str(&line);
        text.push('\n');
    }
    text
}

/// `2h ago (2026-11-29T04:12:00Z)`.
fn when(started_ms: i64, now: SystemTime) -> String {
    let started = from_millis(started_ms);
    let elapsed = now.duration_since(started).unwrap_or(Duration::ZERO);
    let at = humantime::format_rfc3339_seconds(started);
    format!("{} ({at})", ago(elapsed))
}

fn took(run: &RunRecord) -> String {
    match run.ended_ms {
        Some(ended) => secs((ended - run.started_ms).max(0) as f64 / 1000.0),
        None => "-".to_string(),
    }
}

/// The exit code, or `-` for a run that has not ended (or whose tsync died).
fn exit(run: &RunRecord) -> String {
    run.exit_code.map_or("-".to_string(), |c| c.to_string())
}

fn secs(s: f64) -> String {
    if s < 10.0 {
        format!("{s:.2}s")
    } else if s < 120.0 {
        format!("{s:.1}s")
    } else {
        format!("{}m{:02}s", (s / 60.0) as u64, (s % 60.0) as u64)
    }
}
