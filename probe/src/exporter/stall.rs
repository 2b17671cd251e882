//! A write deadline for `probe serve`'s connections: a client that stops reading makes every
//! write pend once the socket buffers are full; after [`WRITE_STALL`] without progress the
//! write fails and the connection ends, instead of holding its slot forever.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// How long a write may make no progress. A scraper reads its answer at once; only a client
/// that stopped reading (or a dead path) stalls this long.
pub const WRITE_STALL: Duration = Duration::from_secs(5);

/// `inner`, with writes (and flushes) that fail with `TimedOut` after `stall` without progress.
pub struct StallGuard<S> {
    inner: S,
    stall: Duration,
    /// Armed when a write first pends, cleared when one makes progress.
    timer: Option<Pin<Box<Sleep>>>,
    /// Whether a write is pending right now, for whoever holds a clone (the accept loop).
    stalled: Arc<AtomicBool>,
}

impl<S> StallGuard<S> {
    pub fn new(inner: S, stall: Duration) -> StallGuard<S> {
        StallGuard {
            inner,
            stall,
            timer: None,
            stalled: Arc::new(AtomicBool::new(false)),
        }
    }

    /// A flag that is up while a write pends (the client is not reading).
    pub fn stalled(&self) -> Arc<AtomicBool> {
        self.stalled.clone()
    }

    /// After the inner write pended: `Ready(Err)` once the stall lasted too long.
    fn pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        let stall = self.stall;
        self.stalled.store(true, Ordering::Relaxed);
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(stall)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client stopped reading",
            )),
            Poll::Pending => Poll::Pending,
        }
    }

    fn settle<T>(
        &mut self,
        cx: &mut Context<'_>,
        result: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match result {
            Poll::Ready(r) => {
                if self.timer.take().is_some() {
                    self.stalled.store(false, Ordering::Relaxed);
                }
                Poll::Ready(r)
            }
            Poll::Pending => self.pending(cx).map(Err),
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for StallGuard<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for StallGuard<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.settle(cx, result)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let result = Pin::new(&mut self.inner).poll_flush(cx);
        self.settle(cx, result)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let result = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.settle(cx, result)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.settle(cx, result)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn a_write_nobody_reads_fails_after_the_stall() {
        // A pipe with a small buffer and no reader taking from it.
        let (writer, _reader) = tokio::io::duplex(1024);
        let mut guarded = StallGuard::new(writer, Duration::from_millis(200));
        let started = std::time::Instant::now();
        let err = guarded.write_all(&[0u8; 64 * 1024]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn a_reader_that_keeps_up_is_never_cut() {
        let (writer, mut reader) = tokio::io::duplex(1024);
        let mut guarded = StallGuard::new(writer, Duration::from_millis(200));
        let read = tokio::spawn(async move {
            let mut all = Vec::new();
            tokio::io::AsyncReadExt::read_to_end(&mut reader, &mut all)
                .await
                .map(|_| all.len())
        });
        guarded.write_all(&[0u8; 64 * 1024]).await.unwrap();
        guarded.shutdown().await.unwrap();
        drop(guarded);
        assert_eq!(read.await.unwrap().unwrap(), 64 * 1024);
    }
}
