//! What the kernel knows about a connection's delivery: data still unacknowledged, segments
//! retransmitted, time since the last ACK. Read before calling a silent connection dropped: on a
//! lossy path an answer may only be late, and a timeout alone is not evidence of a drop.
//!
//! Linux reads `TCP_INFO`; other platforms report nothing (`None`), and the idle check judges
//! by its deadlines alone there.

/// Whether this platform tells the kernel's view of a connection (Linux `TCP_INFO`).
pub const SUPPORTED: bool = cfg!(target_os = "linux");

/// The kernel's view of one connection at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpEvidence {
    /// Segments sent and not yet acknowledged.
    pub unacked: u32,
    /// Retransmissions of the current unacknowledged data (the RTO backoff count).
    pub retransmits: u32,
    /// Retransmitted segments over the connection's life.
    pub total_retransmits: u32,
    /// Milliseconds since the last ACK arrived.
    pub last_ack_ms: u32,
}

impl TcpEvidence {
    /// Whether everything sent has been acknowledged by the TCP peer (the server, or a device
    /// that terminates TCP on its way: a proxy, a WAN optimiser).
    pub fn delivered(&self) -> bool {
        self.unacked == 0
    }
}

/// A way to ask the kernel about one socket, taken when it connected. Valid while the
/// connection it came from is open.
#[derive(Debug, Clone, Copy)]
pub struct Handle {
    #[cfg(target_os = "linux")]
    fd: std::os::fd::RawFd,
}

impl Handle {
    /// The handle of a connected socket.
    #[cfg(target_os = "linux")]
    pub fn of(stream: &tokio::net::TcpStream) -> Option<Handle> {
        use std::os::fd::AsRawFd;
        Some(Handle {
            fd: stream.as_raw_fd(),
        })
    }

    #[cfg(not(target_os = "linux"))]
    pub fn of(_stream: &tokio::net::TcpStream) -> Option<Handle> {
        None
    }

    /// The kernel's `TCP_INFO` for the connection, if it answers.
    #[cfg(target_os = "linux")]
    fn info(&self) -> Option<libc::tcp_info> {
        let mut info = std::mem::MaybeUninit::<libc::tcp_info>::zeroed();
        let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
        // SAFETY: `info` is a writable buffer of `len` bytes for the kernel to fill; the fd
        // belongs to a connection the caller holds open.
        let rc = unsafe {
            libc::getsockopt(
                self.fd,
                libc::IPPROTO_TCP,
                libc::TCP_INFO,
                info.as_mut_ptr().cast(),
                &mut len,
            )
        };
        if rc != 0 {
            return None;
        }
        // SAFETY: zero-initialised and filled by the kernel up to `len`; every field is an
        // integer, so any bytes are a valid value.
        Some(unsafe { info.assume_init() })
    }

    /// The connection's state now, if the platform tells.
    #[cfg(target_os = "linux")]
    pub fn evidence(&self) -> Option<TcpEvidence> {
        let info = self.info()?;
        Some(TcpEvidence {
            unacked: info.tcpi_unacked,
            retransmits: u32::from(info.tcpi_retransmits),
            total_retransmits: info.tcpi_total_retrans,
            last_ack_ms: info.tcpi_last_ack_recv,
        })
    }

    #[cfg(not(target_os = "linux"))]
    pub fn evidence(&self) -> Option<TcpEvidence> {
        None
    }

    /// Whether the connection is still established (not reset, not closed by either side), if
    /// the platform tells: a reset connection has nothing unacknowledged either.
    #[cfg(target_os = "linux")]
    pub fn established(&self) -> Option<bool> {
        /// `TCP_ESTABLISHED` in the kernel's `tcp_states.h`.
        const ESTABLISHED: u8 = 1;
        Some(self.info()?.tcpi_state == ESTABLISHED)
    }

    #[cfg(not(target_os = "linux"))]
    pub fn established(&self) -> Option<bool> {
        None
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn a_delivered_write_leaves_nothing_unacknowledged() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = tokio::net::TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        client.write_all(b"hello").await.unwrap();
        let mut buf = [0u8; 5];
        server.read_exact(&mut buf).await.unwrap();
        let evidence = Handle::of(&client).unwrap().evidence().unwrap();
        assert!(evidence.delivered(), "{evidence:?}");
        assert_eq!(evidence.retransmits, 0);
    }
}
