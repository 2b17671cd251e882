//! `bench-handshake`: full TLS handshakes per second against a server, and per second of the
//! server's CPU (see `e2e::bench::handshake`). One JSON line on stdout.
//!
//! ```text
//! bench-handshake --connect ADDR:PORT [--server-name NAME] [--seconds S] [--concurrency N]
//!                 [--sources N] [--server-pid PID ...] [--mode flight|full]
//! ```
//!
//! Exit code 0 when at least one handshake succeeded, 1 when none did, 2 on bad usage.

use e2e::bench::handshake::{run, Load, Mode};
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str =
    "usage: bench-handshake --connect ADDR:PORT [--server-name NAME] [--seconds S] \
[--concurrency N] [--sources N] [--server-pid PID ...] [--mode flight|full]";

fn parse() -> Result<Load, String> {
    let mut load = Load {
        server: "127.0.0.1:443".parse().expect("a literal address"),
        server_name: "localhost".into(),
        concurrency: 64,
        sources: 8,
        duration: Duration::from_secs(8),
        server_pids: Vec::new(),
        mode: Mode::Flight,
    };
    let mut connect = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match flag.as_str() {
            "--connect" => {
                connect = Some(
                    value("--connect")?
                        .parse()
                        .map_err(|_| "--connect must be ADDR:PORT".to_string())?,
                )
            }
            "--server-name" => load.server_name = value("--server-name")?,
            "--seconds" => {
                load.duration = value("--seconds")?
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s > 0.0 && *s <= 600.0)
                    .map(Duration::from_secs_f64)
                    .ok_or("--seconds must be a number of seconds from 0 to 600")?
            }
            "--concurrency" => {
                load.concurrency = value("--concurrency")?
                    .parse()
                    .ok()
                    .filter(|n| (1..=10_000).contains(n))
                    .ok_or("--concurrency must be a whole number from 1 to 10000")?
            }
            "--sources" => {
                load.sources = value("--sources")?
                    .parse()
                    .ok()
                    .filter(|n| (1..=254).contains(n))
                    .ok_or("--sources must be a whole number from 1 to 254")?
            }
            "--server-pid" => load.server_pids.push(
                value("--server-pid")?
                    .parse()
                    .map_err(|_| "--server-pid must be a process id".to_string())?,
            ),
            "--mode" => {
                load.mode = match value("--mode")?.as_str() {
                    "flight" => Mode::Flight,
                    "full" => Mode::Full,
                    _ => return Err("--mode must be flight or full".into()),
                }
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    load.server = connect.ok_or("--connect is required")?;
    Ok(load)
}

fn main() -> ExitCode {
    let load = match parse() {
        Ok(load) => load,
        Err(why) => {
            eprintln!("bench-handshake: {why}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bench-handshake: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let outcome = match runtime.block_on(run(&load)) {
        Ok(outcome) => outcome,
        Err(e) => {
            eprintln!("bench-handshake: {}: {e}", load.server);
            return ExitCode::from(1);
        }
    };
    println!(
        "{}",
        serde_json::to_string(&outcome).expect("numbers always serialise")
    );
    if outcome.handshakes > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
