//! The SSH transport, behind a narrow interface: connect to a host once, run commands on
//! that connection, close it. The runner knows nothing else about SSH.

mod connection;
mod connector;

pub use connection::{Connection, ExecError, Executed, Stream};
pub use connector::{ConnectError, Connector};
