//! TLS client setup: rustls (ring), TLS 1.2 minimum, trust = system store + webpki-roots +
//! `--ca-file`, and a verifier that records the presented chain even when verification fails.

use super::anchors::{self, AnchorIndex, Anchored};
pub use super::cert::CertInfo;
use crate::outcome::Outcome;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// Trust anchors that cannot be loaded; `origin` names where they came from (`--ca-file PATH`).
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("--ca-file {}: {error}", .path.display())]
    CaFile {
        path: PathBuf,
        error: rustls_pki_types::pem::Error,
    },
    #[error("--ca-file {}: no PEM certificate in it", .0.display())]
    NoCertificate(PathBuf),
    #[error("{origin}: {error}")]
    Pem {
        origin: String,
        error: rustls_pki_types::pem::Error,
    },
    #[error("{origin}: not a usable CA certificate: {error}")]
    Unusable {
        origin: String,
        error: rustls::Error,
    },
    #[error("cannot build the TLS verifier: {0}")]
    Verifier(rustls::client::VerifierBuilderError),
}

impl crate::error::UserError for TrustError {}

/// Trust anchors and crypto, built once per run.
pub struct TlsSetup {
    provider: Arc<CryptoProvider>,
    verifier: Arc<WebPkiServerVerifier>,
    /// How many anchors came from where, for the report.
    pub anchors: String,
    /// Which store each anchor came from, to name the one a trusted chain ends in.
    index: AnchorIndex,
}

impl TlsSetup {
    /// Loads the trust anchors: the operating system's store, the Mozilla set from webpki-roots,
    /// and every certificate in `ca_files`.
    pub fn new(ca_files: &[impl AsRef<Path>]) -> Result<TlsSetup, TrustError> {
        let mut extra = Vec::new();
        for path in ca_files {
            let path = path.as_ref();
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|error| TrustError::CaFile {
                    path: path.to_path_buf(),
                    error,
                })?;
            if certs.is_empty() {
                return Err(TrustError::NoCertificate(path.to_path_buf()));
            }
            for cert in certs {
                extra.push((format!("--ca-file {}", path.display()), cert));
            }
        }
        Self::with_anchors(extra)
    }

    /// Trust from PEM text held in memory (the in-process demo's mock-relay CA).
    pub fn with_pem(origin: &str, pem: &str) -> Result<TlsSetup, TrustError> {
        let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| TrustError::Pem {
                origin: origin.to_string(),
                error,
            })?;
        Self::with_anchors(certs.into_iter().map(|c| (origin.to_string(), c)).collect())
    }

    /// The system store, webpki-roots, and `extra` (`(store name, certificate)` pairs, the
    /// name as messages give it: `--ca-file PATH`).
    fn with_anchors(extra: Vec<(String, CertificateDer<'static>)>) -> Result<TlsSetup, TrustError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = RootCertStore::empty();
        let mut index = AnchorIndex::default();
        let native = rustls_native_certs::load_native_certs();
        let system_label = anchors::system_store_label();
        for cert in &native.certs {
            index.add_certificate(&system_label, cert);
        }
        let (system, _) = roots.add_parsable_certificates(native.certs);
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for anchor in webpki_roots::TLS_SERVER_ROOTS {
            index.add_anchor(anchors::BUILT_IN, anchor);
        }
        let extra_count = extra.len();
        for (origin, cert) in extra {
            index.add_certificate(&origin, &cert);
            roots
                .add(cert)
                .map_err(|error| TrustError::Unusable { origin, error })?;
        }
        let extra = extra_count;
        let anchors = format!(
            "{system} from the system store, {} built in, {extra} from --ca-file",
            webpki_roots::TLS_SERVER_ROOTS.len()
        );
        let verifier =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(TrustError::Verifier)?;
        Ok(TlsSetup {
            provider,
            verifier,
            anchors,
            index,
        })
    }

    /// The trust anchor a verified chain ends in, and the stores that hold it.
    pub fn anchor_of<'a>(&self, issuers: impl IntoIterator<Item = &'a str>) -> Option<Anchored> {
        self.index.anchor_of(issuers)
    }

    /// Runs a TLS handshake over `io`. The presented chain is returned whatever happens.
    pub async fn handshake<IO>(
        &self,
        io: IO,
        server_name: &str,
        alpn: &[&[u8]],
    ) -> (Result<TlsStream<IO>, TlsFailure>, Vec<CertInfo>)
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let (result, chain) = self.handshake_or_stream(io, server_name, alpn).await;
        (result.map_err(|(failure, _)| failure), chain)
    }

    /// [`handshake`](Self::handshake), giving the stream back when it fails, to read what the
    /// far end sent instead (a proxy's block page).
    pub async fn handshake_or_stream<IO>(
        &self,
        io: IO,
        server_name: &str,
        alpn: &[&[u8]],
    ) -> (Result<TlsStream<IO>, (TlsFailure, IO)>, Vec<CertInfo>)
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let verifier = Arc::new(RecordingVerifier {
            inner: self.verifier.clone(),
            seen: seen.clone(),
        });
        let config = rustls::ClientConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map(|b| {
                b.dangerous()
                    .with_custom_certificate_verifier(verifier)
                    .with_no_client_auth()
            });
        let mut config = match config {
            Ok(c) => c,
            Err(e) => {
                return (
                    Err((TlsFailure::HandshakeFailed(e.to_string()), io)),
                    Vec::new(),
                )
            }
        };
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        // The configuration is this connection's alone, so its session cache is never read; the
        // default one sizes itself for 256 sessions up front (about 14 KiB, kept as long as the
        // connection: a ladder of 1,000 held 14 MiB of it). One slot leaves the ClientHello as
        // it was (still asking for tickets) at a fraction of the cost.
        config.resumption = rustls::client::Resumption::in_memory_sessions(1);
        let name = match ServerName::try_from(server_name.to_string()) {
            Ok(n) => n,
            Err(e) => {
                return (
                    Err((
                        TlsFailure::HandshakeFailed(format!(
                            "`{server_name}` is not a valid TLS server name: {e}"
                        )),
                        io,
                    )),
                    Vec::new(),
                )
            }
        };
        let result = TlsConnector::from(Arc::new(config))
            .connect(name, io)
            .into_fallible()
            .await;
        // A poisoned lock still holds what was recorded: no reason to panic over it.
        let seen = std::mem::take(&mut *seen.lock().unwrap_or_else(PoisonError::into_inner));
        let chain = seen.chain.iter().map(|c| CertInfo::parse(c)).collect();
        (
            result.map_err(|(e, io)| (classify(&e, seen.error), io)),
            chain,
        )
    }
}

