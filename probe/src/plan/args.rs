//! The flags of `probe run` (also flattened into `probe serve`): what a run is asked to do.

use crate::net::proxy::ProxyAuth;
use crate::net::resolve::{parse_dns_server, ResolveOverride};
use crate::report::Format;
use crate::scenario::Cloud;
use crate::seconds::Seconds;
use crate::target::{Target, TargetError};
use clap::Args;
use relay_protocol::SecretString;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// A built-in scenario name or a TOML scenario file.
    #[arg(value_name = "SCENARIO", default_value = crate::scenario::builtin::DEFAULT)]
    pub scenario: String,
    /// Check this URL instead of the scenario's targets (repeatable): https://, wss://,
    /// tcp://host:port or relay://host:port (a mock-relay).
    #[arg(long = "target", value_name = "URL", value_parser = TargetUrl)]
    pub targets: Vec<Target>,
    /// Check this Azure Relay hybrid connection end to end, the way writeback uses its relay: a
    /// listener, a sender handed to it, the rendezvous, and idle listeners the relay must push
    /// to (repeatable). CONNECTION-STRING is the authorization rule's (Listen and Send):
    /// Endpoint=sb://NAMESPACE/;SharedAccessKeyName=NAME;SharedAccessKey=KEY;EntityPath=ENTITY.
    /// Like --target, it replaces the scenario's targets. The key is never shown.
    #[arg(
        long = "hybrid-connection",
        value_name = "CONNECTION-STRING",
        env = "PROBE_HYBRID_CONNECTION",
        hide_env_values = true,
        value_parser = secret_arg
    )]
    pub hybrid_connections: Vec<SecretArg>,
    /// Another hybrid connection of the same namespace and key, for the idle ladder: each idle
    /// listener needs an entity of its own (repeatable).
    #[arg(long = "hc-entity", value_name = "NAME")]
    pub hc_entities: Vec<String>,
    /// Rehearsals only: the life of the tokens the probe signs for a hybrid connection, in
    /// seconds [default: 3600, as Microsoft's SDK]; held listeners renew theirs ahead of it.
    #[arg(long = "hc-token-lifetime", value_name = "SECS", hide = true, value_parser = parse_token_lifetime)]
    pub hc_token_lifetime: Option<Seconds>,
    /// Also check this Azure Relay namespace and all its gateways (repeatable); a bare name
    /// gets the cloud's suffix (e.g. .servicebus.windows.net).
    #[arg(long = "relay-namespace", value_name = "NAME")]
    pub relay_namespaces: Vec<String>,
    /// Find this Active Directory domain's PDC emulator (DNS SRV) and check the ports
    /// writeback needs on it and on every domain controller.
    #[arg(long, value_name = "DOMAIN", value_parser = parse_ad_domain)]
    pub ad_domain: Option<String>,
    /// Endpoint set of the scenario.
    #[arg(long, value_enum)]
    pub cloud: Option<Cloud>,
    /// Ask this DNS server instead of the system's (repeatable).
    #[arg(long = "dns-server", value_name = "IP[:PORT]", value_parser = parse_dns_server)]
    pub dns_servers: Vec<SocketAddr>,
    /// Use ADDR for HOST:PORT without asking DNS, as curl does (repeatable).
    #[arg(long = "resolve", value_name = "HOST:PORT:ADDR", value_parser = clap::value_parser!(ResolveOverride))]
    pub resolve: Vec<ResolveOverride>,
    /// Extra trust anchors (PEM), e.g. a corporate or mock-relay CA (repeatable).
    #[arg(long = "ca-file", value_name = "PEM")]
    pub ca_files: Vec<PathBuf>,
    /// Deadline of each phase, in seconds.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_timeout)]
    pub timeout: Seconds,
    /// Deadline of the whole run, in seconds [default: derived from the plan: the phases of
    /// the slowest target's checks times --timeout, times --count, plus its longest idle period
    /// (twice with --refine), plus 30 s]. When it passes, the check in progress fails with
    /// outcome `timeout`, the checks after it are skipped, a note names the targets stopped, and
    /// the run exits 1.
    #[arg(long, value_name = "SECS", value_parser = parse_max_time)]
    pub max_time: Option<Seconds>,
    /// Timing samples per target; percentiles are reported when above 1.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub count: u32,
    /// Skip the idle-connection checks.
    #[arg(long)]
    pub quick: bool,
    /// Seconds an idle connection must survive [default: the scenario's idle.required_s].
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub idle: Option<Seconds>,
    /// Seconds an idle connection should survive: survival short of it (but past --idle)
    /// passes with a warning [default: the scenario's idle.recommended_s, unless --idle is given].
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub idle_recommended: Option<Seconds>,
    /// Shortest idle period of the ladder [default: 30].
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub idle_min: Option<Seconds>,
    /// Longest idle period of the ladder [default: the recommended value, at least required + 60].
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub idle_max: Option<Seconds>,
    /// Step between the ladder's idle periods; the resolution of the result [default: 15].
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub idle_step: Option<Seconds>,
    /// Also hold a TCP-keepalive and a heartbeat connection for --idle-max, to tell a layer-4
    /// cutoff (NAT, firewall) from a layer-7 one (proxy).
    #[arg(long)]
    pub idle_variants: bool,
    /// A second round inside the bracket to narrow it to 1 s.
    #[arg(long)]
    pub refine: bool,
    /// A label for this network segment, recorded in every output.
    #[arg(long, value_name = "NAME")]
    pub segment: Option<String>,
    /// Go through this HTTP proxy: http://[USER:PASS@]HOST:PORT (credentials are shown as ****).
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
    /// How to answer a proxy that asks for credentials: `basic`, `ntlm` (NTLMv2, for proxies
    /// that want integrated Windows authentication) or `negotiate` (Kerberos, NTLM as the
    /// fallback). User and password come from the proxy URL (--proxy, the scenario's,
    /// HTTPS_PROXY); a domain as DOMAIN%5Cuser (DOMAIN\user) or user@domain. Without them,
    /// `ntlm` and `negotiate` use the logon's own credentials as the sync service does (SSPI on
    /// Windows; the Kerberos ticket cache of kinit or KRB5_CLIENT_KTNAME's keytab on Linux)
    /// [default: basic when the proxy URL has credentials].
    #[arg(long, value_name = "SCHEME", value_parser = parse_proxy_auth)]
    pub proxy_auth: Option<ProxyAuth>,
    /// Ignore every proxy setting (flags, scenario, environment): connect directly.
    #[arg(long, conflicts_with_all = ["proxy", "proxy_from_machine_config", "proxy_from_winhttp", "proxy_auth"])]
    pub no_proxy: bool,
    /// Use the proxy of the .NET machine.config <defaultProxy> section, as the sync service
    /// does [default: %WINDIR%\Microsoft.NET\Framework64\v4.0.30319\Config\machine.config,
    /// else the 32-bit Framework one].
    #[arg(long, value_name = "PATH", num_args = 0..=1, conflicts_with = "proxy")]
    pub proxy_from_machine_config: Option<Option<PathBuf>>,
    /// Use the WinHTTP default proxy (`netsh winhttp show proxy`) and its bypass list
    /// [default: the registry value HKLM\...\Internet Settings\Connections\WinHttpSettings; off
    /// Windows, name a `reg export` file of that key]. With --proxy-from-machine-config too,
    /// machine.config decides (the sync service uses it) and WinHTTP is shown beside it.
    #[arg(long, value_name = "REGFILE", num_args = 0..=1, conflicts_with = "proxy")]
    pub proxy_from_winhttp: Option<Option<PathBuf>>,
    /// Also check every relay namespace named in FILE, as --relay-namespace does: any text that
    /// names them (export the Application log events 31019, 31034, 32002 and 32011 of source
    /// PasswordResetService, as text, XML, CSV or .evtx; or paste an error into a file).
    #[arg(long, value_name = "FILE")]
    pub namespace_from: Option<PathBuf>,
    /// Check each target both directly and through the proxy, side by side.
    #[arg(long)]
    pub compare_direct: bool,
    /// Output format [default: human on a terminal, json otherwise].
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write the report to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write the Prometheus exposition to PATH, atomically (temporary file and rename),
    /// for node_exporter's textfile collector (name it *.prom).
    #[arg(long, value_name = "PATH")]
    pub prometheus_textfile: Option<PathBuf>,
}

