//! The SSH transport, behind a narrow interface: connect to a host once, run commands on
//! that connection, close it. The runner knows nothing else about SSH.

mod capture;
mod connection;
mod connector;
mod http_client;
mod pid_marker;
mod remote_command;
mod sftp_channel;
mod ssh_message;
mod tunnel;

pub use capture::Captured;
pub use connection::{Connection, ExecError, Executed, Output};
pub use connector::{ConnectError, Connector};
pub use http_client::{HttpAnswer, HttpClient};
pub use sftp_channel::{RemoteKind, RemoteStat, SftpChannel};
pub use tunnel::Tunnel;
