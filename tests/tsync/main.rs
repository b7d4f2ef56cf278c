//! Integration tests: every test runs the real `tsync` binary. Tests that need hosts start a
//! lab of real sshd servers on loopback addresses (see `lab/`).

mod check;
mod inventory;
mod plan;
mod robustness;
mod schema;
mod support;
