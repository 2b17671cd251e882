//! What stops a long-running subcommand (`serve`, `watch`): SIGINT or SIGTERM, and on Windows
//! Ctrl-C, Ctrl-Break or the console's close (what a scheduled task's end or a closed console
//! window sends).

use std::future::Future;

/// A signal whose handler could not be installed.
#[derive(Debug, thiserror::Error)]
#[error("cannot handle {signal}: {source}")]
pub struct SignalError {
    pub signal: &'static str,
    pub source: std::io::Error,
}

impl crate::error::UserError for SignalError {}

/// Installs the handlers now (so a signal that comes before the future is polled is not lost);
/// the future resolves with the signal's name.
pub fn stop_signal() -> Result<impl Future<Output = &'static str>, SignalError> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let handler = |kind: SignalKind, name: &'static str| {
            signal(kind).map_err(|source| SignalError {
                signal: name,
                source,
            })
        };
        let mut term = handler(SignalKind::terminate(), "SIGTERM")?;
        let mut int = handler(SignalKind::interrupt(), "SIGINT")?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            }
        })
    }
    #[cfg(windows)]
    {
        use tokio::signal::windows;
        let mut close = windows::ctrl_close().map_err(|source| SignalError {
            signal: "the console's close",
            source,
        })?;
        let mut brk = windows::ctrl_break().map_err(|source| SignalError {
            signal: "Ctrl-Break",
            source,
        })?;
        Ok(async move {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => "Ctrl-C",
                _ = close.recv() => "console close",
                _ = brk.recv() => "Ctrl-Break",
            }
        })
    }
    #[cfg(not(any(unix, windows)))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        })
    }
}
