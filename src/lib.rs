//! tsync: run commands, sync files and roll out staged, health-gated deploys over SSH.
//!
//! The pipeline, one module per phase:
//! playbook text → [`playbook::Playbook`] → [`plan::Plan`] (a DAG of stages × hosts)
//! → runner (executes, emits events) → reporters.

pub mod cli;
pub mod command;
pub mod danger;
pub mod diagnostic;
pub mod exit_code;
pub mod fleet;
pub mod glob;
pub mod history;
pub mod inventory;
pub mod limited_read;
pub mod lock;
pub mod plan;
pub mod playbook;
pub mod report;
pub mod runner;
pub mod selector;
pub mod shell;
pub mod suggest;
pub mod sync;
pub mod transport;
pub mod workflow;