/// A value that holds a secret, as given on the command line. It is parsed later, so that an
/// error can name what is wrong without echoing the value (clap would); `Debug` shows `****`.
#[derive(Debug, Clone)]
pub struct SecretArg(pub SecretString);

fn secret_arg(s: &str) -> Result<SecretArg, std::convert::Infallible> {
    Ok(SecretArg(SecretString::new(s)))
}

/// `--target` values: parsed by [`Target::parse`], with an error that never repeats the raw
/// value (clap's own "invalid value '...'" would show credentials a user put in the URL).
#[derive(Clone)]
struct TargetUrl;

impl clap::builder::TypedValueParser for TargetUrl {
    type Value = Target;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Target, clap::Error> {
        let invalid = |message: String| {
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!("--target: {message}\n"),
            )
            .with_cmd(cmd)
        };
        let text = value
            .to_str()
            .ok_or_else(|| invalid("the URL is not valid UTF-8".into()))?;
        Target::parse(text).map_err(|e| invalid(e.to_string()))
    }
}

/// A flag's value that its parser refuses (clap puts the flag's name before the message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("`{0}` is not a number of seconds")]
    NotSeconds(String),
    /// `range`: what the flag takes, e.g. `more than 0, at most 3600 seconds`.
    #[error("{given} is out of range ({range})")]
    OutOfRange { given: String, range: &'static str },
    #[error("use basic, ntlm or negotiate")]
    ProxyAuth,
}

