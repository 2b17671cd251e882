//! Command-line definitions. `serve` is the default subcommand, so `mock-relay --listen ...`
//! and `mock-relay serve --listen ...` mean the same.

use crate::fault::{self, Fault, IdleAction};
use crate::logging::LogFormat;
use crate::middlebox::{self, MiddleboxConfig};
use crate::secs::parse_seconds;
use crate::server::{HcSettings, ServeConfig, DEFAULT_KEY_NAME};
use crate::tls::{CertificateSource, DEFAULT_HOSTNAMES};
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use relay_protocol::hc::EntityPath;
use relay_protocol::sas::SasKey;
use relay_protocol::SecretString;
use std::convert::Infallible;
use std::ffi::OsStr;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::LazyLock;
use std::time::Duration;

static FAULT_HELP: LazyLock<String> = LazyLock::new(|| {
    let mut help = String::from("Fault to rehearse, KIND:ARG (repeatable). Kinds:");
    for kind in fault::kinds() {
        let usage = format!("{}:{}", kind.name, kind.argument);
        help.push_str(&format!("\n  {usage:<23} {}", kind.summary));
    }
    help
});

static HOSTNAME_HELP: LazyLock<String> = LazyLock::new(|| {
    format!(
        "Name for the generated certificate (repeatable) [default: {}]",
        DEFAULT_HOSTNAMES.join(", ")
    )
});

#[derive(Debug, Parser)]
#[command(
    name = "mock-relay",
    version = crate::version::LONG,
    about = "A simulated Azure Relay listener service for rehearsing firewall and proxy rules",
    after_help = "On start, the first stdout line is the address line, e.g.\n  listening tls=127.0.0.1:8443 connection-string=Endpoint=sb://127.0.0.1:8443/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=KEY ca=mock-relay-ca.pem\nLogs go to stderr.",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    /// Log line format on stderr.
    #[arg(long, global = true, default_value = "text", value_parser = clap::builder::PossibleValuesParser::new(["text", "json"]).map(|s| s.parse::<LogFormat>().expect("listed")))]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the relay endpoints, the listener channel and Hybrid Connections (the default).
    Serve(Box<ServeArgs>),
    /// Forward TCP to one upstream with an idle timeout, like a firewall or proxy.
    Middlebox(MiddleboxArgs),
}

#[derive(Debug, Args, Clone)]
pub struct ServeArgs {
    /// TLS listen address (repeatable; port 0 picks a free port).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8443")]
    pub listen: Vec<SocketAddr>,

    /// Plain TCP listen address serving the same endpoints without TLS (repeatable), e.g. for
    /// rehearsing ports 9350-9354.
    #[arg(long, value_name = "ADDR:PORT")]
    pub plain_listen: Vec<SocketAddr>,

    /// Certificate chain (PEM, leaf first) instead of a generated one.
    #[arg(long, value_name = "PATH", requires = "key")]
    pub cert: Option<PathBuf>,

    /// Private key (PEM) for --cert.
    #[arg(long, value_name = "PATH", requires = "cert")]
    pub key: Option<PathBuf>,

    #[arg(long, value_name = "NAME", conflicts_with = "cert", help = HOSTNAME_HELP.as_str())]
    pub hostname: Vec<String>,

    /// Where to write the generated CA certificate.
    #[arg(long, value_name = "PATH", default_value = "mock-relay-ca.pem")]
    pub ca_out: PathBuf,

    /// Also write the generated leaf certificate here.
    #[arg(long, value_name = "PATH", conflicts_with = "cert")]
    pub cert_out: Option<PathBuf>,

    /// Also write the generated leaf's private key here (mode 0600).
    #[arg(long, value_name = "PATH", conflicts_with = "cert")]
    pub key_out: Option<PathBuf>,

    #[arg(long, value_name = "KIND:ARG", help = FAULT_HELP.as_str())]
    pub fault: Vec<Fault>,

    /// Most connections open at once; more wait in the kernel's accept queue.
    #[arg(long, value_name = "N", default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: u64,

    /// Longest a connection (a held WebSocket included) may stay idle, in seconds.
    #[arg(long, value_name = "SECS", default_value = "3600", value_parser = parse_seconds)]
    pub max_idle: Duration,

    /// Deadline for the TLS handshake, in seconds.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_seconds)]
    pub handshake_timeout: Duration,

    /// Deadline for each request's headers, in seconds.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_seconds)]
    pub request_timeout: Duration,

    /// Longest a write may stay blocked on a client that does not read, in seconds; then the
    /// connection is reset.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_seconds)]
    pub write_timeout: Duration,

