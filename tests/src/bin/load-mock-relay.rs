//! `load-mock-relay`: the mock-relay load test (see `e2e::relay_load`). Starts the relay
//! binary on loopback, runs thousands of idle and garbage clients against it while checking
//! `/healthz`, and prints the health latency and the relay's memory before, during and after.
//!
//! ```text
//! load-mock-relay [--clients N] [--seconds S] [--mock-relay PATH] [-- RELAY-ARGS...]
//! ```
//!
//! Exit code 0 when every health check was answered, 1 when one was not, 2 on bad usage.

use e2e::relay::Relay;
use e2e::relay_load::{run, LoadConfig, KINDS};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

struct Args {
    clients: usize,
    seconds: f64,
    mock_relay: PathBuf,
    relay_args: Vec<String>,
}

fn usage(why: &str) -> ExitCode {
    eprintln!("load-mock-relay: {why}");
    eprintln!(
        "usage: load-mock-relay [--clients N] [--seconds S] [--mock-relay PATH] [-- RELAY-ARGS...]"
    );
    ExitCode::from(2)
}

fn parse() -> Result<Args, String> {
    let sibling = e2e::bins::sibling_mock_relay();
    let mut args = Args {
        clients: 3000,
        seconds: 20.0,
        mock_relay: sibling,
        relay_args: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match flag.as_str() {
            "--clients" => {
                args.clients = value("--clients")?
                    .parse()
                    .map_err(|_| "--clients must be a whole number".to_string())?
            }
            "--seconds" => {
                args.seconds = value("--seconds")?
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s > 0.0 && *s <= 3600.0)
                    .ok_or("--seconds must be a number of seconds from 0 to 3600")?
            }
            "--mock-relay" => args.mock_relay = PathBuf::from(value("--mock-relay")?),
            "--" => args.relay_args = it.by_ref().collect(),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(args) => args,
        Err(why) => return usage(&why),
    };
    if !args.mock_relay.is_file() {
        return usage(&format!(
            "no mock-relay binary at {} (give --mock-relay PATH)",
            args.mock_relay.display()
        ));
    }
    e2e::limits::raise_descriptor_limit();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("load-mock-relay: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(async {
        let relay_args: Vec<&str> = args.relay_args.iter().map(String::as_str).collect();
        let relay = Relay::serve_binary(&args.mock_relay, &relay_args).await;
        println!(
            "mock-relay {} (pid {}): {} clients ({}) for {} s",
            relay.tls(),
            relay.pid(),
            args.clients,
            KINDS.join(", "),
            args.seconds
        );
        let config = LoadConfig {
            target: relay.hc(),
            pid: relay.pid(),
            clients: args.clients,
            during: Duration::from_secs_f64(args.seconds),
            settle: Duration::from_secs(3),
            health_every: Duration::from_millis(100),
        };
        let report = run(&config).await;
        println!("{report}");
        let failed = report.before.failures + report.during.failures + report.after.failures;
        if failed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        }
    })
}
