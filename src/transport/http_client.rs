//! One HTTP GET over a stream tsync already has (a [`Tunnel`](super::Tunnel) into a host,
//! or a TCP connection from the controller), with TLS for `https` URLs. It answers with
//! the status, the redirect target and the start of the body, which is all a health check
//! needs: redirects are never followed, so a 301 to a login page stays a 301.

use std::sync::{Arc, OnceLock};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::{Request, Uri, header};
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsConnector;

/// Read at most this much of a body: enough for any health endpoint's answer.
const BODY_LIMIT: usize = 64 * 1024;

/// What the server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAnswer {
    pub status: u16,
    /// The `Location` of a redirect.
    pub location: Option<String>,
    /// The start of the body (up to 64 KiB), invalid UTF-8 replaced.
    pub body: String,
}

/// Makes requests; holds the TLS settings, built once per run.
pub struct HttpClient {
    provider: Arc<CryptoProvider>,
    /// Verifies certificates against the machine's trusted roots; read on first use.
    verified: OnceLock<Result<Arc<ClientConfig>, String>>,
    /// Accepts any certificate (`insecure=#true`): still encrypted, not authenticated.
    insecure: OnceLock<Result<Arc<ClientConfig>, String>>,
}

impl Default for HttpClient {
    fn default() -> Self {
        HttpClient {
            provider: Arc::new(rustls::crypto::ring::default_provider()),
            verified: OnceLock::new(),
            insecure: OnceLock::new(),
        }
    }
}

impl HttpClient {
    /// GETs `uri` over `stream`, which must already lead to the URI's host and port.
    pub async fn get<S>(&self, stream: S, uri: &Uri, insecure: bool) -> Result<HttpAnswer, String>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        match uri.scheme_str() {
            Some("http") => exchange(stream, uri).await,
            Some("https") => {
                let config = if insecure {
                    self.insecure.get_or_init(|| self.insecure_config())
                } else {
                    self.verified.get_or_init(|| self.verified_config())
                }
                .clone()?;
                let host = uri.host().unwrap_or_default();
                // `[::1]` in a URL is the address `::1` to TLS.
                let name = host.trim_start_matches('[').trim_end_matches(']');
                let name = ServerName::try_from(name.to_string())
                    .map_err(|_| format!("`{host}` cannot be checked against a certificate"))?;
                let tls = TlsConnector::from(config)
                    .connect(name, stream)
                    .await
                    .map_err(|e| format!("TLS: {e}"))?;
                exchange(tls, uri).await
            }
            _ => Err(format!("`{uri}` is not an http or https URL")),
        }
    }

    fn verified_config(&self) -> Result<Arc<ClientConfig>, String> {
        let found = rustls_native_certs::load_native_certs();
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(found.certs);
        if roots.is_empty() {
            return Err("no trusted CA certificates on this machine (install ca-certificates, or set insecure=#true for a self-signed certificate)".into());
        }
        let config = ClientConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Arc::new(config))
    }

    fn insecure_config(&self) -> Result<Arc<ClientConfig>, String> {
        let verifier = AnyCertificate {
            algorithms: self.provider.signature_verification_algorithms,
        };
        let config = ClientConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        Ok(Arc::new(config))
    }
}

/// Sends the request and reads the answer, driving the connection until both are done.
async fn exchange<S>(stream: S, uri: &Uri) -> Result<HttpAnswer, String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| describe(&e))?;
    let authority = uri.authority().map(|a| a.as_str()).unwrap_or_default();
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let request = Request::get(path)
        .header(header::HOST, authority)
        .header(
            header::USER_AGENT,
            concat!("tsync/", env!("CARGO_PKG_VERSION")),
        )
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    let answer = async move {
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| describe(&e))?;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(header::LOCATION)
            .map(|l| String::from_utf8_lossy(l.as_bytes()).into_owned());
        let mut body = response.into_body();
        let mut bytes = Vec::new();
        while bytes.len() < BODY_LIMIT {
            match body.frame().await {
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        bytes.extend_from_slice(data);
                    }
                }
                Some(Err(e)) => return Err(describe(&e)),
                None => break,
            }
        }
        bytes.truncate(BODY_LIMIT);
        Ok(HttpAnswer {
            status,
            location,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        })
    };
    tokio::pin!(answer, connection);
    tokio::select! {
        answer = &mut answer => answer,
        done = &mut connection => match done {
            Err(e) => Err(describe(&e)),
            // The connection may end as soon as the last bytes are in: the answer is ready.
            Ok(()) => answer.await,
        },
    }
}

/// hyper's error with its cause: "connection closed before message completed" says more
/// when it names what closed.
fn describe(error: &hyper::Error) -> String {
    use std::error::Error;
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    if error.is_incomplete_message() || error.is_canceled() {
        text.push_str(" (nothing listens on that port, or the service closed the connection)");
    }
    text
}

/// Accepts whatever certificate the server shows, while still checking that the server
/// holds its key: for `insecure=#true` on self-signed services.
#[derive(Debug)]
struct AnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
