//! Command-line arguments, as typed by the user (step one of two: `command/` turns them into
//! what each command needs).

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::TypedValueParser;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::report::OutputFormat;
use crate::report::diagnostics::Color;

#[derive(Debug, Parser)]
#[command(
    name = "tsync",
    version,
    about = "Run commands and staged, health-gated deploys across SSH hosts",
    after_help = "A command's options may also come before it: tsync --ssh-config F run …\n\
                  Exit codes: 0 success, 1 tsync failed, 2 invalid input, 3 some host failed, \
                  4 some host unreachable, 5 deploy lock held (apply), 75 deploy lock held and \
                  --if-locked=skip, 130 interrupted."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Colour in output
    #[arg(long, value_enum, default_value_t = Color::Auto, global = true)]
    pub color: Color,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check playbooks and report every problem found; touches no host
    Check {
        /// Playbook files (KDL)
        #[arg(required = true)]
        playbooks: Vec<PathBuf>,
        #[command(flatten)]
        inputs: Inputs,
        #[command(flatten)]
        safety: Safety,
    },
    /// Show what a playbook would do, stage by stage and host by host; touches no host
    Plan {
        playbook: PathBuf,
        /// Output format
        #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
        format: PlanFormat,
        #[command(flatten)]
        inputs: Inputs,
        #[command(flatten)]
        safety: Safety,
    },
    /// Run a playbook: its stages in order, each on its hosts in parallel
    #[command(
        after_help = "Finish a run that failed: tsync apply --retry deploy.kdl (its latest run), \
                            or tsync apply --retry RUN (an id from tsync history)"
    )]
    Apply {
        #[arg(required_unless_present = "retry")]
        playbook: Option<PathBuf>,
        /// Finish a failed run: skip what each host finished in it (and in the runs it
        /// finished), run the rest. RUN is an id from `tsync history`; without it, the latest
        /// run of the playbook
        #[arg(long, value_name = "RUN", num_args = 0..=1, default_missing_value = "last")]
        retry: Option<String>,
        /// Touch nothing: connect to every host, evaluate guards and checks read-only, and
        /// show what a real run would do, host by host
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        inputs: Inputs,
        #[command(flatten)]
        execution: Execution,
        #[command(flatten)]
        safety: Safety,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Run one shell command on every host a selector picks
    #[command(after_help = "Example: tsync run 'production & !db-1' -- df -h /")]
    Run {
        /// Which hosts: a name, group, glob, tag:T, os:O, online; combined with `,` `&` `!`
        selector: String,
        /// The command, after `--`
        #[arg(last = true, required = true)]
        command: Vec<String>,
        /// Time limit for the command; a host still running it then is cut off. (`apply` has
        /// no such flag: each step's limit is in the playbook, where `plan` shows it.)
        #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_timeout)]
        timeout: Duration,
        /// Hold the deploy lock NAME on the selected hosts while the command runs, as an
        /// apply of a playbook whose lock is NAME would (an ad-hoc run takes none unless asked)
        #[arg(long, value_name = "NAME")]
        lock: Option<String>,
        #[command(flatten)]
        inputs: Inputs,
        #[command(flatten)]
        execution: Execution,
        #[command(flatten)]
        safety: Safety,
        #[command(flatten)]
        lock_args: LockArgs,
    },
    /// Copy files to every host a selector picks, sending only what changed
    #[command(after_help = "Example: tsync push web --delete --exclude '*.log' ./site/ /srv/site")]
    Push {
        /// Which hosts: a name, group, glob, tag:T, os:O, online; combined with `,` `&` `!`
        selector: String,
        /// A file or directory here (relative to the current directory)
        local: PathBuf,
        /// Where it lands on each host; relative to the login's home unless absolute
        remote: String,
        #[command(flatten)]
        sync: SyncFlags,
        #[command(flatten)]
        inputs: Inputs,
        #[command(flatten)]
        execution: Execution,
    },
    /// Show which hosts answer over SSH, how far away and how loaded they are
    #[command(
        after_help = "Exit code 0 when every selected host answers, 4 otherwise.\n\
                            Example: tsync status production --watch"
    )]
    Status {
        /// Which hosts: a name, group, glob, tag:T, os:O, online; combined with `,` `&` `!`
        #[arg(default_value = "all")]
        selector: String,
        #[command(flatten)]
        flags: StatusFlags,
        #[command(flatten)]
        inputs: Inputs,
    },
    /// Copy files from every host a selector picks into LOCAL_DIR/<host>/
    #[command(after_help = "Example: tsync pull web /var/log/nginx ./logs")]
    Pull {
        /// Which hosts: a name, group, glob, tag:T, os:O, online; combined with `,` `&` `!`
        selector: String,
        /// A file or directory on each host; relative to the login's home unless absolute
        remote: String,
        /// Each host's copy goes into its own directory under this one
        local_dir: PathBuf,
        #[command(flatten)]
        sync: SyncFlags,
        #[command(flatten)]
        inputs: Inputs,
        #[command(flatten)]
        execution: Execution,
    },
    /// Show or release deploy locks (`apply` takes one per playbook on its hosts)
    #[command(
        after_help = "Exit codes: 0 done, 2 no lock with that id, 4 some host unreachable.\n\
                      Example: tsync lock release web --id 3f9a0c2e71d4b5a8"
    )]
    Lock {
        #[command(subcommand)]
        command: LockCommand,
    },
    /// List recent runs (apply, run, push, pull), newest first
    #[command(
        args_conflicts_with_subcommands = true,
        after_help = "Runs are kept 90 days (TSYNC_HISTORY_DAYS) in $TSYNC_HISTORY, else \
                      $XDG_STATE_HOME/tsync/history.db, else ~/.local/state/tsync/history.db."
    )]
    History {
        #[command(subcommand)]
        show: Option<HistoryCommand>,
        /// Only runs that had this host
        #[arg(long, value_name = "HOST")]
        host: Option<String>,
        /// How many runs to list
        #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..).map(|n| n as usize))]
        last: usize,
        /// Output for people or for programs
        #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
        output: OutputFormat,
    },
    /// Close the connections `--persist` kept open (every one, or the selected hosts')
    Disconnect {
        /// Which hosts: a name, group, glob, tag:T, os:O; combined with `,` `&` `!`
        selector: Option<String>,
        #[command(flatten)]
        inputs: Inputs,
    },
    /// Start a repo of playbooks here: an inventory of the groups found, the chosen
    /// built-in workflows, and how to run them
    #[command(
        after_help = "Writes inventory.kdl, playbooks/NAME.kdl (and the scripts they need), \
                      playbooks/README.md and playbooks/.gitignore; refuses (exit 2) when any \
                      of them exists.\n\
                      Example: tsync init --with deploy,backup"
    )]
    Init {
        /// The workflows to copy, by name (`tsync workflows` lists them) [default: all]
        #[arg(long, value_name = "NAME,NAME…", value_delimiter = ',')]
        with: Vec<String>,
        #[command(flatten)]
        sources: Sources,
    },
    /// List the built-in workflows `tsync init` copies: what each does and its vars
    Workflows {
        /// Output for people or for programs
        #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
        output: OutputFormat,
    },
    /// Print a shell completion script
    #[command(
        after_help = "Install (bash): tsync completions bash > ~/.local/share/bash-completion/completions/tsync\n\
                            zsh: tsync completions zsh > ~/.zfunc/_tsync (with ~/.zfunc in $fpath)\n\
                            fish: tsync completions fish > ~/.config/fish/completions/tsync.fish"
    )]
    Completions { shell: clap_complete::Shell },
    /// Print the manual page (roff), or write one page per command into a directory
    #[command(
        after_help = "Install: tsync man --dir ~/.local/share/man/man1 (then `man tsync`, `man tsync-apply`)"
    )]
    Man {
        /// Write tsync.1 and a tsync-COMMAND.1 for every command into DIR
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum LockCommand {
    /// List the deploy locks on the hosts a selector picks: who holds each, since when,
    /// live or stale, and its id
    Status {
        /// Which hosts: a name, group, glob, tag:T, os:O, online; combined with `,` `&` `!`
        #[arg(default_value = "all")]
        selector: String,
        /// Output for people or for programs
        #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
        output: OutputFormat,
        #[command(flatten)]
        inputs: Inputs,
    },
    /// Remove a deploy lock by its id (from `tsync lock status` or the refusal of `apply`),
    /// on the hosts a selector picks; a lock with another id is left alone
    Release {
        /// Which hosts: a name, group, glob, tag:T, os:O, online; combined with `,` `&` `!`
        selector: String,
        /// The lock's id, as its record shows it
        #[arg(long, value_name = "ID", required = true)]
        id: String,
        #[command(flatten)]
        inputs: Inputs,
    },
}

#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// The recap of one run: how each host ended, how long it took, why it failed
    Show {
        /// The run's id, as `tsync history` lists it
        run: i64,
        /// Also draw the run as an SVG picture into FILE: hosts × time, a bar per step
        /// coloured by outcome, stages, batches, checks and rollbacks marked
        #[arg(long, value_name = "FILE.svg")]
        timeline: Option<PathBuf>,
        /// Output for people or for programs
        #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
        output: OutputFormat,
    },
}