    /// Hybrid Connections: the name of the shared access key tokens are signed with.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_KEY_NAME, value_parser = parse_key_name)]
    pub sas_key_name: String,

    /// Hybrid Connections: the shared access key (absent: a random one, printed in the
    /// connection string on the address line).
    #[arg(long, value_name = "KEY", env = "MOCK_RELAY_SAS_KEY", hide_env_values = true, value_parser = secret)]
    pub sas_key: Option<SecretString>,

    /// Hybrid Connections: a hybrid connection that exists (repeatable; absent: every entity
    /// exists).
    #[arg(long, value_name = "NAME", value_parser = parse_entity)]
    pub entity: Vec<EntityPath>,

    /// Also write the Hybrid Connections connection string here (mode 0600).
    #[arg(long, value_name = "PATH")]
    pub connection_string_out: Option<PathBuf>,

    /// Hybrid Connections: how long a sender waits for a listener to accept or reject it, and
    /// how long an accept address stays valid, in seconds.
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = parse_seconds)]
    pub accept_timeout: Duration,

    /// Hybrid Connections: forget a listener whose control channel has been idle this many
    /// seconds, silently, as the service's load balancers do (about 240 s; see docs/sources.md).
    /// Off by default, so a rehearsal of a customer's firewall is not capped by it.
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub service_idle_limit: Option<Duration>,

    /// Hybrid Connections: how long a relayed HTTP request waits for its listener's response,
    /// in seconds (the service's 60).
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = parse_seconds)]
    pub response_timeout: Duration,

    /// Hybrid Connections: the largest WebSocket frame a rendezvous (or a request rendezvous)
    /// takes from a client, in bytes; messages of any size cross in their frames, streamed
    /// (16 MiB; from 64 KiB to 1 GiB).
    #[arg(long, value_name = "BYTES", default_value = "16777216", value_parser = parse_frame_limit)]
    pub hc_frame_limit: usize,

    /// Hybrid Connections: an entity whose senders need no token (repeatable; the portal's
    /// "Requires Client Authorization" turned off). Listeners always need one.
    #[arg(long, value_name = "NAME", value_parser = parse_entity)]
    pub anonymous: Vec<EntityPath>,

    /// Hybrid Connections: refuse clients from this address block as the namespace's IP filter
    /// does (401 "Ip has been prevented to connect to the endpoint."; repeatable; CIDR such as
    /// 198.18.0.0/15, or one address).
    #[arg(long, value_name = "CIDR")]
    pub deny_ip: Vec<crate::hc_state::ip_filter::Cidr>,

    /// Hybrid Connections: a gateway host the accept and request addresses name instead of the
    /// namespace (repeatable, named in turn), as the service names its gateways
    /// (`g1-prod-sb.servicebus.windows.net`); it must share the namespace's parent domain.
    /// Absent: the host the listener connected with.
    #[arg(long, value_name = "NAME")]
    pub gateway: Vec<String>,
}

/// `--hc-frame-limit`: from 64 KiB to 1 GiB.
fn parse_frame_limit(text: &str) -> Result<usize, FlagError> {
    let value: usize = text
        .parse()
        .map_err(|_| FlagError::NotBytes(text.to_string()))?;
    if FRAME_LIMITS.contains(&value) {
        Ok(value)
    } else {
        Err(FlagError::FrameLimitOutOfRange(value))
    }
}

/// The frame limits `--hc-frame-limit` accepts.
const FRAME_LIMITS: std::ops::RangeInclusive<usize> = 64 * 1024..=1 << 30;

