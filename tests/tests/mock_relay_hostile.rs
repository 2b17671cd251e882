//! Hostile input closes only the connection it came on, with a logged reason, and never stops
//! a well-behaved client being served at the same time.

use e2e::relay::Relay;
use e2e::tls_client::*;
use futures_util::SinkExt;
use relay_protocol::channel::ServerMessage;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout, Instant};
use tokio_tungstenite::tungstenite::Message;

const LIMIT: Duration = Duration::from_secs(45);

/// Pseudo-random bytes (xorshift), no extra dependency needed.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect()
}

/// Writes `bytes` (ignoring a peer that hangs up mid-way), then waits, bounded, until the
/// server closes the connection. Returns how long that took.
async fn send_and_wait_for_close(addr: SocketAddr, bytes: &[u8]) -> Duration {
    let started = Instant::now();
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    let _ = timeout(STEP, tcp.write_all(bytes)).await;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match timeout(STEP, tcp.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return started.elapsed(),
            Ok(Ok(_)) => continue,
            Err(_) => panic!("server kept a hostile connection to {addr} open"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_clients_are_closed_with_a_reason_while_a_good_client_is_served() {
    timeout(LIMIT, async {
        let relay = Relay::serve(&[
            "--plain-listen",
            "127.0.0.1:0",
            "--handshake-timeout",
            "1",
            "--request-timeout",
            "1.5",
        ])
        .await;
        let ca = relay.ca_pem();
        let (tls_addr, plain_addr) = (relay.tls(), relay.plain());

        // The well-behaved client holds a channel through all of it.
        let good = {
            let ca = ca.clone();
            tokio::spawn(async move {
                let mut ws = tls_channel(tls_addr, &ca, "good").await;
                let held = hold(&mut ws, "good", 3.0).await;
                let push = next_message(&mut ws, Duration::from_secs(6)).await;
                assert!(
                    matches!(push, Ok(Some(ServerMessage::Push { .. }))),
                    "{push:?}"
                );
                assert_near(held.elapsed(), 3.0, "the good client's push");
            })
        };

        let mut hostile = tokio::task::JoinSet::new();
        // Random bytes, on both listeners, from several clients.
        for seed in 1..=5u64 {
            hostile
                .spawn(async move { send_and_wait_for_close(tls_addr, &noise(4096, seed)).await });
            hostile.spawn(async move {
                send_and_wait_for_close(plain_addr, &noise(4096, seed + 100)).await
            });
        }
        // A TLS record storm: thousands of one-byte handshake records.
        hostile.spawn(async move {
            let storm: Vec<u8> = (0..20_000)
                .flat_map(|_| [0x16, 0x03, 0x01, 0x00, 0x01, 0xff])
                .collect();
            send_and_wait_for_close(tls_addr, &storm).await
        });
        // Half a ClientHello, then nothing: the handshake deadline ends it.
        hostile.spawn(async move {
            send_and_wait_for_close(
                tls_addr,
                &[
                    0x16, 0x03, 0x01, 0x00, 0xc8, 0x01, 0x00, 0x00, 0xc4, 0x03, 0x03,
                ],
            )
            .await
        });
        // Connect and say nothing at all.
        for _ in 0..10 {
            hostile.spawn(async move { send_and_wait_for_close(tls_addr, &[]).await });
        }
        // An oversized request head over TLS.
        {
            let ca = ca.clone();
            hostile.spawn(async move {
                let started = Instant::now();
                let mut tls = connect_tls(tls_addr, &ca, "localhost").await.unwrap();
                let huge = "a".repeat(64 * 1024);
                let resp = request(&mut tls, "GET", "/healthz", &[("X-Huge", &huge)]).await;
                if let Ok(resp) = resp {
                    assert_eq!(resp.status, 431, "{resp:?}");
                }
                started.elapsed()
            });
        }
        // Headers dribbled one byte at a time: the request deadline ends it.
        {
            let ca = ca.clone();
            hostile.spawn(async move {
                let started = Instant::now();
                let mut tls = connect_tls(tls_addr, &ca, "localhost").await.unwrap();
                let _ = tls.write_all(b"GET /healthz HTTP/1.1\r\n").await;
                for byte in b"X-Slow: 1111111111111111111111111111"
                    .iter()
                    .cycle()
                    .take(100)
                {
                    if tls.write_all(&[*byte]).await.is_err() || tls.flush().await.is_err() {
                        break;
                    }
                    let mut probe = [0u8; 512];
                    match timeout(Duration::from_millis(200), tls.read(&mut probe)).await {
                        Ok(Ok(0)) | Ok(Err(_)) => break,
                        _ => {}
                    }
                }
                started.elapsed()
            });
        }
        // An oversized WebSocket message.
        {
            let ca = ca.clone();
            hostile.spawn(async move {
                let started = Instant::now();
                let mut ws = tls_channel(tls_addr, &ca, "huge").await;
                let _ = timeout(STEP, ws.send(Message::text("x".repeat(200 * 1024)))).await;
                let (ending, _) = wait_for_end(&mut ws, started, STEP).await;
                assert_ne!(ending, Ending::Silent);
                started.elapsed()
            });
        }
        while let Some(result) = hostile.join_next().await {
            let took = result.expect("hostile client task");
            assert!(
                took < Duration::from_secs(8),
                "a hostile connection lasted {took:?}"
            );
        }
        good.await.expect("the good client was served");
        assert_eq!(
            https_get(tls_addr, &ca, "/healthz").await.unwrap().status,
            200
        );
        assert_eq!(http_get(plain_addr, "/healthz").await.unwrap().status, 200);

        for reason in [
            "reason=tls handshake failed",
            "reason=tls handshake not finished within 1 s",
            "reason=bad request",
            "reason=request head too large",
            "reason=request headers not received in time",
            "reason=message too large",
        ] {
            relay.wait_for_log(&["closed", reason], STEP).await;
        }
    })
    .await
    .expect("test within its limit");
}
