//! `probe demo`: the offline first run. A mock-relay and a middlebox with a short idle timeout
//! start inside this process, and a scaled-down idle ladder runs against the relay both through
//! the middlebox and directly, so the report shows what a cutoff looks like, and what a healthy
//! path looks like, with no network at all.

use crate::check::idle::{IdleSettings, Thresholds};
use crate::cloud::Cloud;
use crate::error::{ConfigError, UserError};
use crate::net::connect::SocketOptions;
use crate::net::proxy::ProxyRoute;
use crate::net::resolve::Resolver;
use crate::net::tls::TlsSetup;
use crate::net::NetContext;
use crate::plan::args::{parse_seconds, ValueError};
use crate::plan::Plan;
use crate::progress::Progress;
use crate::report::{self, Format};
use crate::result::RunResult;
use crate::seconds::Seconds;
use crate::target::Target;
use crate::{output, runner};
use clap::Args;
use mock_relay::fault::IdleAction;
use mock_relay::middlebox::{self, MiddleboxConfig};
use mock_relay::server::{self, ServeConfig};
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The middlebox's idle timeout, in seconds (the ladder runs from 2 to 11 s).
    #[arg(long, value_name = "SECS", default_value_t = 5.5, value_parser = parse_demo_timeout)]
    pub idle_timeout: f64,
    /// What the middlebox does to an idle connection: reset, drop (silently) or fin.
    #[arg(long, value_name = "ACTION", default_value = "drop", value_parser = mock_relay::cli::OnIdleParser)]
    pub on_idle: IdleAction,
    /// Output format [default: human on a terminal, json otherwise].
    #[arg(long, value_enum)]
    pub format: Option<Format>,
}

/// A `--idle-timeout` the demo's ladder cannot show.
#[derive(Debug, thiserror::Error)]
pub enum DemoTimeoutError {
    #[error(transparent)]
    Seconds(#[from] ValueError),
    #[error("{0} is outside the demo's ladder (1 to 10 seconds)")]
    OutsideLadder(String),
}

fn parse_demo_timeout(s: &str) -> Result<f64, DemoTimeoutError> {
    let v = parse_seconds(s)?.as_f64();
    if !(1.0..=10.0).contains(&v) {
        return Err(DemoTimeoutError::OutsideLadder(s.to_string()));
    }
    Ok(v)
}

/// Runs the demo and prints its report; the exit code is 0 whatever the demo's verdict (the
/// failure it shows is the point), 2 if the demo could not start.
pub async fn command(args: &DemoArgs, verbose: bool) -> Result<u8, ConfigError> {
    let result = run(args).await?;
    let (format, mut layout) = report::for_destination(args.format, false);
    layout.verbose = verbose;
    output::write_stdout(report::render(&result, format, layout).as_bytes())?;
    Ok(0)
}

/// What keeps the demo from starting.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("demo: cannot start the in-process {what}: {error}")]
    Start {
        what: &'static str,
        error: mock_relay::StartError,
    },
    #[error("demo: the mock-relay opened no TLS listener")]
    NoTlsListener,
    #[error("demo: the mock-relay generated no CA")]
    NoCa,
}

impl UserError for DemoError {}

async fn run(args: &DemoArgs) -> Result<RunResult, ConfigError> {
    let start_error =
        |what: &'static str, error: mock_relay::StartError| DemoError::Start { what, error };
    let relay = server::start(ServeConfig::loopback())
        .await
        .map_err(|e| start_error("mock-relay", e))?;
    let relay_addr = *relay.tls_addrs().first().ok_or(DemoError::NoTlsListener)?;
    let ca = relay.ca_pem().ok_or(DemoError::NoCa)?.to_string();
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    let middlebox = middlebox::start(MiddleboxConfig::new(
        loopback,
        relay_addr.to_string(),
        Duration::from_secs_f64(args.idle_timeout),
        args.on_idle,
    ))
    .await
    .map_err(|e| start_error("middlebox", e))?;

    let target = |name: &str, port: u16| -> Result<Target, ConfigError> {
        let mut t = Target::parse(&format!("relay://127.0.0.1:{port}"))?;
        t.name = name.to_string();
        Ok(t)
    };
    let targets = vec![
        target("relay via middlebox", middlebox.local_addr().port())?,
        target("relay direct", relay_addr.port())?,
    ];
    // One second here stands for about twenty on a real path: required 9 s ~ 180 s.
    let mut idle = IdleSettings::new(
        Thresholds::required(Seconds::new(9)),
        Some(Seconds::new(2)),
        Some(Seconds::new(11)),
        Some(Seconds::new(1)),
    )?;
    idle.variants = true;
    let timeout = Duration::from_secs(5);
    let net = NetContext {
        // The targets are address literals: no DNS, no resolv.conf needed (an empty root).
        resolver: Resolver::literals_only(timeout)?,
        tls: TlsSetup::with_pem("the demo mock-relay CA", &ca)?,
        timeout,
        socket: SocketOptions::default(),
        proxy: ProxyRoute::default(),
    };
    let note = format!(
        "demo: a mock-relay at {relay_addr} and, in front of it, a middlebox at {} that {} connections idle for {} s; the ladder is scaled down (2-11 s, required 9 s, standing for 30-240 s and 180 s)",
        middlebox.local_addr(),
        match args.on_idle {
            IdleAction::Reset => "resets",
            IdleAction::Drop => "silently drops",
            IdleAction::Fin => "closes with a FIN",
            // Refused by the middlebox at start (it is not the TLS peer).
            IdleAction::CloseNotify => "closes with a TLS close_notify",
        },
        crate::seconds::fmt_s(crate::seconds::Seconds::from_f64(args.idle_timeout))
    );
    let plan = Plan {
        scenario: "demo".into(),
        cloud: Cloud::Public,
        segment: Some("demo".into()),
        idle: Some(idle),
        progress: Progress::new(std::io::stderr().is_terminal()),
        notes: vec![note],
        ..Plan::new(net, targets)
    };
    let result = runner::run(plan).await;
    middlebox.shutdown().await;
    relay.shutdown().await;
    Ok(result)
}
