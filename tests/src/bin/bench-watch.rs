//! `bench-watch`: a release `probe watch` for a hundred thousand pushes against a release
//! mock-relay on loopback; its memory after warm-up and at the end, its CPU per push beside the
//! relay's (see `e2e::bench::watch`).
//!
//! ```text
//! bench-watch [--pairs N] [--pushes N] [--limit S] [--probe PATH] [--mock-relay PATH]
//! ```
//!
//! One JSON line. Exit code 0 when the pushes were made, 1 when the run failed or stopped at
//! its limit first, 2 on bad usage.

use e2e::bench::watch::{run, WatchConfig};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "usage: bench-watch [--pairs N] [--pushes N] [--limit S] [--probe PATH] \
[--mock-relay PATH]";

fn parse() -> Result<WatchConfig, String> {
    let sibling = |name: &str| {
        std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|dir| dir.join(name)))
            .unwrap_or_else(|| PathBuf::from(name))
    };
    let mut config = WatchConfig {
        probe: sibling("probe"),
        mock_relay: sibling("mock-relay"),
        pairs: 150,
        pushes: 100_000,
        sample_every: Duration::from_secs(2),
        limit: Duration::from_secs(1200),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match flag.as_str() {
            "--pairs" => {
                config.pairs = value("--pairs")?
                    .parse()
                    .ok()
                    .filter(|n| (1..=1000).contains(n))
                    .ok_or("--pairs must be a whole number from 1 to 1000")?
            }
            "--pushes" => {
                config.pushes = value("--pushes")?
                    .parse()
                    .ok()
                    .filter(|n| (1..=100_000_000).contains(n))
                    .ok_or("--pushes must be a whole number from 1 to 100000000")?
            }
            "--limit" => {
                config.limit = value("--limit")?
                    .parse()
                    .ok()
                    .filter(|s| (1..=86_400).contains(s))
                    .map(Duration::from_secs)
                    .ok_or("--limit must be whole seconds from 1 to 86400")?
            }
            "--probe" => config.probe = PathBuf::from(value("--probe")?),
            "--mock-relay" => config.mock_relay = PathBuf::from(value("--mock-relay")?),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    for (path, flag) in [
        (&config.probe, "--probe"),
        (&config.mock_relay, "--mock-relay"),
    ] {
        if !path.is_file() {
            return Err(format!(
                "no binary at {} (give {flag} PATH)",
                path.display()
            ));
        }
    }
    config.sample_every =
        (config.limit / 600).clamp(Duration::from_millis(500), Duration::from_secs(2));
    Ok(config)
}

fn main() -> ExitCode {
    if std::env::args().skip(1).any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let config = match parse() {
        Ok(config) => config,
        Err(why) => {
            eprintln!("bench-watch: {why}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bench-watch: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(&config)) {
        Ok(report) => {
            match serde_json::to_string(&report) {
                Ok(line) => println!("{line}"),
                Err(e) => eprintln!("bench-watch: {e}"),
            }
            if report.stopped_by_limit {
                eprintln!(
                    "bench-watch: stopped at the limit after {} of {} pushes",
                    report.pushes, config.pushes
                );
                return ExitCode::from(1);
            }
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("bench-watch: {why}");
            ExitCode::from(1)
        }
    }
}
