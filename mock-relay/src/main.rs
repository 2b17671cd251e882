//! `mock-relay`: serve the simulated relay (default) or run the middlebox.
//!
//! Exit codes: 0 after a clean shutdown (SIGINT/SIGTERM), 1 on a runtime failure, 2 on bad
//! usage or configuration (clap's own errors included).

use clap::Parser;
use mock_relay::announce::AddressLine;
use mock_relay::cli::{Cli, Command, ServeArgs};
use mock_relay::{logging, middlebox, server};
use std::future::Future;
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
    let stop = shutdown_signal();
    match cli.command {
        Some(Command::Middlebox(args)) => match middlebox::start(args.to_config()).await {
            Ok(running) => until_stopped(running.address_line(), stop, running.shutdown()).await,
            Err(e) => config_error(e),
        },
        Some(Command::Serve(args)) => serve(*args, stop).await,
        None => serve(cli.serve, stop).await,
    }
}

async fn serve(args: ServeArgs, stop: impl Future<Output = ()>) -> ExitCode {
    match server::start(args.to_config()).await {
        Ok(running) => until_stopped(running.address_line(), stop, running.shutdown()).await,
        Err(e) => config_error(e),
    }
}

/// A started server or middlebox: announces its address, waits for `stop`, then runs
/// `shutdown` (an `async fn`'s future: nothing of it runs before this awaits it).
async fn until_stopped(
    address: AddressLine,
    stop: impl Future<Output = ()>,
    shutdown: impl Future<Output = bool>,
) -> ExitCode {
    announce(&address);
    stop.await;
    shutdown.await;
    ExitCode::SUCCESS
}

fn config_error(error: mock_relay::StartError) -> ExitCode {
    eprintln!("mock-relay: error: {error}");
    ExitCode::from(2)
}

/// Prints the address line (see `mock_relay::announce`) and flushes it at once: a script
/// waiting on it must not wait on a buffer.
fn announce(line: &AddressLine) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Listens for SIGTERM and SIGINT from now on (before the address line is printed: a script
/// that signals as soon as it reads the line must get a clean shutdown, not the default action,
/// which ends the process without closing its connections); resolves on the first.
fn shutdown_signal() -> impl Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        async move {
            match (term, int) {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = int.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(windows)]
    {
        // Registered now, as on Unix, rather than at the first poll.
        let ctrl_c = tokio::signal::windows::ctrl_c();
        async move {
            match ctrl_c {
                Ok(mut ctrl_c) => {
                    let _ = ctrl_c.recv().await;
                }
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
}
