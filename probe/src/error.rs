//! Errors the user can fix: bad flags, unreadable or invalid files. They exit with code 2.
//!
//! Each module that reads what the user gave has its own error enum (`thiserror`), one variant
//! per thing that can be wrong, each message naming the file, line and field at fault; a
//! caller that must decide (skip a line, try the next source) matches on it. Whatever reaches
//! the command becomes a [`ConfigError`], which `main` prints and turns into exit code 2.

/// A usage or configuration error: one message naming the file, line and field at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Flags that do not go together, said in one fixed sentence.
    #[error("{0}")]
    Usage(&'static str),
    /// A module's own error (see [`UserError`]).
    #[error(transparent)]
    Input(Box<dyn std::error::Error + Send + Sync>),
}

/// A module's error about what the user gave: it becomes a [`ConfigError`] (exit code 2) with
/// `?`, its message unchanged.
pub trait UserError: std::error::Error + Send + Sync + 'static {}

impl<E: UserError> From<E> for ConfigError {
    fn from(e: E) -> Self {
        ConfigError::Input(Box::new(e))
    }
}