/// Why a flag's value was refused; clap adds the flag's name.
#[derive(Debug, thiserror::Error)]
pub enum FlagError {
    #[error("'{0}' is not a number of bytes")]
    NotBytes(String),
    #[error("{0} is outside {start}..={end}", start = FRAME_LIMITS.start(), end = FRAME_LIMITS.end())]
    FrameLimitOutOfRange(usize),
    #[error("entity names with whitespace are not supported here")]
    WhitespaceInEntity,
    #[error(transparent)]
    Sas(#[from] relay_protocol::sas::SasKeyError),
    #[error(transparent)]
    Entity(#[from] relay_protocol::hc::EntityPathError),
}

/// `--sas-key`: kept as a secret from the moment it is read (never in `Debug` output).
fn secret(text: &str) -> Result<SecretString, Infallible> {
    Ok(SecretString::new(text))
}

/// `--sas-key-name`: a key name Azure would take (not secret, so clap may echo it).
fn parse_key_name(text: &str) -> Result<String, FlagError> {
    SasKey::new(text, "k").map(|_| text.to_string())?;
    Ok(text.to_string())
}

/// `--entity`: a valid entity path without whitespace (the address line is space-separated).
fn parse_entity(text: &str) -> Result<EntityPath, FlagError> {
    if text.contains(char::is_whitespace) {
        return Err(FlagError::WhitespaceInEntity);
    }
    Ok(EntityPath::new(text)?)
}

#[derive(Debug, Args, Clone)]
pub struct MiddleboxArgs {
    /// Address to accept connections on (port 0 picks a free port).
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: SocketAddr,

    /// The one address to forward to (HOST:PORT).
    #[arg(long, value_name = "HOST:PORT")]
    pub upstream: String,

    /// Seconds without payload in either direction before the idle action.
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub idle_timeout: Duration,

    /// What happens at the idle timeout.
    #[arg(long, value_name = "MODE", value_parser = OnIdleParser)]
    pub on_idle: IdleAction,

    /// Milliseconds added to every forwarded chunk, in each direction.
    #[arg(long, value_name = "MS", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub delay_ms: u64,

    /// Most connections forwarded at once.
    #[arg(long, value_name = "N", default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: u64,
}

/// `--on-idle`: one of the idle actions the middlebox can carry out (listed in `--help`); an
/// action it cannot carry out is refused with the reason. Also for `probe demo --on-idle`.
#[derive(Debug, Clone, Copy, Default)]
pub struct OnIdleParser;

impl TypedValueParser for OnIdleParser {
    type Value = IdleAction;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<IdleAction, clap::Error> {
        let known = value
            .to_str()
            .is_some_and(|s| s.parse::<IdleAction>().is_ok());
        if !known {
            // clap's own message, with the possible values.
            PossibleValuesParser::new(middlebox::actions().map(IdleAction::word))
                .parse_ref(cmd, arg, value)?;
        }
        let check = |word: &str| -> Result<IdleAction, Box<dyn std::error::Error + Send + Sync>> {
            Ok(middlebox::check_action(word.parse()?)?)
        };
        check.parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            middlebox::actions().map(|action| PossibleValue::new(action.word())),
        ))
    }
}

impl ServeArgs {
    pub fn to_config(&self) -> ServeConfig {
        let certificate = match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => CertificateSource::Files {
                cert: cert.clone(),
                key: key.clone(),
            },
            _ if !self.hostname.is_empty() => CertificateSource::Generate {
                hostnames: self.hostname.clone(),
            },
            _ => CertificateSource::default(),
        };
        ServeConfig {
            listen: self.listen.clone(),
            plain_listen: self.plain_listen.clone(),
            certificate,
            ca_out: Some(self.ca_out.clone()),
            cert_out: self.cert_out.clone(),
            key_out: self.key_out.clone(),
            faults: self.fault.clone(),
            max_connections: usize::try_from(self.max_connections).unwrap_or(usize::MAX),
            max_idle: self.max_idle,
            handshake_timeout: self.handshake_timeout,
            request_timeout: self.request_timeout,
            write_timeout: self.write_timeout,
            hc: HcSettings {
                key_name: self.sas_key_name.clone(),
                key: self.sas_key.clone(),
                entities: self.entity.clone(),
                namespace_host: self.hostname.first().cloned(),
                accept_timeout: self.accept_timeout,
                connection_string_out: self.connection_string_out.clone(),
                service_idle_limit: self.service_idle_limit,
                response_timeout: self.response_timeout,
                frame_limit: self.hc_frame_limit,
                anonymous: self.anonymous.clone(),
                deny_ip: self.deny_ip.clone(),
                gateways: self.gateway.clone(),
            },
            ..ServeConfig::default()
        }
    }
}

