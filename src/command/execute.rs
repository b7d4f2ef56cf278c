//! Runs a plan with a reporter attached and Ctrl-C handled; shared by `apply` and `run`.

use std::io::IsTerminal;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use crate::cli::{Execution, OutputFormat};
use crate::exit_code;
use crate::plan::Plan;
use crate::report::diagnostics::Color;
use crate::report::{Human, JsonLines};
use crate::runner::{Cancel, Event, RunOptions, Runner};

pub fn execute(plan: Plan, execution: &Execution, color: Color) -> i32 {
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
    let options = RunOptions {
        jobs: execution.jobs,
        connect_timeout: execution.connect_timeout,
        max_connecting: execution.max_connecting,
    };
    let host_names: Vec<String> = plan.hosts.iter().map(|h| h.name.clone()).collect();
    let (events, mut received) = mpsc::unbounded_channel::<Event>();

    // The reporter writes to stdout, which may block (a slow pipe): it gets its own thread.
    let format = execution.output;
    let reporter = std::thread::spawn(move || {
        let stdout = std::io::stdout();
        let terminal = stdout.is_terminal();
        match format {
            OutputFormat::Human => {
                let mut human = Human::new(
                    stdout.lock(),
                    terminal,
                    color.enabled(terminal),
                    &host_names,
                );
                while let Some(event) = received.blocking_recv() {
                    human.handle(&event);
                }
            }
            OutputFormat::Json => {
                let mut json = JsonLines::new(stdout.lock());
                while let Some(event) = received.blocking_recv() {
                    json.handle(&event);
                }
            }
        }
    });

    let code = runtime.block_on(async {
        let (cancel, cancelled) = watch::channel(Cancel::No);
        let signals = match watch_signals(cancel, events.clone()) {
            Ok(task) => task,
            Err(e) => {
                eprintln!("error: cannot listen for Ctrl-C: {e}");
                return exit_code::INTERNAL;
            }
        };
        let result = Runner::new(plan, options, events, cancelled).run().await;
        signals.abort();
        match result {
            Ok(summary) => summary.exit_code,
            Err(e) => {
                eprintln!("error: cannot prepare the run: {e}");
                exit_code::INTERNAL
            }
        }
    });
    // Every sender is gone once the runner returned: the reporter drains and ends.
    let _ = reporter.join();
    runtime.shutdown_timeout(Duration::from_secs(1));
    code
}

/// First Ctrl-C: finish what runs, start nothing new. Second Ctrl-C or SIGTERM: stop now.
fn watch_signals(
    cancel: watch::Sender<Cancel>,
    events: mpsc::UnboundedSender<Event>,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(tokio::spawn(async move {
        loop {
            let forced = tokio::select! {
                _ = interrupt.recv() => *cancel.borrow() >= Cancel::Graceful,
                _ = terminate.recv() => true,
            };
            let level = if forced {
                Cancel::Forced
            } else {
                Cancel::Graceful
            };
            if *cancel.borrow() >= level {
                continue;
            }
            cancel.send_replace(level);
            let _ = events.send(Event::CancelRequested { forced });
        }
    }))
}