fn parse_proxy_auth(s: &str) -> Result<ProxyAuth, ValueError> {
    match s.to_ascii_lowercase().as_str() {
        "basic" => Ok(ProxyAuth::Basic),
        "ntlm" => Ok(ProxyAuth::Ntlm),
        "negotiate" => Ok(ProxyAuth::Negotiate),
        _ => Err(ValueError::ProxyAuth),
    }
}

fn parse_ad_domain(s: &str) -> Result<String, TargetError> {
    Target::ad_domain(s).map(|t| t.host)
}

pub(crate) fn parse_seconds(s: &str) -> Result<Seconds, ValueError> {
    within(s, "more than 0, at most 86400 seconds", |v| {
        v <= Seconds::new(86_400)
    })
}

/// `s` (a number of seconds) when it is finite, not below the millisecond and `ok` accepts it,
/// else the range the flag takes.
fn within(
    s: &str,
    range: &'static str,
    ok: impl Fn(Seconds) -> bool,
) -> Result<Seconds, ValueError> {
    let number: f64 = s
        .parse()
        .map_err(|_| ValueError::NotSeconds(s.to_string()))?;
    let parsed = Seconds::from_f64(number);
    if !number.is_finite() || parsed < Seconds::from_millis(1) || !ok(parsed) {
        return Err(out_of_range(s, range));
    }
    Ok(parsed)
}

fn out_of_range(s: &str, range: &'static str) -> ValueError {
    ValueError::OutOfRange {
        given: s.to_string(),
        range,
    }
}

/// `--max-time`: more than 0, at most a week.
fn parse_max_time(s: &str) -> Result<Seconds, ValueError> {
    within(s, "more than 0, at most 604800 seconds", |v| {
        v <= Seconds::new(604_800)
    })
}

fn parse_timeout(s: &str) -> Result<Seconds, ValueError> {
    within(s, "more than 0, at most 3600 seconds", |v| {
        v <= Seconds::new(3600)
    })
}

/// `--hc-token-lifetime`: whole seconds from 2 to a day (a token's expiry is in whole seconds).
fn parse_token_lifetime(s: &str) -> Result<Seconds, ValueError> {
    within(s, "whole seconds, 2 to 86400", |v| {
        v.duration().subsec_nanos() == 0 && (Seconds::new(2)..=Seconds::new(86_400)).contains(&v)
    })
}
