//! The idle guard: an I/O wrapper that measures idleness and carries out idle faults.
//!
//! The guard sits between the TLS stream (or the plain TCP stream) and HTTP/WebSocket, so it
//! sees every application byte in both directions. When nothing has crossed for the fault's
//! time (or for `--max-idle`), the fault's action strikes the TCP socket under TLS (what each
//! action does on the wire is said in `fault/idle.rs`), and the guard follows its aftermath:
//!
//! - abort (reset): every read and write fails, so the connection is dropped: the kernel sends
//!   RST on the zero-linger socket;
//! - close TLS (close-notify, and max-idle or the keep-alive timeout, which close cleanly as a
//!   real server does): a TLS shutdown (`close_notify`, then FIN), then drain;
//! - drain (fin): reads are discarded for a bounded time, writes swallowed;
//! - silence (drop): reads are discarded and writes swallowed until `--max-idle`.
//!
//! The timer is polled from `poll_read`, which HTTP keep-alive and the WebSocket channel keep
//! pending on an idle connection, so the guard needs no task of its own. After acting, it
//! drains input for a bounded time, then reports end-of-stream to the application.
//!
//! Writes have a deadline of their own: once a write or flush finds the peer not reading
//! (pending), all that was written must be flushed within the write timeout, or the connection
//! is reset. A client that sends requests and never reads the answers (pipelining `/echo`, say)
//! would otherwise keep its slot under `--max-connections` for ever.

use crate::fault::idle::{Aftermath, DRAIN_LIMIT};
use crate::fault::{IdleAction, IdleFault};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

/// A stream with a TCP socket underneath, so a fault can act below TLS.
pub(crate) trait Transport: AsyncRead + AsyncWrite + Unpin + Send + 'static {
    fn tcp(&self) -> &TcpStream;
}

impl Transport for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
}

impl Transport for tokio_rustls::server::TlsStream<TcpStream> {
    fn tcp(&self) -> &TcpStream {
        self.get_ref().0
    }
}

/// When the guard acts.
#[derive(Debug, Clone)]
pub(crate) struct IdlePolicy {
    pub fault: Option<IdleFault>,
    pub max_idle: Duration,
    /// How long an HTTP connection may wait for its next request, until the flag says it has
    /// become a WebSocket.
    pub keep_alive: Option<(Duration, Arc<AtomicBool>)>,
    /// Longest a write may stay blocked on a peer that does not read.
    pub write_timeout: Duration,
}

/// Why the guard ended a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    Fault(IdleAction),
    MaxIdle,
    /// An HTTP connection waited too long for its next request.
    KeepAlive,
    /// The peer stopped reading: a write stayed blocked for the write timeout (the duration
    /// recorded is how long it was blocked).
    WriteBlocked,
}

/// Set once when the guard acts: what it did and after how long idle. Read by the connection
/// task after the connection ends, for the log line.
pub(crate) type EndingSlot = Arc<OnceLock<(Ending, Duration)>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Live,
    /// Zero linger set: fail every operation so the stream is dropped (RST).
    Reset,
    /// Sending `close_notify` and FIN.
    Closing,
    /// Closed our side; discard input until the peer closes or the drain timer ends.
    Draining,
    /// Silent: discard input, swallow output, until the peer closes or max-idle ends it.
    Dropping,
    /// Report end-of-stream.
    Finished,
}

pub(crate) struct IdleGuard<T> {
    inner: T,
    limit: Duration,
    ending: Ending,
    keep_alive: Option<(Duration, Arc<AtomicBool>)>,
    max_idle: Duration,
    last: Instant,
    timer: Pin<Box<Sleep>>,
    state: State,
    slot: EndingSlot,
    write_timeout: Duration,
    /// Armed while output is blocked on the peer, at the time it first blocked.
    write_blocked: Option<Instant>,
    write_timer: Pin<Box<Sleep>>,
}

impl<T: Transport> IdleGuard<T> {
    pub(crate) fn new(inner: T, policy: IdlePolicy) -> (IdleGuard<T>, EndingSlot) {
        let (limit, ending) = match policy.fault {
            Some(f) if f.after <= policy.max_idle => (f.after, Ending::Fault(f.action)),
            _ => (policy.max_idle, Ending::MaxIdle),
        };
        let last = Instant::now();
        let slot = EndingSlot::default();
        let mut guard = IdleGuard {
            inner,
            limit,
            ending,
            keep_alive: policy.keep_alive,
            max_idle: policy.max_idle,
            last,
            timer: Box::pin(tokio::time::sleep_until(last + limit)),
            state: State::Live,
            slot: slot.clone(),
            write_timeout: policy.write_timeout,
            write_blocked: None,
            write_timer: Box::pin(tokio::time::sleep_until(last + policy.write_timeout)),
        };
        // The first deadline is the shortest limit in force; the timer is re-armed lazily, and
        // limits only grow (an upgrade lifts the keep-alive timeout), so it never fires late.
        let first = last + guard.current().0;
        guard.timer.as_mut().reset(first);
        (guard, slot)
    }