impl MiddleboxArgs {
    pub fn to_config(&self) -> MiddleboxConfig {
        let mut config = MiddleboxConfig::new(
            self.listen,
            self.upstream.clone(),
            self.idle_timeout,
            self.on_idle,
        );
        config.delay = Duration::from_millis(self.delay_ms);
        config.max_connections = usize::try_from(self.max_connections).unwrap_or(usize::MAX);
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("mock-relay").chain(args.iter().copied()))
    }

    #[test]
    fn serve_is_the_default_and_takes_the_same_flags() {
        let bare = parse(&["--listen", "127.0.0.1:0", "--fault", "idle-reset:2"]).unwrap();
        assert!(bare.command.is_none());
        assert_eq!(bare.serve.fault.len(), 1);
        let named = parse(&["serve", "--plain-listen", "127.0.0.1:9350"]).unwrap();
        let Some(Command::Serve(args)) = named.command else {
            panic!("serve")
        };
        assert_eq!(args.listen, vec!["127.0.0.1:8443".parse().unwrap()]);
        assert_eq!(
            args.to_config().ca_out,
            Some(PathBuf::from("mock-relay-ca.pem"))
        );
    }

    /// `mock-relay middlebox` with every required flag, `--on-idle ON_IDLE`, and `extra`.
    fn middlebox(on_idle: &str, extra: &[&str]) -> Result<Cli, clap::Error> {
        let mut args = vec![
            "middlebox",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            "127.0.0.1:8443",
            "--idle-timeout",
            "2.5",
            "--on-idle",
            on_idle,
        ];
        args.extend_from_slice(extra);
        parse(&args)
    }

    #[test]
    fn request_mode_and_filter_flags_are_read_and_bad_ones_exit_2() {
        let ok = parse(&[
            "--response-timeout",
            "2.5",
            "--hc-frame-limit",
            "1048576",
            "--anonymous",
            "open",
            "--deny-ip",
            "198.18.0.0/15",
            "--gateway",
            "g1-prod-sb.servicebus.windows.net",
        ])
        .unwrap();
        let config = ok.serve.to_config();
        assert_eq!(config.hc.response_timeout, Duration::from_millis(2500));
        assert_eq!(config.hc.frame_limit, 1 << 20);
        assert_eq!(config.hc.anonymous[0].as_str(), "open");
        assert_eq!(config.hc.deny_ip[0].to_string(), "198.18.0.0/15");
        assert_eq!(config.hc.gateways, ["g1-prod-sb.servicebus.windows.net"]);
        for (flag, value, says) in [
            ("--deny-ip", "198.18.0.0/40", "prefix length '40'"),
            ("--hc-frame-limit", "100", "outside 65536"),
        ] {
            let err = parse(&[flag, value]).unwrap_err();
            assert_eq!(err.exit_code(), 2);
            assert!(err.to_string().contains(says), "{err}");
        }
    }

    #[test]
    fn middlebox_needs_its_flags() {
        let ok = middlebox("drop", &["--delay-ms", "20"]).unwrap();
        let Some(Command::Middlebox(args)) = ok.command else {
            panic!("middlebox")
        };
        let config = args.to_config();
        assert_eq!(config.on_idle, IdleAction::Drop);
        assert_eq!(config.idle_timeout, Duration::from_millis(2500));
        assert_eq!(config.delay, Duration::from_millis(20));
        assert!(parse(&["middlebox", "--listen", "127.0.0.1:0"]).is_err());
    }

    #[test]
    fn on_idle_refuses_what_the_middlebox_cannot_do() {
        let err = middlebox("close-notify", &[]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let text = err.to_string();
        assert!(
            text.contains("--on-idle") && text.contains("TLS peer"),
            "{text}"
        );
        let text = middlebox("nap", &[]).unwrap_err().to_string();
        assert!(
            text.contains("--on-idle") && text.contains("reset, drop, fin"),
            "{text}"
        );
    }

    #[test]
    fn hybrid_connection_flags_reach_the_config() {
        let cli = parse(&[
            "--sas-key",
            "s3cr3t=",
            "--entity",
            "hc1",
            "--entity",
            "site/hc2",
            "--hostname",
            "relay.lab",
            "--accept-timeout",
            "2.5",
        ])
        .unwrap();
        assert!(!format!("{cli:?}").contains("s3cr3t"));
        let config = cli.serve.to_config();
        assert_eq!(config.hc.key_name, "RootManageSharedAccessKey");
        assert_eq!(config.hc.key.as_ref().map(|k| k.expose()), Some("s3cr3t="));
        assert_eq!(config.hc.entities.len(), 2);
        assert_eq!(config.hc.namespace_host.as_deref(), Some("relay.lab"));
        assert_eq!(config.hc.accept_timeout, Duration::from_millis(2500));
        assert_eq!(config.write_timeout, Duration::from_secs(10));
    }

    #[test]
    fn bad_input_is_a_usage_error() {
        for args in [
            vec!["--fault", "idle-nap:3"],
            vec!["--listen", "localhost"],
            vec!["--max-idle", "0"],
            vec!["--cert", "a.pem"],
            vec!["--log-format", "xml"],
            vec!["--entity", "a//b"],
            vec!["--entity", "my hc"],
            vec!["--sas-key-name", ""],
            vec!["--accept-timeout", "0"],
            vec!["--write-timeout", "-1"],
        ] {
            let err = parse(&args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
        }
    }
}
