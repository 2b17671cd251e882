//! The relay server: configuration, start-up (certificates, listeners), and shutdown.
//!
//! ```no_run
//! # async fn demo() -> Result<(), mock_relay::StartError> {
//! use mock_relay::server::{self, ServeConfig};
//! let running = server::start(ServeConfig::loopback()).await?;
//! println!("{}", running.address_line());
//! running.shutdown().await;
//! # Ok(()) }
//! ```

use crate::announce::AddressLine;
use crate::connection;
use crate::fault::{Fault, Faults};
use crate::hc_state::{self, HcConfig};
use crate::listener::{bind, Lifecycle};
use crate::state::Shared;
use crate::stats::StatsHandle;
use crate::tls::{self, CertificateSource, Material};
use crate::StartError;
use relay_protocol::connection_string::{ConnectionString, Credential};
use relay_protocol::hc::{EntityPath, Namespace, ACCEPT_ADDRESS_LIFETIME};
use relay_protocol::sas::SasKey;
use relay_protocol::SecretString;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Everything a relay server needs to start.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// TLS listeners (port 0 picks a free port; see [`RunningServer::tls_addrs`]).
    pub listen: Vec<SocketAddr>,
    /// Plain TCP listeners serving the same HTTP endpoints without TLS.
    pub plain_listen: Vec<SocketAddr>,
    pub certificate: CertificateSource,
    /// Where to write the generated CA (PEM); `None` writes nothing.
    pub ca_out: Option<PathBuf>,
    /// Where to write the generated leaf certificate and its key (0600), if anywhere.
    pub cert_out: Option<PathBuf>,
    pub key_out: Option<PathBuf>,
    pub faults: Vec<Fault>,
    pub max_connections: usize,
    /// Longest a connection may stay idle (a held WebSocket included) before a clean close.
    pub max_idle: Duration,
    /// Deadline for the TLS handshake, counted after any `handshake-delay`.
    pub handshake_timeout: Duration,
    /// Deadline for each request's headers, the first one included.
    pub request_timeout: Duration,
    /// Longest a write may stay blocked on a peer that does not read before the connection is
    /// reset.
    pub write_timeout: Duration,
    /// How long shutdown waits for open connections to close.
    pub shutdown_grace: Duration,
    /// Azure Relay Hybrid Connections.
    pub hc: HcSettings,
}

/// The Hybrid Connections namespace the relay plays.
#[derive(Debug, Clone)]
pub struct HcSettings {
    /// `SharedAccessKeyName` of the one key tokens are signed with.
    pub key_name: String,
    /// The key; `None` generates a random one at start.
    pub key: Option<SecretString>,
    /// The hybrid connections that exist; empty: every entity exists.
    pub entities: Vec<EntityPath>,
    /// The host the connection string names (a leading `*.` becomes `mock-relay.`); `None`:
    /// the first TLS listen address (loopback for an unspecified one).
    pub namespace_host: Option<String>,
    /// How long a sender waits for a listener's decision; also an accept address's lifetime.
    pub accept_timeout: Duration,
    /// Where to write the connection string (mode 0600), if anywhere.
    pub connection_string_out: Option<PathBuf>,
    /// Forget listeners idle this long, as the service does; `None`: never.
    pub service_idle_limit: Option<Duration>,
    /// How long a relayed HTTP request waits for its listener's response.
    pub response_timeout: Duration,
    /// Largest WebSocket frame a rendezvous (or a request rendezvous) takes from a client.
    pub frame_limit: usize,
    /// Entities whose senders need no token.
    pub anonymous: Vec<EntityPath>,
    /// Client address blocks the namespace's IP filter refuses.
    pub deny_ip: Vec<crate::hc_state::ip_filter::Cidr>,
    /// Gateway hosts the accept and request addresses name (each under the namespace's parent
    /// domain); empty: the namespace's own host.
    pub gateways: Vec<String>,
}

