//! The command line (clap), and the dispatch from a parsed command to its file in `cmd/`. The same definitions feed shell completions and the man page.

use crate::cmd::{self, demo::DemoArgs, report::ReportArgs, serve::ServeArgs, watch::WatchArgs};
use crate::error::ConfigError;
use crate::plan::RunArgs;
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "probe",
    version = crate::version::LONG,
    about = "Proves a network path is fit for the long-lived relay connections of Entra Connect password writeback",
    long_about = "Checks DNS, TCP, TLS, HTTPS and WebSocket to the password writeback endpoints from this network segment, and says in plain words what is wrong and what to change.\n\nExit codes: 0 every required check passed; 1 a required check failed; 2 usage or configuration error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// More log detail on stderr (-v info, -vv debug), and in the human report every skipped
    /// check on its own line. The environment variable PROBE_LOG,
    /// else RUST_LOG, takes precedence when set (tracing's filter syntax, e.g.
    /// `probe=debug`); log lines carry colour only on a terminal.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Log line format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check every target of a scenario (or the --target URLs) and report.
    Run(RunArgs),
    /// List the built-in scenarios, or validate scenario files.
    Scenarios {
        /// Scenario files to validate.
        files: Vec<PathBuf>,
    },
    /// Offline first run: an in-process mock-relay behind a middlebox with a short idle timeout,
    /// and a scaled-down idle check against it (about 15 s).
    Demo(DemoArgs),
    /// Merge JSON results of many runs and segments into a matrix (text table or HTML file).
    Report(ReportArgs),
    /// Run a scenario on an interval and serve the latest results at /metrics (Prometheus)
    /// and /results (JSON).
    Serve(ServeArgs),
    /// Keep a listener like writeback's on each target for as long as it runs, push through the
    /// relay at random times, and report every failed delivery and incident (exit 1 if any).
    Watch(WatchArgs),
    /// Print a shell completion script.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
}

impl Cli {
    /// Carries out the parsed command; the result is the process exit code.
    pub async fn execute(self) -> Result<u8, ConfigError> {
        let verbose = self.verbose > 0;
        match self.command {
            Command::Run(args) => cmd::run::command(&args, verbose).await,
            Command::Scenarios { files } => cmd::scenarios::command(&files),
            Command::Demo(args) => cmd::demo::command(&args, verbose).await,
            Command::Report(args) => cmd::report::command(&args),
            Command::Serve(args) => cmd::serve::command(args).await,
            Command::Watch(args) => cmd::watch::command(args).await,
            Command::Completions { shell } => cmd::completions::command(shell, Cli::command()),
            Command::Man => cmd::man::command(Cli::command()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn bad_values_are_usage_errors() {
        for args in [
            &["probe", "run", "--timeout", "0"][..],
            &["probe", "run", "--target", "ftp://x"],
            &["probe", "run", "--resolve", "x:443"],
            &["probe", "run", "--count", "0"],
            &["probe", "run", "--cloud", "mars"],
            &["probe", "watch", "--push-every", "500ms"],
            &["probe", "watch", "--keepalive", "sometimes"],
            &["probe", "watch", "--events-max-size", "10"],
            &["probe", "watch", "--for", "0s"],
        ] {
            let err = Cli::try_parse_from(args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
        }
    }
}
