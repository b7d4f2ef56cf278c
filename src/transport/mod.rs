//! The SSH transport, behind a narrow interface: connect to a host once, run commands on
//! that connection, close it. The runner knows nothing else about SSH.

mod connection;
mod connector;
mod pid_marker;
mod remote_command;
mod ssh_message;

pub use connection::{Connection, ExecError, Executed, Output};
pub use connector::{ConnectError, Connector};
