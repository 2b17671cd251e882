//! `bench-hold`: the mock-relay's resident memory per held listener-channel connection, and the
//! push latency with that many held (see `e2e::bench::hold`).
//!
//! ```text
//! bench-hold [--connections 1000,5000,15000] [--push-window S] [--concurrency N]
//!            [--sources N] [--mock-relay PATH] [--json] [-- RELAY-ARGS...]
//! ```
//!
//! One line per connection count (JSON Lines with `--json`). Exit code 0 when every push
//! arrived, 1 when one did not (or a round could not run), 2 on bad usage.

use e2e::bench::hold::{run_round, RoundConfig};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

struct Args {
    counts: Vec<usize>,
    json: bool,
    round: RoundConfig,
}

const USAGE: &str = "usage: bench-hold [--connections N[,N...]] [--push-window S] \
[--concurrency N] [--sources N] [--mock-relay PATH] [--json] [-- RELAY-ARGS...]";

fn parse() -> Result<Args, String> {
    let sibling = e2e::bins::sibling_mock_relay();
    let mut args = Args {
        counts: vec![1000, 5000, 15000],
        json: false,
        round: RoundConfig {
            mock_relay: sibling,
            relay_args: Vec::new(),
            connections: 0,
            push_window: Duration::from_secs(10),
            concurrency: 200,
            sources: 8,
        },
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match flag.as_str() {
            "--connections" => {
                args.counts = value("--connections")?
                    .split(',')
                    .map(|n| {
                        n.trim()
                            .parse()
                            .ok()
                            .filter(|n| (1..=1_000_000).contains(n))
                    })
                    .collect::<Option<Vec<usize>>>()
                    .ok_or("--connections takes counts from 1 to 1000000, comma-separated")?
            }
            "--push-window" => {
                args.round.push_window = value("--push-window")?
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && (0.0..=600.0).contains(s))
                    .map(Duration::from_secs_f64)
                    .ok_or("--push-window must be a number of seconds from 0 to 600")?
            }
            "--concurrency" => {
                args.round.concurrency = value("--concurrency")?
                    .parse()
                    .ok()
                    .filter(|n| (1..=10_000).contains(n))
                    .ok_or("--concurrency must be a whole number from 1 to 10000")?
            }
            "--sources" => {
                args.round.sources = value("--sources")?
                    .parse()
                    .ok()
                    .filter(|n| (1..=250).contains(n))
                    .ok_or("--sources must be a whole number from 1 to 250")?
            }
            "--mock-relay" => args.round.mock_relay = PathBuf::from(value("--mock-relay")?),
            "--json" => args.json = true,
            "--" => args.round.relay_args = it.by_ref().collect(),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if !args.round.mock_relay.is_file() {
        return Err(format!(
            "no mock-relay binary at {} (give --mock-relay PATH)",
            args.round.mock_relay.display()
        ));
    }
    Ok(args)
}

fn main() -> ExitCode {
    if std::env::args().skip(1).any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let args = match parse() {
        Ok(args) => args,
        Err(why) => {
            eprintln!("bench-hold: {why}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    e2e::limits::raise_descriptor_limit();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bench-hold: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let mut all_arrived = true;
    for &connections in &args.counts {
        let config = RoundConfig {
            connections,
            ..args.round.clone()
        };
        match runtime.block_on(run_round(&config)) {
            Ok(report) => {
                all_arrived &= report.pushes_missing == 0;
                if args.json {
                    match serde_json::to_string(&report) {
                        Ok(line) => println!("{line}"),
                        Err(e) => eprintln!("bench-hold: {e}"),
                    }
                } else {
                    println!("{}", report.line());
                }
            }
            Err(why) => {
                eprintln!("bench-hold: {connections} connections: {why}");
                all_arrived = false;
            }
        }
    }
    if all_arrived {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
