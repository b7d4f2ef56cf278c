//! The SSH transport, behind a narrow interface: connect to a host once, run commands on
//! that connection (line by line, or captured whole), open an SFTP channel on it, close it.
//! The runner and the sync engine know nothing else about SSH.

mod capture;
mod connection;
mod connector;
mod echo;
mod http_client;
mod local_command;
mod master;
mod masters;
mod output_lines;
mod pid_marker;
mod remote_command;
mod sftp_channel;
mod ssh_message;
mod tunnel;

pub use capture::Captured;
pub use connection::{Connection, ExecError, Executed};
pub use connector::{ConnectError, Connector};
pub use http_client::{HttpAnswer, HttpClient};
pub use local_command::run_local;
pub use masters::Masters;
pub use output_lines::Output;
pub use sftp_channel::{RemoteKind, RemoteStat, SftpChannel};
pub use tunnel::Tunnel;
