//! Integration tests: every test runs the real `tsync` binary. Tests that need hosts start a
//! lab of real sshd servers on loopback addresses (the `tsync-lab` crate in lab/).

mod apply;
mod check;
mod cli;
mod confirm;
mod connect;
mod danger;
mod dry_run;
mod gates;
mod guards;
mod history;
mod init;
mod inventory;
mod layers;
mod library;
mod local_step;
mod lock;
mod output;
mod persist;
mod placement;
mod plan;
mod quoting;
mod retry;
mod robustness;
mod rollback;
mod rollout;
mod run;
mod schema;
mod status;
mod stopping;
mod support;
mod sync;
mod sync_step;
mod workflows;
