//! The server's side of a full handshake, and nothing of the client's: one ClientHello made by
//! rustls (no session to resume, a fresh key share) is sent again on every connection, and the
//! connection closes once the server's whole first flight has arrived (TLS 1.3: ServerHello,
//! EncryptedExtensions, Certificate, CertificateVerify, Finished; the server has then done all of
//! its key exchange and its signature). The client does no cryptography at all, so one client
//! core can saturate a server core, which a client doing real handshakes cannot (its share of
//! the work is larger than the server's).

use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// TLS record content types.
const ALERT: u8 = 21;
const HANDSHAKE: u8 = 22;
/// Quiet time after which calibration takes the server's flight as complete (it now waits for
/// the client's Finished, which never comes).
const FLIGHT_SETTLED: Duration = Duration::from_millis(300);
/// Longest a calibration may take.
const CALIBRATION_LIMIT: Duration = Duration::from_secs(5);

/// A ClientHello to replay and how many records the server answers it with.
#[derive(Debug, Clone)]
pub struct Flight {
    pub client_hello: Arc<Vec<u8>>,
    pub records: usize,
}

/// Makes the ClientHello and counts the server's answer on one connection to `server`.
pub async fn calibrate(
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
    server: SocketAddr,
) -> io::Result<Flight> {
    let mut conn = rustls::ClientConnection::new(config, name).map_err(io::Error::other)?;
    let mut hello = Vec::new();
    conn.write_tls(&mut hello)?;
    let mut tcp = TcpStream::connect(server).await?;
    tcp.write_all(&hello).await?;
    let mut records = 0;
    let started = tokio::time::Instant::now();
    loop {
        let left = CALIBRATION_LIMIT.saturating_sub(started.elapsed());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the server never went quiet",
            ));
        }
        match tokio::time::timeout(FLIGHT_SETTLED.min(left), read_record(&mut tcp)).await {
            Err(_) if records > 0 => break,
            Err(_) => continue,
            Ok(record) => match record? {
                ALERT => return Err(io::Error::other("the server answered with an alert")),
                _ => records += 1,
            },
        }
    }
    Ok(Flight {
        client_hello: Arc::new(hello),
        records,
    })
}

/// One connection: the hello out, the server's flight in, then close.
pub async fn replay(
    flight: &Flight,
    socket: tokio::net::TcpSocket,
    server: SocketAddr,
) -> io::Result<()> {
    let mut tcp = socket.connect(server).await?;
    tcp.write_all(&flight.client_hello).await?;
    for i in 0..flight.records {
        let kind = read_record(&mut tcp).await?;
        if kind == ALERT || (i == 0 && kind != HANDSHAKE) {
            return Err(io::Error::other("not a server hello"));
        }
    }
    Ok(())
}

/// Reads one TLS record, returns its content type.
async fn read_record(tcp: &mut TcpStream) -> io::Result<u8> {
    let mut header = [0u8; 5];
    tcp.read_exact(&mut header).await?;
    let length = u16::from_be_bytes([header[3], header[4]]) as usize;
    if length > 16 * 1024 + 256 {
        return Err(io::Error::other("not a TLS record"));
    }
    let mut body = vec![0u8; length];
    tcp.read_exact(&mut body).await?;
    Ok(header[0])
}
