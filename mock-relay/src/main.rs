//! `mock-relay`: serve the simulated relay (default) or run the middlebox.
//!
//! Exit codes: 0 after a clean shutdown (SIGINT/SIGTERM), 1 on a runtime failure, 2 on bad
//! usage or configuration (clap's own errors included).

use clap::Parser;
use mock_relay::cli::{Cli, Command, ServeArgs};
use mock_relay::{logging, middlebox, server};
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mock-relay: error: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Some(Command::Middlebox(args)) => {
            let running = match middlebox::start(args.to_config()).await {
                Ok(running) => running,
                Err(e) => return config_error(e),
            };
            announce(&running.address_line());
            wait_for_signal().await;
            running.shutdown().await;
            ExitCode::SUCCESS
        }
        Some(Command::Serve(args)) => serve(args).await,
        None => serve(cli.serve).await,
    }
}

async fn serve(args: ServeArgs) -> ExitCode {
    let running = match server::start(args.to_config()).await {
        Ok(running) => running,
        Err(e) => return config_error(e),
    };
    announce(&running.address_line());
    wait_for_signal().await;
    running.shutdown().await;
    ExitCode::SUCCESS
}

fn config_error(error: mock_relay::StartError) -> ExitCode {
    eprintln!("mock-relay: error: {error}");
    ExitCode::from(2)
}

/// Prints the address line (see `mock_relay::announce`) and flushes it at once: a script
/// waiting on it must not wait on a buffer.
fn announce(line: &mock_relay::announce::AddressLine) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
