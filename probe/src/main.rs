use clap::Parser;
use probe::cli::{Cli, LogFormat};
use probe::result::sanitize::clean_text;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose, cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            error_line(&format!("cannot start the async runtime: {e}"));
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(cli.execute()) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            error_line(&e.to_string());
            ExitCode::from(2)
        }
    }
}

/// `error: MESSAGE` on stderr. The message may quote a file's content, so it is cleaned of
/// control characters; a closed stderr is not worth a panic.
fn error_line(message: &str) {
    let _ = writeln!(std::io::stderr(), "error: {}", clean_text(message));
}

/// Log lines on stderr, filtered by `PROBE_LOG`, else `RUST_LOG` (both in `tracing`'s
/// `EnvFilter` syntax), else the `-v` count; coloured only on a terminal (and never with
/// `NO_COLOR`).
fn init_logging(verbose: u8, format: LogFormat) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PROBE_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_from_env("RUST_LOG"))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let colour = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        // A log line that cannot be written (stderr closed) is dropped, not reported on the
        // same closed stderr (which would panic).
        .log_internal_errors(false)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