/// What `status` takes besides its selector.
#[derive(Debug, Args)]
pub struct StatusFlags {
    /// Give up on a host that has not answered after this long
    #[arg(long, value_name = "DURATION", default_value = "3s", value_parser = parse_timeout)]
    pub timeout: Duration,

    /// Refresh every INTERVAL (default 2s) until interrupted
    #[arg(long, value_name = "INTERVAL", num_args = 0..=1, default_missing_value = "2s", value_parser = parse_timeout)]
    pub watch: Option<Duration>,

    /// Hosts asked at once
    #[arg(long, short = 'j', default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..).map(usize::from))]
    pub jobs: usize,

    /// SSH handshakes in flight at once (each costs the controller CPU)
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..).map(usize::from))]
    pub max_connecting: usize,

    /// Output for people or for programs (one JSON document per refresh)
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub output: OutputFormat,

    /// Keep each host's connection open this long, and reuse open ones: refreshes and
    /// later runs skip the handshake (`tsync disconnect` closes them)
    #[arg(long, value_name = "DURATION", env = "TSYNC_PERSIST", value_parser = parse_timeout)]
    pub persist: Option<Duration>,
}

/// What `push` and `pull` take besides their paths.
#[derive(Debug, Args)]
pub struct SyncFlags {
    /// Remove files the destination has and the source does not (excluded ones are kept)
    #[arg(long)]
    pub delete: bool,

