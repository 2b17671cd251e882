//! `probe completions SHELL`: a shell completion script, from the same definitions as the
//! command line (`cli` passes them in).

use crate::error::ConfigError;
use crate::output;

pub fn command(shell: clap_complete::Shell, mut cli: clap::Command) -> Result<u8, ConfigError> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cli, "probe", &mut script);
    output::write_stdout(&script)?;
    Ok(0)
}
