//! A TLS handshake load generator: full handshakes (no resumption) as fast as a server takes
//! them, from several loopback source addresses so the ephemeral port range (and the TIME_WAIT
//! each closed connection leaves) is never the limit, and the server's own CPU time over the
//! same window, so a result can be read per CPU second whoever ran out first.
//!
//! Two modes: `full` handshakes (the client does its half of the work too, so on a two-core
//! machine the client runs out first) and `flight` (see [`super::flight`]: the server does all of
//! its work, the client none, so the server is what runs out). In `full`, the client checks
//! nothing about the certificate (like `oha --insecure`).

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpSocket;
use tokio_rustls::TlsConnector;

/// What to load and for how long.
#[derive(Debug, Clone)]
pub struct Load {
    pub server: SocketAddr,
    pub server_name: String,
    /// Handshakes in flight at once.
    pub concurrency: usize,
    /// Source addresses 127.0.0.1 .. 127.0.0.N, used in turn.
    pub sources: u8,
    pub duration: Duration,
    /// Processes whose CPU time is the server's (nginx: its workers).
    pub server_pids: Vec<u32>,
    pub mode: Mode,
}

/// What each connection does.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// A whole handshake on both sides, then a clean close.
    Full,
    /// A replayed ClientHello, the server's whole first flight read, then close.
    Flight,
}

/// What a load run measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Outcome {
    pub mode: Mode,
    pub handshakes: u64,
    pub errors: u64,
    pub seconds: f64,
    pub per_second: f64,
    /// The server's CPU time over the run divided by the wall time (1.0 = one core busy).
    pub server_cpu_cores: f64,
    /// Handshakes per second of the server's CPU time.
    pub per_server_cpu_second: f64,
}

/// Runs the load for `load.duration` and reports; an error when a `flight` calibration fails.
pub async fn run(load: &Load) -> std::io::Result<Outcome> {
    let config = client_config();
    let connector = TlsConnector::from(config.clone());
    let name = ServerName::try_from(load.server_name.clone())
        .unwrap_or_else(|_| ServerName::IpAddress(Ipv4Addr::LOCALHOST.into()));
    let flight = match load.mode {
        Mode::Full => None,
        Mode::Flight => Some(super::flight::calibrate(config, name.clone(), load.server).await?),
    };
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let cpu_before = crate::proc::cpu_seconds(&load.server_pids);
    let start = Instant::now();
    let deadline = start + load.duration;
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..load.concurrency.max(1) {
        let (connector, name, done, failed, flight) = (
            connector.clone(),
            name.clone(),
            done.clone(),
            failed.clone(),
            flight.clone(),
        );
        let server = load.server;
        let sources = load.sources.max(1);
        workers.spawn(async move {
            let mut n = worker;
            while Instant::now() < deadline {
                let source = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1 + (n % sources as usize) as u8));
                n += 1;
                let attempt = async {
                    let socket = bound_socket(source)?;
                    match &flight {
                        None => handshake(&connector, &name, socket, server).await,
                        Some(flight) => super::flight::replay(flight, socket, server).await,
                    }
                };
                let left = deadline.saturating_duration_since(Instant::now());
                match tokio::time::timeout(left + Duration::from_secs(1), attempt).await {
                    Ok(Ok(())) => done.fetch_add(1, Ordering::Relaxed),
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        });
    }
    while workers.join_next().await.is_some() {}
    let seconds = start.elapsed().as_secs_f64();
    let cpu = crate::proc::cpu_seconds(&load.server_pids) - cpu_before;
    let handshakes = done.load(Ordering::Relaxed);
    Ok(Outcome {
        mode: load.mode,
        handshakes,
        errors: failed.load(Ordering::Relaxed),
        seconds,
        per_second: handshakes as f64 / seconds,
        server_cpu_cores: cpu / seconds,
        per_server_cpu_second: if cpu > 0.0 {
            handshakes as f64 / cpu
        } else {
            0.0
        },
    })
}

/// A socket bound to `source` (any port), Nagle off.
fn bound_socket(source: IpAddr) -> std::io::Result<TcpSocket> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    socket.set_nodelay(true)?;
    Ok(socket)
}

/// One full handshake on `socket`, then a clean close.
async fn handshake(
    connector: &TlsConnector,
    name: &ServerName<'static>,
    socket: TcpSocket,
    server: SocketAddr,
) -> std::io::Result<()> {
    let tcp = socket.connect(server).await?;
    let mut tls = connector.connect(name.clone(), tcp).await?;
    tokio::io::AsyncWriteExt::shutdown(&mut tls).await
}

/// TLS 1.3 or 1.2 as the server prefers, no session cache (every handshake is a full one), no
/// certificate checks.
fn client_config() -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnything(provider)))
        .with_no_client_auth();
    config.resumption = rustls::client::Resumption::disabled();
    Arc::new(config)
}

/// Accepts every certificate and signature: the load generator measures the server.
#[derive(Debug)]
struct AcceptAnything(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAnything {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