    /// The idle limit in force and what reaching it means: the keep-alive timeout while the
    /// connection is plain HTTP (when shorter), the fault or max-idle otherwise.
    fn current(&self) -> (Duration, Ending) {
        match &self.keep_alive {
            Some((t, upgraded)) if *t < self.limit && !upgraded.load(Ordering::Relaxed) => {
                (*t, Ending::KeepAlive)
            }
            _ => (self.limit, self.ending),
        }
    }

    /// True once the connection has been idle for the limit (registers the timer otherwise).
    fn poll_expired(&mut self, cx: &mut Context<'_>) -> bool {
        loop {
            if self.timer.as_mut().poll(cx).is_pending() {
                return false;
            }
            let due = self.last + self.current().0;
            if Instant::now() >= due {
                return true;
            }
            self.timer.as_mut().reset(due);
        }
    }

    fn act(&mut self) {
        let now = Instant::now();
        let ending = self.current().1;
        let _ = self.slot.set((ending, now - self.last));
        let aftermath = match ending {
            Ending::Fault(action) => action.strike(self.inner.tcp()),
            Ending::MaxIdle | Ending::KeepAlive => Aftermath::CloseTls,
            Ending::WriteBlocked => IdleAction::Reset.strike(self.inner.tcp()),
        };
        match aftermath {
            Aftermath::Abort => self.state = State::Reset,
            Aftermath::Drain => {
                self.state = State::Draining;
                self.timer.as_mut().reset(now + DRAIN_LIMIT);
            }
            Aftermath::Silence => {
                self.state = State::Dropping;
                self.timer.as_mut().reset(now + self.max_idle);
            }
            Aftermath::CloseTls => self.state = State::Closing,
        }
    }

    /// Output is pending on the peer: arms the write deadline (once per blocked stretch) and, once
    /// it has passed, resets the connection. `Pending` until then.
    fn poll_blocked<R>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<R>> {
        let now = Instant::now();
        let since = match self.write_blocked {
            Some(since) => since,
            None => {
                self.write_blocked = Some(now);
                self.write_timer.as_mut().reset(now + self.write_timeout);
                now
            }
        };
        if self.write_timer.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let _ = self.slot.set((Ending::WriteBlocked, now - since));
        IdleAction::Reset.strike(self.inner.tcp());
        self.state = State::Reset;
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "write blocked: the peer does not read",
        )))
    }

    /// Reads and throws away what the peer sends; `Ready` when it is time to report EOF.
    fn poll_discard(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            if self.timer.as_mut().poll(cx).is_ready() {
                return Poll::Ready(());
            }
            let mut scratch = [0u8; 4096];
            let mut buf = ReadBuf::new(&mut scratch);
            match Pin::new(&mut self.inner).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if !buf.filled().is_empty() => continue,
                Poll::Ready(_) => return Poll::Ready(()),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

fn reset_error() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionReset, "reset by an idle fault")
}

impl<T: Transport> AsyncRead for IdleGuard<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            match this.state {
                State::Live => {
                    if this.poll_expired(cx) {
                        this.act();
                        continue;
                    }
                    let before = buf.filled().len();
                    let result = Pin::new(&mut this.inner).poll_read(cx, buf);
                    if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
                        this.last = Instant::now();
                    }
                    return result;
                }
                State::Reset => return Poll::Ready(Err(reset_error())),
                State::Closing => {
                    if Pin::new(&mut this.inner).poll_shutdown(cx).is_pending() {
                        return Poll::Pending;
                    }
                    this.state = State::Draining;
                    this.timer.as_mut().reset(Instant::now() + DRAIN_LIMIT);
                }
                State::Draining | State::Dropping => {
                    if this.poll_discard(cx).is_pending() {
                        return Poll::Pending;
                    }
                    this.state = State::Finished;
                }
                State::Finished => return Poll::Ready(Ok(())),
            }
        }
    }
}