    /// Leave out paths matching this gitignore pattern, relative to the synced directory
    /// (repeatable)
    #[arg(long, value_name = "PATTERN")]
    pub exclude: Vec<String>,

    /// Read exclude patterns from a file, one per line (repeatable)
    #[arg(long, value_name = "FILE")]
    pub exclude_from: Vec<PathBuf>,

    /// Compare files of equal size by content instead of size and modification time
    #[arg(long)]
    pub checksum: bool,

    /// Touch nothing: compare both sides and list what would be sent and deleted, host by
    /// host
    #[arg(long)]
    pub dry_run: bool,

    /// Time limit for the sync on one host; a host still syncing then is cut off
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = parse_timeout)]
    pub timeout: Duration,
}

/// The dangerous-command guard's override; shared by `check`, `plan`, `apply` and `run`.
#[derive(Debug, Args)]
pub struct Safety {
    /// Let commands the guard calls dangerous (`rm -rf /`, `mkfs`, `reboot`, …) through,
    /// each with a warning naming its rule; a step or probe can allow its own with
    /// dangerous=#true instead
    #[arg(long)]
    pub allow_dangerous: bool,
}

/// How a run is carried out; shared by `apply`, `run`, `push` and `pull`.
#[derive(Debug, Args)]
pub struct Execution {
    /// Hosts worked on at once
    #[arg(long, short = 'j', default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..).map(usize::from))]
    pub jobs: usize,

    /// Give up connecting to a host after this long
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_timeout)]
    pub connect_timeout: Duration,

    /// SSH handshakes in flight at once (each costs the controller CPU)
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..).map(usize::from))]
    pub max_connecting: usize,

    /// Output for people or for programs
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub output: OutputFormat,

    /// Print only what went wrong and the final line (for cron mail); no effect on JSON
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// Keep each host's connection open this long after the run, and reuse open ones:
    /// a later run skips the handshake (`tsync disconnect` closes them)
    #[arg(long, value_name = "DURATION", env = "TSYNC_PERSIST", value_parser = parse_timeout)]
    pub persist: Option<Duration>,
}

/// The deploy lock of `apply`: what to do when another run holds it.
#[derive(Debug, Args)]
pub struct LockArgs {
    /// Why this run holds the lock, written in its record for whoever finds it held
    #[arg(long, value_name = "TEXT")]
    pub lock_message: Option<String>,

    /// When the lock is held, wait up to DURATION for it to be released
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout)]
    pub lock_wait: Option<Duration>,

    /// When the lock is still held: fail (exit 5, the holder on stderr) or skip (exit 75,
    /// one line), so that cron does not report a held lock as a failure. A stale lock
    /// always fails
    #[arg(long, value_enum, value_name = "ACTION", default_value_t = IfLocked::Fail)]
    pub if_locked: IfLocked,

    /// Break a stale lock in the way (one whose heartbeat is older than its expiry); a live
    /// lock is never broken
    #[arg(long)]
    pub break_stale: bool,

    /// This run's lock is stale once its heartbeat (sent every fifth of this) is older
    /// [default: the playbook's `lock expiry`, else 5m]
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout)]
    pub lock_expiry: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IfLocked {
    Fail,
    Skip,
}