/// "each request must be responded to within 60 seconds" (protocol guide).
pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default for `--hc-frame-limit`: far above what the SDKs send in one frame (the .NET SDK
/// writes one message per `Write`, hyco-https 64 kB fragments), below hyco-ws's own 100 MiB.
pub const DEFAULT_FRAME_LIMIT: usize = 16 * 1024 * 1024;

/// The key name the portal gives a namespace's first rule.
pub const DEFAULT_KEY_NAME: &str = "RootManageSharedAccessKey";

impl Default for HcSettings {
    fn default() -> Self {
        HcSettings {
            key_name: DEFAULT_KEY_NAME.into(),
            key: None,
            entities: Vec::new(),
            namespace_host: None,
            accept_timeout: ACCEPT_ADDRESS_LIFETIME,
            connection_string_out: None,
            service_idle_limit: None,
            response_timeout: DEFAULT_RESPONSE_TIMEOUT,
            frame_limit: DEFAULT_FRAME_LIMIT,
            anonymous: Vec::new(),
            deny_ip: Vec::new(),
            gateways: Vec::new(),
        }
    }
}

impl Default for ServeConfig {
    /// The CLI's defaults, except that nothing is written to disk.
    fn default() -> Self {
        ServeConfig {
            listen: vec![SocketAddr::from(([127, 0, 0, 1], 8443))],
            plain_listen: Vec::new(),
            certificate: CertificateSource::default(),
            ca_out: None,
            cert_out: None,
            key_out: None,
            faults: Vec::new(),
            max_connections: 100_000,
            max_idle: Duration::from_secs(3600),
            handshake_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(5),
            hc: HcSettings::default(),
        }
    }
}

impl ServeConfig {
    /// One TLS listener on a free loopback port (for tests and the in-process demo).
    pub fn loopback() -> ServeConfig {
        ServeConfig {
            listen: vec![SocketAddr::from(([127, 0, 0, 1], 0))],
            ..ServeConfig::default()
        }
    }
}

/// A started server. Dropping it without [`RunningServer::shutdown`] leaves it running for as
/// long as the runtime does.
pub struct RunningServer {
    tls_addrs: Vec<SocketAddr>,
    plain_addrs: Vec<SocketAddr>,
    ca_pem: Option<String>,
    ca_file: Option<PathBuf>,
    stats: StatsHandle,
    lifecycle: Lifecycle,
    grace: Duration,
    connection_string: ConnectionString,
    service_idle_limit: Option<Duration>,
}

impl RunningServer {
    /// The bound TLS addresses, in `--listen` order, with real ports.
    pub fn tls_addrs(&self) -> &[SocketAddr] {
        &self.tls_addrs
    }

    /// The bound plain TCP addresses, in `--plain-listen` order.
    pub fn plain_addrs(&self) -> &[SocketAddr] {
        &self.plain_addrs
    }

    /// The generated CA certificate (PEM) clients should trust; `None` with `--cert`/`--key`.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    pub fn stats(&self) -> StatsHandle {
        self.stats.clone()
    }

    /// The Hybrid Connections connection string clients use (`Display` hides the key).
    pub fn connection_string(&self) -> &ConnectionString {
        &self.connection_string
    }

    /// The line the binary prints first on stdout.
    pub fn address_line(&self) -> AddressLine {
        AddressLine {
            tls: self.tls_addrs.clone(),
            plain: self.plain_addrs.clone(),
            connection_string: Some(self.connection_string.clone()),
            service_idle_limit: self.service_idle_limit,
            ca_file: self.ca_file.clone(),
            ..AddressLine::default()
        }
    }

    /// Graceful shutdown: stop accepting, close keep-alive connections, send a WebSocket close
    /// (going away) on open channels, and wait up to the configured grace for them to finish.
    /// Returns false if some connections were still open when the grace ran out.
    pub async fn shutdown(self) -> bool {
        tracing::info!("shutting down");
        let clean = self.lifecycle.shutdown(self.grace).await;
        if !clean {
            tracing::warn!(
                open = self.stats.snapshot().open_connections,
                "connections still open after the shutdown grace"
            );
        }
        clean
    }
}

