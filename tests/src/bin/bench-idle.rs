//! `bench-idle`: idle verdict accuracy through the lab's nftables firewall (see
//! `e2e::bench::idle`). One JSON line per case on stdout. Needs root and nft.
//!
//! ```text
//! bench-idle [--timeouts 3,5,7] [--actions blackhole,reset]
//! ```
//!
//! Exit code 0 when every case ran, 1 when the lab is unavailable, 2 on bad usage.

use e2e::bench::idle::{measure, unavailable, Action};
use std::process::ExitCode;

const USAGE: &str = "usage: bench-idle [--timeouts S,S,...] [--actions blackhole,reset]";

fn parse() -> Result<(Vec<u64>, Vec<Action>), String> {
    let mut timeouts = vec![3, 5, 7];
    let mut actions = vec![Action::Blackhole, Action::Reset];
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match flag.as_str() {
            "--timeouts" => {
                timeouts = value("--timeouts")?
                    .split(',')
                    .map(|s| {
                        s.trim()
                            .parse::<u64>()
                            .ok()
                            .filter(|t| (1..=60).contains(t))
                    })
                    .collect::<Option<_>>()
                    .ok_or("--timeouts must be whole seconds from 1 to 60, comma-separated")?
            }
            "--actions" => {
                actions = value("--actions")?
                    .split(',')
                    .map(|s| match s.trim() {
                        "blackhole" => Some(Action::Blackhole),
                        "reset" => Some(Action::Reset),
                        _ => None,
                    })
                    .collect::<Option<_>>()
                    .ok_or("--actions must be blackhole and/or reset, comma-separated")?
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok((timeouts, actions))
}

fn main() -> ExitCode {
    let (timeouts, actions) = match parse() {
        Ok(parsed) => parsed,
        Err(why) => {
            eprintln!("bench-idle: {why}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if let Some(why) = unavailable() {
        eprintln!("bench-idle: the lab is unavailable: {why}");
        return ExitCode::from(1);
    }
    e2e::lab::stale::clean_once();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bench-idle: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(async {
        for &action in &actions {
            for &t in &timeouts {
                let case = measure(action, t).await;
                println!(
                    "{}",
                    serde_json::to_string(&case).expect("numbers always serialise")
                );
            }
        }
    });
    ExitCode::SUCCESS
}