impl<T: Transport> AsyncWrite for IdleGuard<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match this.state {
            State::Live => {
                let result = Pin::new(&mut this.inner).poll_write(cx, data);
                match result {
                    Poll::Ready(Ok(n)) if n > 0 => this.last = Instant::now(),
                    Poll::Pending => return this.poll_blocked(cx),
                    _ => {}
                }
                result
            }
            State::Reset => Poll::Ready(Err(reset_error())),
            // After a fault, the application's writes go nowhere: a silent or closed peer.
            _ => Poll::Ready(Ok(data.len())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.state {
            State::Live => match Pin::new(&mut this.inner).poll_flush(cx) {
                Poll::Pending => this.poll_blocked(cx),
                Poll::Ready(Ok(())) => {
                    this.write_blocked = None;
                    Poll::Ready(Ok(()))
                }
                other => other,
            },
            State::Reset => Poll::Ready(Err(reset_error())),
            _ => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.state {
            State::Live => match Pin::new(&mut this.inner).poll_shutdown(cx) {
                Poll::Pending => this.poll_blocked(cx),
                other => other,
            },
            State::Reset => Poll::Ready(Err(reset_error())),
            // The fault already decided how this connection ends (or that it does not).
            _ => Poll::Ready(Ok(())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    async fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        (client, server)
    }

    fn policy(action: IdleAction, ms: u64) -> IdlePolicy {
        IdlePolicy {
            fault: Some(IdleFault {
                action,
                after: Duration::from_millis(ms),
            }),
            max_idle: Duration::from_secs(60),
            keep_alive: None,
            write_timeout: Duration::from_secs(60),
        }
    }

    #[tokio::test]
    async fn traffic_postpones_the_fault_and_silence_triggers_it() {
        let (mut client, server) = pair().await;
        let (mut guard, slot) = IdleGuard::new(server, policy(IdleAction::Reset, 300));
        let started = Instant::now();
        let server_task = tokio::spawn(async move {
            let mut buf = [0u8; 16];
            loop {
                match guard.read(&mut buf).await {
                    Ok(0) => return Ok(()),
                    Ok(_) => {}
                    Err(e) => return Err(e.kind()),
                }
            }
        });
        for _ in 0..4 {
            tokio::time::sleep(Duration::from_millis(150)).await;
            client.write_all(b"x").await.unwrap();
        }
        let result = tokio::time::timeout(Duration::from_secs(5), server_task)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(result, Err(io::ErrorKind::ConnectionReset));
        assert!(started.elapsed() >= Duration::from_millis(850));
        let (ending, idle) = *slot.get().unwrap();
        assert_eq!(ending, Ending::Fault(IdleAction::Reset));
        assert!(idle >= Duration::from_millis(300));
        let mut buf = [0u8; 4];
        let err = tokio::time::timeout(Duration::from_secs(5), client.read(&mut buf))
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
    }

    #[tokio::test]
    async fn a_peer_that_never_reads_is_reset_after_the_write_timeout() {
        let (client, server) = pair().await;
        let mut policy = policy(IdleAction::Reset, 60_000);
        policy.write_timeout = Duration::from_millis(300);
        let (mut guard, slot) = IdleGuard::new(server, policy);
        let started = Instant::now();
        let chunk = vec![0u8; 64 * 1024];
        let result = tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                if let Err(e) = guard.write_all(&chunk).await {
                    return e.kind();
                }
            }
        })
        .await
        .expect("the write deadline ends the blocked write");
        assert_eq!(result, io::ErrorKind::TimedOut);
        let (ending, blocked) = *slot.get().unwrap();
        assert_eq!(ending, Ending::WriteBlocked);
        assert!(blocked >= Duration::from_millis(300), "{blocked:?}");
        assert!(started.elapsed() < Duration::from_secs(10));
        drop(client);
    }

    #[tokio::test]
    async fn fin_closes_the_write_side_only() {
        let (mut client, server) = pair().await;
        let (mut guard, _slot) = IdleGuard::new(server, policy(IdleAction::Fin, 200));
        let server_task = tokio::spawn(async move {
            let mut buf = [0u8; 16];
            while guard.read(&mut buf).await.unwrap_or(0) > 0 {}
        });
        let mut buf = [0u8; 4];
        let n = tokio::time::timeout(Duration::from_secs(5), client.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(n, 0, "FIN reads as end of stream");
        drop(client);
        tokio::time::timeout(Duration::from_secs(5), server_task)
            .await
            .unwrap()
            .unwrap();
    }
}