/// Loads or generates certificates, writes the CA, binds every listener and starts serving.
pub async fn start(config: ServeConfig) -> Result<RunningServer, StartError> {
    if config.listen.is_empty() && config.plain_listen.is_empty() {
        return Err(StartError::Config("nothing to listen on".into()));
    }
    let faults = Faults::from_list(&config.faults)?;
    let key = match &config.hc.key {
        Some(key) => SasKey::new(config.hc.key_name.clone(), key.expose()),
        None => SasKey::generate(config.hc.key_name.clone()),
    }
    .map_err(|e| StartError::Config(format!("--sas-key-name/--sas-key: {e}")))?;
    let host = namespace_host(&config)?;
    crate::hc_state::gateway::check(&config.hc.gateways, &host)?;
    let certificate = config
        .hc
        .gateways
        .iter()
        .fold(config.certificate.covering(&host), |cert, gateway| {
            cert.covering(gateway)
        });
    let material = Material::obtain(&certificate, faults.certificate().as_deref())?;
    let tls_config = material.server_config()?;
    let ca_file = match (&config.ca_out, &material.ca_pem) {
        (Some(path), Some(pem)) => {
            tls::write_public(path, pem)?;
            Some(path.clone())
        }
        _ => None,
    };
    if let (Some(path), Some(pem)) = (&config.cert_out, &material.leaf_pem) {
        tls::write_public(path, pem)?;
    }
    if let (Some(path), Some(pem)) = (&config.key_out, &material.key_pem) {
        tls::write_private(path, pem)?;
    }

    // Bind everything before serving anything, so a taken port fails the start cleanly.
    let mut tls_listeners = Vec::new();
    for addr in &config.listen {
        tls_listeners.push(bind(*addr).await?);
    }
    let mut plain_listeners = Vec::new();
    for addr in &config.plain_listen {
        plain_listeners.push(bind(*addr).await?);
    }
    let local =
        |l: &tokio::net::TcpListener| l.local_addr().expect("bound listener has an address");
    let tls_addrs: Vec<SocketAddr> = tls_listeners.iter().map(local).collect();
    let plain_addrs: Vec<SocketAddr> = plain_listeners.iter().map(local).collect();

    let port = tls_addrs
        .first()
        .or(plain_addrs.first())
        .map_or(0, SocketAddr::port);
    let namespace = Namespace::new(&host, Some(port))
        .map_err(|e| StartError::Config(format!("the namespace host {host}: {e}")))?;
    let entity_path = match config.hc.entities.as_slice() {
        [only] => Some(only.clone()),
        _ => None,
    };
    let connection_string =
        ConnectionString::new(namespace.clone(), entity_path, Credential::Key(key.clone()));
    if let Some(path) = &config.hc.connection_string_out {
        tls::write_private(path, &format!("{}\n", connection_string.expose().expose()))?;
    }
    let hc = hc_state::Service::new(HcConfig {
        keys: vec![key],
        namespace,
        entities: (!config.hc.entities.is_empty()).then(|| config.hc.entities.clone()),
        accept_timeout: config.hc.accept_timeout,
        service_idle_limit: config.hc.service_idle_limit,
        response_timeout: config.hc.response_timeout,
        frame_limit: config.hc.frame_limit,
        anonymous: config
            .hc
            .anonymous
            .iter()
            .map(|e| e.as_str().to_string())
            .collect(),
        deny: config.hc.deny_ip.clone(),
        gateways: config.hc.gateways.clone(),
    });

    let lifecycle = Lifecycle::new(config.max_connections);
    let stats = StatsHandle::default();
    let shared = Arc::new(Shared {
        stats: stats.clone(),
        faults,
        max_idle: config.max_idle,
        handshake_timeout: config.handshake_timeout,
        request_timeout: config.request_timeout,
        write_timeout: config.write_timeout,
        token: lifecycle.token.clone(),
        hc,
    });
    lifecycle.tracker.spawn(crate::memory::trim_after_bursts(
        stats.clone(),
        lifecycle.token.clone(),
    ));
    let acceptor = tokio_rustls::TlsAcceptor::from(tls_config);
    for listener in tls_listeners {
        let (shared, acceptor) = (shared.clone(), acceptor.clone());
        lifecycle.spawn_accept_loop(listener, "tls", move |conn| {
            connection::serve(conn, shared.clone(), Some(acceptor.clone()))
        });
    }
    for listener in plain_listeners {
        let shared = shared.clone();
        lifecycle.spawn_accept_loop(listener, "plain", move |conn| {
            connection::serve(conn, shared.clone(), None)
        });
    }
    tracing::info!(
        tls = ?tls_addrs,
        plain = ?plain_addrs,
        faults = ?config.faults.iter().map(ToString::to_string).collect::<Vec<_>>(),
        connection_string = %connection_string,
        "serving"
    );
    Ok(RunningServer {
        tls_addrs,
        plain_addrs,
        ca_pem: material.ca_pem,
        ca_file,
        stats,
        lifecycle,
        grace: config.shutdown_grace,
        connection_string,
        service_idle_limit: config.hc.service_idle_limit,
    })
}

/// The host the connection string names: the first `--hostname` (a wildcard's `*` becomes
/// `mock-relay`), else the first listen address, loopback for an unspecified one. IPv6 in
/// brackets, as in a URL.
fn namespace_host(config: &ServeConfig) -> Result<String, StartError> {
    if let Some(name) = &config.hc.namespace_host {
        let host = match name.strip_prefix("*.") {
            Some(parent) => format!("mock-relay.{parent}"),
            None => name.clone(),
        };
        let host = match host.parse::<Ipv6Addr>() {
            Ok(v6) => format!("[{v6}]"),
            Err(_) => host,
        };
        Namespace::new(&host, None).map_err(|e| {
            StartError::Config(format!(
                "--hostname {name} cannot name the namespace in the connection string: {e}"
            ))
        })?;
        return Ok(host);
    }
    let ip = config
        .listen
        .first()
        .or(config.plain_listen.first())
        .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), SocketAddr::ip);
    Ok(match ip {
        IpAddr::V4(v4) if v4.is_unspecified() => Ipv4Addr::LOCALHOST.to_string(),
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) if v6.is_unspecified() => format!("[{}]", Ipv6Addr::LOCALHOST),
        IpAddr::V6(v6) => format!("[{v6}]"),
    })
}
