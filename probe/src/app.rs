//! `probe run` and `probe scenarios`: from flags to a plan, a run, a report and an exit code.

use crate::error::ConfigError;
use crate::plan::{self, RunArgs};
use crate::scenario::{builtin, Scenario};
use crate::{output, report, runner};
use std::io::IsTerminal;

/// `probe run`: the exit code is the run's (0 pass, 1 fail). `verbose` (`-v`) lists every
/// skipped check on its own line.
pub async fn run(args: &RunArgs, verbose: bool) -> Result<u8, ConfigError> {
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

/// `probe scenarios [FILE...]`: the built-in scenarios, or whether each file is valid.
pub fn scenarios(files: &[std::path::PathBuf]) -> Result<u8, ConfigError> {
    let mut out = String::new();
    if files.is_empty() {
        for (name, _) in builtin::BUILTIN {
            let s = Scenario::load(name)?;
            out.push_str(&format!(
                "{name}{}\n  {}\n  {} target(s); idle requirement: {}\n",
                if *name == builtin::DEFAULT {
                    " (default)"
                } else {
                    ""
                },
                s.description,
                s.targets.len(),
                match &s.idle {
                    Some(t) => match t.recommended_s {
                        Some(r) => format!("{} s ({} s recommended)", t.required_s, r),
                        None => format!("{} s", t.required_s),
                    },
                    None => "none".into(),
                }
            ));
        }
    } else {
        for file in files {
            let s = Scenario::load(&file.to_string_lossy())?;
            out.push_str(&format!(
                "{}: valid ({} target(s))\n",
                file.display(),
                s.targets.len()
            ));
        }
    }
    output::write_stdout(out.as_bytes())?;
    Ok(0)
}