/// Why a handshake failed.
#[derive(Debug, Clone, PartialEq)]
pub enum TlsFailure {
    /// The chain does not lead to a trusted anchor (a private CA, or TLS inspection).
    Untrusted(String),
    Expired(String),
    NameMismatch(String),
    /// The server does not speak TLS 1.2 or later.
    ProtocolTooOld(String),
    HandshakeFailed(String),
    Reset,
}

impl TlsFailure {
    /// The vocabulary word for this failure.
    pub fn outcome(&self) -> Outcome {
        match self {
            TlsFailure::Untrusted(_) => Outcome::Untrusted,
            TlsFailure::Expired(_) => Outcome::Expired,
            TlsFailure::NameMismatch(_) => Outcome::NameMismatch,
            TlsFailure::ProtocolTooOld(_) => Outcome::ProtocolTooOld,
            TlsFailure::HandshakeFailed(_) => Outcome::HandshakeFailed,
            TlsFailure::Reset => Outcome::Reset,
        }
    }
}

impl std::fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TlsFailure::Untrusted(why) => write!(f, "the certificate is not trusted: {why}"),
            TlsFailure::Expired(why) => write!(f, "the certificate has expired: {why}"),
            TlsFailure::NameMismatch(why) => {
                write!(f, "the certificate is for another name: {why}")
            }
            TlsFailure::ProtocolTooOld(why) => {
                write!(f, "the server does not speak TLS 1.2 or later: {why}")
            }
            TlsFailure::HandshakeFailed(why) => write!(f, "the handshake failed: {why}"),
            TlsFailure::Reset => f.write_str("the connection was reset during the handshake"),
        }
    }
}

fn classify(e: &std::io::Error, cert_error: Option<rustls::Error>) -> TlsFailure {
    if let Some(rustls::Error::InvalidCertificate(ce)) = &cert_error {
        return classify_certificate(ce);
    }
    if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        use rustls::{AlertDescription, PeerIncompatible};
        return match inner {
            rustls::Error::InvalidCertificate(ce) => classify_certificate(ce),
            rustls::Error::AlertReceived(AlertDescription::ProtocolVersion)
            | rustls::Error::PeerIncompatible(
                PeerIncompatible::ServerDoesNotSupportTls12Or13
                | PeerIncompatible::ServerTlsVersionIsDisabledByOurConfig,
            ) => TlsFailure::ProtocolTooOld(inner.to_string()),
            other => TlsFailure::HandshakeFailed(other.to_string()),
        };
    }
    match e.kind() {
        std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted => {
            TlsFailure::Reset
        }
        std::io::ErrorKind::UnexpectedEof => TlsFailure::HandshakeFailed(
            "the peer closed the connection during the handshake".into(),
        ),
        _ => TlsFailure::HandshakeFailed(e.to_string()),
    }
}

fn classify_certificate(e: &CertificateError) -> TlsFailure {
    let text = rustls::Error::InvalidCertificate(e.clone()).to_string();
    match e {
        CertificateError::Expired
        | CertificateError::ExpiredContext { .. }
        | CertificateError::NotValidYet
        | CertificateError::NotValidYetContext { .. } => TlsFailure::Expired(text),
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            TlsFailure::NameMismatch(text)
        }
        _ => TlsFailure::Untrusted(text),
    }
}

#[derive(Default)]
struct Seen {
    chain: Vec<CertificateDer<'static>>,
    error: Option<rustls::Error>,
}

/// Delegates every decision to webpki, but keeps a copy of what the server presented.
#[derive(Debug)]
struct RecordingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    seen: Arc<Mutex<Seen>>,
}

impl std::fmt::Debug for Seen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Seen({} certificates)", self.chain.len())
    }
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let result = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.chain = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|c| c.clone().into_owned())
            .collect();
        seen.error = result.as_ref().err().cloned();
        result
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
/// A TLS handshake with `server_name` over `io` within the phase deadline, as one outcome word
/// (for checks that report many handshakes: gateways, domain controllers).
pub async fn handshake_outcome(
    ctx: &super::NetContext,
    io: super::io::Io,
    server_name: &str,
) -> Outcome {
    let handshake = ctx.tls.handshake(io, server_name, super::ALPN_HTTP1);
    match tokio::time::timeout(ctx.timeout, handshake).await {
        Err(_) => Outcome::Timeout,
        Ok((Ok(_), _)) => Outcome::Ok,
        Ok((Err(e), _)) => e.outcome(),
    }
}
