//! `probe man`: the man page (roff), from the same definitions as the command line (`cli` passes
//! them in).

use crate::error::{ConfigError, UserError};
use crate::output;

/// The page could not be rendered.
#[derive(Debug, thiserror::Error)]
#[error("cannot render the man page: {0}")]
pub struct ManPageError(std::io::Error);

impl UserError for ManPageError {}

pub fn command(cli: clap::Command) -> Result<u8, ConfigError> {
    let mut page = Vec::new();
    clap_mangen::Man::new(cli)
        .render(&mut page)
        .map_err(ManPageError)?;
    output::write_stdout(&page)?;
    Ok(0)
}
