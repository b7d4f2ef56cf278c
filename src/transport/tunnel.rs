//! A way into a host's own network over its existing SSH connection: the master listens
//! on a local unix socket and forwards every connection made to it as a direct-tcpip
//! channel to an address as the host sees it (`ssh -L socket:host:port`), so a health
//! check reaches `127.0.0.1:8080` on the host with nothing installed there.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use openssh::{ForwardType, Session, Socket};
use tokio::net::UnixStream;

use super::ssh_message::ssh_message;

/// Names every forward's socket uniquely within the run's control directory.
static NEXT: AtomicU64 = AtomicU64::new(0);

/// A forward set up on one connection; it lasts as long as the connection.
#[derive(Debug, Clone)]
pub struct Tunnel {
    socket: PathBuf,
    host: String,
    port: u16,
    target: String,
}

impl Tunnel {
    /// Asks the master of `session` to forward connections made to a new socket in `dir` to
    /// `host:port` on the far side.
    pub(super) async fn open(
        session: &Session,
        dir: &Path,
        host: &str,
        port: u16,
    ) -> Result<Tunnel, String> {
        let socket = dir.join(format!("f{}", NEXT.fetch_add(1, Ordering::Relaxed)));
        let listen = Socket::UnixSocket {
            path: socket.as_path().into(),
        };
        let connect = Socket::TcpSocket {
            host: host.into(),
            port,
        };
        let target = format!("{host}:{port}");
        session
            .request_port_forward(ForwardType::Local, listen, connect)
            .await
            .map_err(|e| format!("cannot forward to {target}: {}", ssh_message(&e)))?;
        Ok(Tunnel {
            socket,
            host: host.to_string(),
            port,
            target,
        })
    }

    /// Stops the forward: needed only on a master that outlives the run (`--persist`),
    /// which would otherwise keep listening on a socket whose directory is gone.
    pub(super) async fn close(&self, session: &Session) {
        let listen = Socket::UnixSocket {
            path: self.socket.as_path().into(),
        };
        let connect = Socket::TcpSocket {
            host: self.host.as_str().into(),
            port: self.port,
        };
        let _ = session
            .close_port_forward(ForwardType::Local, listen, connect)
            .await;
    }

    /// A new connection to the target, carried by a new channel. The host connects to the
    /// target only once the channel opens: when it cannot, ssh closes this stream at once,
    /// so a refused port reads as an immediate end of stream.
    pub async fn connect(&self) -> std::io::Result<UnixStream> {
        UnixStream::connect(&self.socket).await
    }

    /// `host:port`, as given.
    pub fn target(&self) -> &str {
        &self.target
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::AsyncReadExt;

    use crate::transport::{Connector, HttpClient};

    /// Over a real sshd: the tunnel reaches a service bound to the host's own address, and
    /// a port nothing listens on reads as an immediate end of stream.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_tunnel_reaches_the_hosts_own_address_and_a_closed_port_ends_at_once() {
        let lab = tsync_lab::Lab::start(tsync_lab::LabOptions {
            hosts: 1,
            ..Default::default()
        })
        .expect("the lab starts");
        let service = lab.http_service(0).expect("the service starts");
        let connector = Connector::new(Some(&lab.ssh_config()), Duration::from_secs(10), 4)
            .expect("a connector");
        let connection = connector.connect("lab-1").await.expect("connects");

        let address = service.address();
        let tunnel = connection
            .tunnel(&address.ip().to_string(), address.port())
            .await
            .expect("a forward");
        let uri = format!("http://{address}/up").parse().expect("a URI");
        for _ in 0..2 {
            let stream = tunnel.connect().await.expect("the socket accepts");
            let answer = HttpClient::default()
                .get(stream, &uri, false)
                .await
                .expect("an answer");
            assert_eq!((answer.status, answer.body.trim()), (200, "ok"));
        }
        assert_eq!(service.requests(), 2);

        let closed = std::net::TcpListener::bind((address.ip(), 0)).expect("a free port");
        let port = closed.local_addr().expect("its port").port();
        drop(closed);
        let tunnel = connection
            .tunnel(&address.ip().to_string(), port)
            .await
            .expect("a forward");
        let mut stream = tunnel.connect().await.expect("the socket accepts");
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut byte)).await;
        assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "{read:?}");
        connection.close().await.expect("closes");
    }
}
