//! `tsync-lab up`: starts a lab for a demo or a benchmark, prints how to
//! reach it, and keeps it until SIGINT, SIGTERM or SIGHUP.
//!
//! Scripts run it in the background and read its standard output:
//!
//! ```text
//! ssh_config=/tmp/tsync-lab-Ab12Cd/ssh_config
//! host lab-1 127.83.4.1:22
//! host lab-2 127.83.4.2:22
//! ```
//!
//! followed by `lacks: ...` lines when the lab is reduced (not run as root). With `--http`
//! every host also gets an HTTP service on its own address (see
//! [`tsync_lab::HttpService`]), all on one port, announced before the hosts as
//! `http_port=PORT`.

use std::error::Error;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::{mem, ptr};

use clap::{Parser, Subcommand};
use tsync_lab::{HttpService, Lab, LabOptions};

#[derive(Parser)]
#[command(
    name = "tsync-lab",
    version,
    about = "Real OpenSSH servers on loopback addresses"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start a lab, print its ssh_config and hosts, and keep it until
    /// SIGINT, SIGTERM or SIGHUP.
    Up {
        /// How many hosts, 1 to 1000.
        #[arg(long, default_value_t = 3)]
        hosts: usize,
        /// Hosts are named PREFIX-1, PREFIX-2, ...
        #[arg(long, default_value = "lab")]
        prefix: String,
        /// Keep the lab's files in DIR (created if missing) instead of a
        /// temporary directory, and leave them there afterwards.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Start an HTTP service on every host's address, all on one free
        /// port, answering as the host's `/srv/health` file says (a full,
        /// root lab: the hosts of a reduced lab share one address).
        #[arg(long)]
        http: bool,
    },
}

fn main() -> ExitCode {
    let Command::Up {
        hosts,
        prefix,
        dir,
        http,
    } = Cli::parse().command;
    let options = LabOptions {
        hosts,
        prefix,
        ..LabOptions::default()
    };
    match up(options, dir, http) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("tsync-lab: {err}");
            ExitCode::FAILURE
        }
    }
}

fn up(options: LabOptions, dir: Option<PathBuf>, http: bool) -> Result<(), Box<dyn Error>> {
    // Blocked before the lab starts, a stop signal waits for sigwait below
    // instead of killing the process with its sshds still running.
    let signals = block_stop_signals()?;
    let lab = match dir {
        Some(dir) => Lab::start_in(options, &dir)?,
        None => Lab::start(options)?,
    };
    let services = if http {
        http_services(&lab)?
    } else {
        Vec::new()
    };
    let mut report = String::new();
    if let Some(service) = services.first() {
        report.push_str(&format!("http_port={}\n", service.address().port()));
    }
    report.push_str(&format!("ssh_config={}\n", lab.ssh_config().display()));
    for host in lab.hosts() {
        report.push_str(&format!("host {} {}\n", host.name, host.endpoint()));
    }
    for lack in lab.lacks() {
        report.push_str(&format!("lacks: {lack}\n"));
    }
    // One write, so a reader that sees the first line soon sees them all.
    let mut stdout = io::stdout().lock();
    stdout.write_all(report.as_bytes())?;
    stdout.flush()?;
    wait_for(&signals)?;
    drop(services);
    drop(lab);
    Ok(())
}

/// One HTTP service per host, the first on a free port and the others on the same port
/// number, so a playbook can write `http://{{address}}:PORT/`.
fn http_services(lab: &Lab) -> Result<Vec<HttpService>, Box<dyn Error>> {
    let first = lab.http_service(0)?;
    let port = first.address().port();
    let mut services = vec![first];
    for i in 1..lab.hosts().len() {
        services.push(lab.http_service_at(i, port)?);
    }
    Ok(services)
}

/// Blocks SIGINT, SIGTERM and SIGHUP in this thread, and so in the threads
/// it starts; child processes get a clean mask from `std::process`.
fn block_stop_signals() -> io::Result<libc::sigset_t> {
    // SAFETY: sigset_t is plain data, initialised by sigemptyset before use;
    // the pointers passed are to live locals.
    unsafe {
        let mut set: libc::sigset_t = mem::zeroed();
        libc::sigemptyset(&mut set);
        for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaddset(&mut set, signal);
        }
        match libc::pthread_sigmask(libc::SIG_BLOCK, &set, ptr::null_mut()) {
            0 => Ok(set),
            errno => Err(io::Error::from_raw_os_error(errno)),
        }
    }
}

/// Waits until one of the blocked signals arrives.
fn wait_for(signals: &libc::sigset_t) -> io::Result<()> {
    let mut received = 0;
    // SAFETY: both pointers are to live values of the right types.
    match unsafe { libc::sigwait(signals, &mut received) } {
        0 => Ok(()),
        errno => Err(io::Error::from_raw_os_error(errno)),
    }
}
