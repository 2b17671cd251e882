//! `probe man`: the man page (roff), from the same definitions as the command line (`cli` passes
//! them in).

use crate::error::ConfigError;
use crate::output;

pub fn command(cli: clap::Command) -> Result<u8, ConfigError> {
    let mut page = Vec::new();
    clap_mangen::Man::new(cli)
        .render(&mut page)
        .map_err(|e| ConfigError::new(format!("cannot render the man page: {e}")))?;
    output::write_stdout(&page)?;
    Ok(0)
}
