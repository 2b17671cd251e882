//! The command line (clap). The same definitions feed shell completions and the man page.

use crate::net::resolve::{parse_dns_server, ResolveOverride};
use crate::report::Format;
use crate::scenario::Cloud;
use crate::target::Target;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "probe",
    version,
    about = "Proves a network path is fit for the long-lived relay connections of Entra Connect password writeback",
    long_about = "Checks DNS, TCP, TLS, HTTPS and WebSocket to the password writeback endpoints from this network segment, and says in plain words what is wrong and what to change.\n\nExit codes: 0 every required check passed; 1 a required check failed; 2 usage or configuration error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// More log detail on stderr (-v info, -vv debug).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Log line format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process; boxing buys nothing
pub enum Command {
    /// Check every target of a scenario (or the --target URLs) and report.
    Run(RunArgs),
    /// List the built-in scenarios, or validate scenario files.
    Scenarios {
        /// Scenario files to validate.
        files: Vec<PathBuf>,
    },
    /// Offline first run: an in-process mock-relay behind a middlebox with a short idle timeout,
    /// and a scaled-down idle check against it (about 15 s).
    Demo(DemoArgs),
    /// Merge JSON results of many runs and segments into a matrix (text table or HTML file).
    Report(ReportArgs),
    /// Run a scenario on an interval and serve the latest results at /metrics (Prometheus)
    /// and /results (JSON).
    Serve(ServeArgs),
    /// Print a shell completion script.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// A built-in scenario name or a TOML scenario file.
    #[arg(value_name = "SCENARIO", default_value = crate::scenario::builtin::DEFAULT)]
    pub scenario: String,
    /// Check this URL instead of the scenario's targets (repeatable): https://, wss://,
    /// tcp://host:port or relay://host:port (a mock-relay).
    #[arg(long = "target", value_name = "URL", value_parser = Target::parse)]
    pub targets: Vec<Target>,
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
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = parse_timeout)]
    pub timeout: f64,
    /// Timing samples per target; percentiles are reported when above 1.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub count: u32,
    /// Skip the idle-connection checks.
    #[arg(long)]
    pub quick: bool,
    /// Seconds an idle connection must survive [default: the scenario's idle.required_s].
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub idle: Option<f64>,
    /// Shortest idle period of the ladder [default: 30].
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub idle_min: Option<f64>,
    /// Longest idle period of the ladder [default: required + 60].
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub idle_max: Option<f64>,
    /// Step between the ladder's idle periods; the resolution of the result [default: 15].
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub idle_step: Option<f64>,
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
    /// Ignore every proxy setting (flags, scenario, environment): connect directly.
    #[arg(long, conflicts_with_all = ["proxy", "proxy_from_machine_config", "proxy_from_winhttp"])]
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

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// probe.result/v1 JSON files (`probe run --format json`), one per run.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Output format: a text table, or one self-contained HTML file with charts.
    #[arg(long, value_enum, default_value_t = crate::report::fleet::MatrixFormat::Text)]
    pub format: crate::report::fleet::MatrixFormat,
    /// Write the report to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address for /metrics and /results, e.g. 0.0.0.0:9464 (port 0: any free port; the
    /// address is printed on stderr).
    #[arg(long, value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Time from the start of one run to the start of the next, e.g. 30s, 5m, 1h. A run never
    /// overlaps the next: a slow one delays it.
    #[arg(long, value_name = "DURATION", value_parser = crate::serve::parse_interval)]
    pub interval: std::time::Duration,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The middlebox's idle timeout, in seconds (the ladder runs from 2 to 11 s).
    #[arg(long, value_name = "SECS", default_value_t = 5.5, value_parser = parse_demo_timeout)]
    pub idle_timeout: f64,
    /// What the middlebox does to an idle connection: reset, drop (silently) or fin.
    #[arg(long, value_name = "ACTION", default_value = "drop", value_parser = clap::value_parser!(mock_relay::middlebox::OnIdle))]
    pub on_idle: mock_relay::middlebox::OnIdle,
    /// Output format [default: human on a terminal, json otherwise].
    #[arg(long, value_enum)]
    pub format: Option<Format>,
}

fn parse_demo_timeout(s: &str) -> Result<f64, String> {
    let v = parse_seconds(s)?;
    if !(1.0..=10.0).contains(&v) {
        return Err(format!(
            "{s} is outside the demo's ladder (1 to 10 seconds)"
        ));
    }
    Ok(v)
}

fn parse_ad_domain(s: &str) -> Result<String, String> {
    Target::ad_domain(s).map(|t| t.host)
}

fn parse_seconds(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if !(v > 0.0 && v <= 86_400.0) {
        return Err(format!(
            "{s} is out of range (more than 0, at most 86400 seconds)"
        ));
    }
    Ok(v)
}

fn parse_timeout(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if !(v > 0.0 && v <= 3600.0) {
        return Err(format!(
            "{s} is out of range (more than 0, at most 3600 seconds)"
        ));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn bad_values_are_usage_errors() {
        for args in [
            &["probe", "run", "--timeout", "0"][..],
            &["probe", "run", "--target", "ftp://x"],
            &["probe", "run", "--resolve", "x:443"],
            &["probe", "run", "--count", "0"],
            &["probe", "run", "--cloud", "mars"],
        ] {
            let err = Cli::try_parse_from(args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
        }
    }
}
