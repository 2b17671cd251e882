//! `probe run`: from flags to a plan, a run, a report and an exit code.

use crate::error::ConfigError;
use crate::plan::{self, RunArgs};
use crate::{output, report, runner};
use std::io::IsTerminal;

/// `probe run`: the exit code is the run's (0 pass, 1 fail). `verbose` (`-v`) lists every
/// skipped check on its own line.
pub async fn command(args: &RunArgs, verbose: bool) -> Result<u8, ConfigError> {
    let plan = plan::from_args(args, std::io::stderr().is_terminal())?;
    let (format, mut layout) = report::for_destination(args.format, args.output.is_some());
    layout.verbose = verbose;
    let result = runner::run(plan).await;
    let text = report::render(&result, format, layout);
    output::write(args.output.as_deref(), "--output", text.as_bytes())?;
    if let Some(path) = &args.prometheus_textfile {
        output::write_textfile(path, &result)?;
    }
    Ok(result.exit_code())
}
