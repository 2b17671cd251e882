//! `bench-relay`: mock-relay's Hybrid Connections request mode and rendezvous beside the same
//! work done directly over TLS, and its memory with many listeners and requests in flight (see
//! `e2e::bench::relayed`). JSON Lines on stdout, one per section.
//!
//! ```text
//! bench-relay [--only requests,rendezvous,memory] [--seconds S] [--connections N]
//!             [--listeners N] [--footprint-listeners N] [--in-flight N] [--mock-relay PATH]
//! ```
//!
//! Exit code 0 when every section ran with every request answered, 1 otherwise, 2 on bad usage.

use e2e::bench::hold::RelayProcess;
use e2e::bench::relayed::direct::DirectServers;
use e2e::bench::relayed::footprint::{self, FootprintConfig};
use e2e::bench::relayed::throughput;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "usage: bench-relay [--only requests,rendezvous,memory] [--seconds S] \
[--connections N] [--listeners N] [--footprint-listeners N] [--in-flight N] [--mock-relay PATH]";
const SECTIONS: [&str; 3] = ["requests", "rendezvous", "memory"];

struct Args {
    only: Vec<String>,
    duration: Duration,
    connections: usize,
    listeners: usize,
    footprint: FootprintConfig,
}

fn count(value: String, name: &str, max: usize) -> Result<usize, String> {
    value
        .parse()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or(format!("{name} must be a whole number from 1 to {max}"))
}

fn parse() -> Result<Args, String> {
    let sibling = e2e::bins::sibling_mock_relay();
    let mut args = Args {
        only: SECTIONS.iter().map(|s| s.to_string()).collect(),
        duration: Duration::from_secs(10),
        connections: 16,
        listeners: 4,
        footprint: FootprintConfig {
            mock_relay: sibling,
            listeners: 1000,
            in_flight: 100,
            concurrency: 50,
        },
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match flag.as_str() {
            "--only" => {
                args.only = value("--only")?.split(',').map(str::to_string).collect();
                if let Some(bad) = args.only.iter().find(|s| !SECTIONS.contains(&s.as_str())) {
                    return Err(format!("--only: unknown section {bad}"));
                }
            }
            "--seconds" => {
                args.duration = value("--seconds")?
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s > 0.0 && *s <= 600.0)
                    .map(Duration::from_secs_f64)
                    .ok_or("--seconds must be a number of seconds from 0 to 600")?
            }
            "--connections" => {
                args.connections = count(value("--connections")?, "--connections", 10_000)?
            }
            "--listeners" => {
                args.listeners = count(
                    value("--listeners")?,
                    "--listeners",
                    relay_protocol::hc::MAX_LISTENERS_PER_ENTITY,
                )?
            }
            "--footprint-listeners" => {
                args.footprint.listeners = count(
                    value("--footprint-listeners")?,
                    "--footprint-listeners",
                    100_000,
                )?
            }
            "--in-flight" => {
                args.footprint.in_flight = count(value("--in-flight")?, "--in-flight", 10_000)?
            }
            "--mock-relay" => args.footprint.mock_relay = PathBuf::from(value("--mock-relay")?),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

/// Runs the sections asked for; one JSON line each, `ok` false when one failed or lost a request.
async fn run(args: &Args) -> Vec<(Value, bool)> {
    let wants = |s: &str| args.only.iter().any(|o| o == s);
    let mut lines = Vec::new();
    if wants("requests") || wants("rendezvous") {
        let relay = RelayProcess::start(&args.footprint.mock_relay, &[]).await;
        let direct = DirectServers::start().await.map_err(|e| e.to_string());
        let (relay, direct) = match (relay, direct) {
            (Ok(relay), Ok(direct)) => (relay, direct),
            (Err(e), _) | (_, Err(e)) => {
                return vec![(json!({"section": "relay", "error": e}), false)]
            }
        };
        let Some(hc) = relay.hc() else {
            return vec![(
                json!({"section": "relay", "error": "no connection string"}),
                false,
            )];
        };
        if wants("requests") {
            let report = throughput::requests(
                &hc,
                relay.pid(),
                &direct,
                args.listeners,
                args.connections,
                args.duration,
            )
            .await;
            lines.push(match report {
                Ok(r) => {
                    let ok = r.relay.errors == 0 && r.direct.errors == 0 && r.relay.requests > 0;
                    (json!({"section": "requests", "report": r}), ok)
                }
                Err(e) => (json!({"section": "requests", "error": e}), false),
            });
        }
        if wants("rendezvous") {
            lines.push(
                match throughput::rendezvous(&hc, &direct, args.duration).await {
                    Ok(r) => {
                        let ok = r.relay.messages == r.relay.sent && r.relay.messages > 0;
                        (json!({"section": "rendezvous", "report": r}), ok)
                    }
                    Err(e) => (json!({"section": "rendezvous", "error": e}), false),
                },
            );
        }
        relay.stop().await;
    }
    if wants("memory") {
        lines.push(match footprint::run(&args.footprint).await {
            Ok(f) => {
                let ok = f.failed == 0 && f.answered == f.in_flight as u64;
                (json!({"section": "memory", "report": f}), ok)
            }
            Err(e) => (json!({"section": "memory", "error": e}), false),
        });
    }
    lines
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(args) => args,
        Err(why) => {
            eprintln!("bench-relay: {why}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bench-relay: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let lines = runtime.block_on(run(&args));
    let mut all_ok = true;
    for (line, ok) in lines {
        println!("{line}");
        all_ok &= ok;
    }
    runtime.shutdown_timeout(Duration::from_secs(1));
    if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