/// A timeout flag: a duration above zero and at most a day (a huge one panicked in deadline
/// arithmetic, and `70years` made ssh fail every host as unreachable).
fn parse_timeout(text: &str) -> Result<Duration, String> {
    let max = crate::playbook::MAX_DURATION;
    match humantime::parse_duration(text) {
        Ok(d) if d.is_zero() => Err("a timeout of zero would fail every host".into()),
        Ok(d) if d > max => Err(format!("a timeout is at most {}h", max.as_secs() / 3600)),
        Ok(d) => Ok(d),
        Err(e) => Err(format!("{e}; write a duration like 30s, 10m or 1h30m")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Text,
    Json,
    Dot,
    Mermaid,
}

/// Where hosts, groups and variables come from; shared by every command that reads a playbook.
#[derive(Debug, Args)]
pub struct Inputs {
    /// Set a variable, overriding the playbook's `vars` (repeatable)
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,

    /// Narrow every stage to the hosts this selector picks too
    #[arg(long, value_name = "SELECTOR")]
    pub limit: Option<String>,

    /// Groups from a KDL file of `group` nodes (repeatable); replaces the inventory.kdl
    /// found in this directory or the nearest parent that has one
    #[arg(long = "inventory", value_name = "FILE")]
    pub inventory: Vec<PathBuf>,

    #[command(flatten)]
    pub sources: Sources,
}

/// Where hosts come from: the inventory flags `init` shares with the commands that read
/// playbooks.
#[derive(Debug, Args)]
pub struct Sources {
    /// OpenSSH client config to read hosts from [default: ~/.ssh/config]
    #[arg(long, value_name = "FILE")]
    pub ssh_config: Option<PathBuf>,

    /// Read Tailscale's state from this file (`tailscale status --json` output) instead of
    /// asking `tailscale`
    #[arg(long, value_name = "FILE", conflicts_with = "no_tailscale")]
    pub tailscale_status: Option<PathBuf>,

    /// Do not ask Tailscale for peers, tags or online states
    #[arg(long)]
    pub no_tailscale: bool,
}

/// An argument that glues a value to `-h` (`-h1`), if there is one before `--`. clap reads
/// `-h1` as `-h`: it printed the help and exited 0 without running anything, where the user
/// meant something else (a host named `h1`, say).
pub fn glued_help(args: &[OsString]) -> Option<String> {
    args.iter()
        .skip(1)
        .take_while(|arg| *arg != "--")
        .filter_map(|arg| arg.to_str())
        .find(|arg| arg.len() > 2 && arg.starts_with("-h"))
        .map(str::to_string)
}

/// Moves the options written before the command to just after its name, so that
/// `tsync --ssh-config F run …` means `tsync run --ssh-config F …`, as users of git and
/// kubectl expect. Which options take a value is read from the commands' own definitions;
/// anything not understood is left as written, for clap to report.
pub fn hoist_options(cli: &clap::Command, args: Vec<OsString>) -> Vec<OsString> {
    let Some(at) = command_position(cli, &args) else {
        return args;
    };
    // Help and version stay in front: `tsync --help run` asks for tsync's own help.
    let (stay, moved): (Vec<_>, Vec<_>) = args[1..at]
        .iter()
        .cloned()
        .partition(|arg| ["-h", "--help", "-V", "--version"].contains(&arg.to_str().unwrap_or("")));
    let mut out = Vec::with_capacity(args.len());
    out.push(args[0].clone());
    out.extend(stay);
    out.push(args[at].clone());
    out.extend(moved);
    out.extend(args[at + 1..].iter().cloned());
    out
}

/// Where the command's name is, when options come before it.
fn command_position(cli: &clap::Command, args: &[OsString]) -> Option<usize> {
    let commands: Vec<&str> = cli
        .get_subcommands()
        .flat_map(|c| std::iter::once(c.get_name()).chain(c.get_all_aliases()))
        .chain(["help"])
        .collect();
    let mut i = 1;
    while i < args.len() {
        let arg = args[i].to_str()?;
        if commands.contains(&arg) {
            return (i > 1).then_some(i);
        }
        if arg == "--" || !arg.starts_with('-') || arg == "-" {
            return None;
        }
        // `--name=value` and `-j4` are one word; `--name value` and `-j 4` are two.
        let glued = arg.contains('=') || (!arg.starts_with("--") && arg.len() > 2);
        i += if !glued && takes_value(cli, arg) {
            2
        } else {
            1
        };
    }
    None
}

/// Whether an option of some command needs a value after it. An optional value
/// (`--watch [INTERVAL]`) must be glued when the option comes first.
fn takes_value(cli: &clap::Command, option: &str) -> bool {
    let matches = |arg: &clap::Arg| match option.strip_prefix("--") {
        Some(long) => arg.get_long() == Some(long),
        None => option
            .chars()
            .nth(1)
            .is_some_and(|c| arg.get_short() == Some(c)),
    };
    cli.get_subcommands()
        .chain([cli])
        .flat_map(|c| c.get_arguments())
        .find(|arg| matches(arg))
        .is_some_and(|arg| {
            arg.get_action().takes_values() && arg.get_num_args().is_none_or(|n| n.min_values() > 0)
        })
}

#[cfg(test)]
mod tests;
