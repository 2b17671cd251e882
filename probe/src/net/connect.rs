//! TCP connect to one address, with a deadline and the failure named the way a network team
//! names it.

use crate::outcome::Outcome;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::{TcpSocket, TcpStream};

/// Socket options applied before connecting.
#[derive(Debug, Clone, Default)]
pub struct SocketOptions {
    /// TCP keepalive: idle time before the first probe and the interval between probes.
    pub keepalive: Option<Duration>,
}

/// Why a TCP connect failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectFailure {
    /// A RST answered the SYN: nothing listens, or a firewall rejects.
    Refused,
    /// No answer before the deadline: a firewall drops, or the host is down.
    Timeout,
    /// The local stack or a router said there is no route (ICMP unreachable).
    Unreachable,
    /// The connection was reset during setup.
    Reset,
    Other(String),
}

impl ConnectFailure {
    /// The vocabulary word for this failure.
    pub fn outcome(&self) -> Outcome {
        match self {
            ConnectFailure::Refused => Outcome::Refused,
            ConnectFailure::Timeout => Outcome::Timeout,
            ConnectFailure::Unreachable | ConnectFailure::Other(_) => Outcome::Unreachable,
            ConnectFailure::Reset => Outcome::Reset,
        }
    }
}

impl fmt::Display for ConnectFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectFailure::Refused => f.write_str("refused (TCP RST)"),
            ConnectFailure::Timeout => f.write_str("no answer in time"),
            ConnectFailure::Unreachable => f.write_str("unreachable (no route)"),
            ConnectFailure::Reset => f.write_str("reset during setup"),
            ConnectFailure::Other(why) => f.write_str(why),
        }
    }
}

/// Connects to `addr` within `timeout`.
pub async fn connect(
    addr: SocketAddr,
    timeout: Duration,
    options: &SocketOptions,
) -> Result<TcpStream, ConnectFailure> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(|e| classify(&e))?;
    socket.set_nodelay(true).map_err(|e| classify(&e))?;
    if let Some(keepalive) = options.keepalive {
        set_keepalive(&socket, keepalive).map_err(|e| classify(&e))?;
    }
    match tokio::time::timeout(timeout, socket.connect(addr)).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(e)) => Err(classify(&e)),
        Err(_) => Err(ConnectFailure::Timeout),
    }
}

/// Time between starting attempts to successive addresses (RFC 8305's "Connection Attempt
/// Delay").
const ATTEMPT_DELAY: Duration = Duration::from_millis(250);

/// Connects to the first of `addrs` that accepts, all within one `timeout`. Attempts start in
/// order, each [`ATTEMPT_DELAY`] after the previous one (or at once when it failed), as Happy
/// Eyeballs does: an address that drops SYNs delays the next by a fraction of a second, never
/// by a whole deadline. The error is the last failure (`None` for no address).
pub async fn connect_first(
    addrs: &[SocketAddr],
    timeout: Duration,
    options: &SocketOptions,
) -> Result<(SocketAddr, TcpStream), Option<(SocketAddr, ConnectFailure)>> {
    use futures_util::stream::{FuturesUnordered, StreamExt};
    let deadline = tokio::time::Instant::now() + timeout;
    let mut attempts = FuturesUnordered::new();
    let mut started = 0;
    let mut last = None;
    // Every turn starts an attempt or ends one: at most twice as many turns as addresses.
    loop {
        if let Some(&addr) = addrs.get(started) {
            started += 1;
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            attempts.push(async move { (addr, connect(addr, left, options).await) });
        }
        let more = started < addrs.len();
        if attempts.is_empty() {
            return Err(last);
        }
        tokio::select! {
            Some((addr, result)) = attempts.next() => match result {
                Ok(stream) => return Ok((addr, stream)),
                Err(failure) => last = Some((addr, failure)),
            },
            _ = tokio::time::sleep(ATTEMPT_DELAY), if more => {}
        }
    }
}

fn set_keepalive(socket: &TcpSocket, every: Duration) -> io::Result<()> {
    let keepalive = socket2::TcpKeepalive::new().with_time(every);
    #[cfg(any(unix, windows))]
    let keepalive = keepalive.with_interval(every);
    socket2::SockRef::from(socket).set_tcp_keepalive(&keepalive)
}

/// Maps an I/O error from connect (or an early read) to the probe's vocabulary.
pub fn classify(e: &io::Error) -> ConnectFailure {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => ConnectFailure::Refused,
        io::ErrorKind::TimedOut => ConnectFailure::Timeout,
        io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable => {
            ConnectFailure::Unreachable
        }
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => ConnectFailure::Reset,
        _ => ConnectFailure::Other(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_closed_port_is_refused() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let err = connect(addr, Duration::from_secs(5), &SocketOptions::default())
            .await
            .unwrap_err();
        assert_eq!(err, ConnectFailure::Refused);
    }

    #[tokio::test]
    async fn the_first_address_that_accepts_wins_within_one_deadline() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let closed_addr = closed.local_addr().unwrap();
        drop(closed);
        let open = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let open_addr = open.local_addr().unwrap();
        let options = SocketOptions::default();
        let (addr, _) = connect_first(&[closed_addr, open_addr], Duration::from_secs(5), &options)
            .await
            .unwrap();
        assert_eq!(addr, open_addr);
        let err = connect_first(&[closed_addr], Duration::from_secs(5), &options)
            .await
            .unwrap_err();
        assert_eq!(err, Some((closed_addr, ConnectFailure::Refused)));
        assert_eq!(
            connect_first(&[], Duration::from_secs(5), &options)
                .await
                .unwrap_err(),
            None
        );
    }
}
