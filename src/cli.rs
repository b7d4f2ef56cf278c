//! Command-line arguments, as typed by the user (step one of two: `command/` turns them into
//! what each command needs).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::report::diagnostics::Color;

#[derive(Debug, Parser)]
#[command(
    name = "tsync",
    version,
    about = "Run commands and staged, health-gated deploys across SSH hosts",
    after_help = "Exit codes: 0 success, 1 tsync failed, 2 invalid input, 3 some host failed, \
                  4 some host unreachable, 130 interrupted."
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
    },
    /// Show what a playbook would do, stage by stage and host by host; touches no host
    Plan {
        playbook: PathBuf,
        /// Output format
        #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
        format: PlanFormat,
        #[command(flatten)]
        inputs: Inputs,
    },
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

    /// OpenSSH client config to read hosts from [default: ~/.ssh/config]
    #[arg(long, value_name = "FILE")]
    pub ssh_config: Option<PathBuf>,

    /// Extra groups from a KDL file of `group` nodes (repeatable)
    #[arg(long = "inventory", value_name = "FILE")]
    pub inventory: Vec<PathBuf>,

    /// Read Tailscale's state from this file (`tailscale status --json` output) instead of
    /// asking `tailscale`
    #[arg(long, value_name = "FILE", conflicts_with = "no_tailscale")]
    pub tailscale_status: Option<PathBuf>,

    /// Do not ask Tailscale for peers, tags or online states
    #[arg(long)]
    pub no_tailscale: bool,
}
