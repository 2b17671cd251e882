//! The mock-relay's endpoints over real sockets: healthz, echo, stats, the listener channel
//! (hold, push, echo, ping), the plain listener, the generated certificate, the CLI's address
//! line, JSON logs, bad input, and graceful shutdown.

use e2e::relay::{run_to_exit, Relay};
use e2e::tls_client::*;
use futures_util::{SinkExt, StreamExt};
use relay_protocol::channel::{ClientMessage, EchoReport, ServerMessage, Stats};
use std::time::Duration;
use tokio::time::{timeout, Instant};
use tokio_tungstenite::tungstenite::Message;

const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn healthz_echo_stats_and_errors_over_tls() {
    timeout(LIMIT, async {
        let relay = Relay::serve(&[]).await;
        let ca = relay.ca_pem();
        let addr = relay.tls();

        let health = https_get(addr, &ca, "/healthz").await.unwrap();
        assert_eq!(health.status, 200);
        assert_eq!(health.body, "ok\n");
        assert!(health.header("date").is_some(), "{health:?}");

        let mut tls = connect_tls(addr, &ca, "localhost").await.unwrap();
        let local = tls.get_ref().0.local_addr().unwrap();
        let echo = request(
            &mut tls,
            "GET",
            "/echo?x=1",
            &[("X-Rewrite-Me", "original")],
        )
        .await
        .unwrap();
        assert_eq!(echo.status, 200);
        assert_eq!(echo.header("content-type"), Some("application/json"));
        let report: EchoReport = serde_json::from_str(&echo.body).unwrap();
        assert_eq!(report.method, "GET");
        assert_eq!(report.path, "/echo?x=1");
        assert_eq!(report.peer_addr, local.to_string());
        assert!(report
            .headers
            .contains(&("x-rewrite-me".to_string(), "original".to_string())));

        let stats = https_get(addr, &ca, "/stats").await.unwrap();
        let stats: Stats = serde_json::from_str(&stats.body).unwrap();
        assert_eq!(
            stats.open_connections, 1,
            "the stats request's own connection"
        );
        assert!(stats.total_connections >= 3);

        assert_eq!(https_get(addr, &ca, "/nope").await.unwrap().status, 404);
        let mut tls = connect_tls(addr, &ca, "localhost").await.unwrap();
        let post = request(&mut tls, "POST", "/healthz", &[("Content-Length", "0")])
            .await
            .unwrap();
        assert_eq!(post.status, 405);
        let not_ws = https_get(addr, &ca, "/$hc/listener").await.unwrap();
        assert_eq!(not_ws.status, 426);
        relay
            .wait_for_log(&["closed", "reason=peer closed"], Duration::from_secs(5))
            .await;
    })
    .await
    .expect("test within its limit");
}

#[tokio::test]
async fn the_listener_channel_holds_silently_then_pushes_once() {
    timeout(LIMIT, async {
        let relay = Relay::serve(&[]).await;
        let ca = relay.ca_pem();
        let mut ws = tls_channel(relay.tls(), &ca, "sspr-listener").await;

        send(&mut ws, &ClientMessage::Echo { id: "e1".into() }).await;
        match next_message(&mut ws, STEP).await {
            Ok(Some(ServerMessage::Echo { id, .. })) => assert_eq!(id, "e1"),
            other => panic!("echo: {other:?}"),
        }

        let asked = Instant::now();
        let held_at = hold(&mut ws, "p1", 1.5).await;
        // At once: well before the push, due 1.5 s after the hold.
        assert!(held_at - asked < Duration::from_secs(1), "held at once");
        // Completely silent until the push.
        assert_eq!(
            next_message(&mut ws, Duration::from_millis(1200)).await,
            Ok(None)
        );
        let pushed = match next_message(&mut ws, Duration::from_secs(3)).await {
            Ok(Some(ServerMessage::Push {
                id,
                idle_s,
                server_time,
            })) => {
                assert_eq!(id, "p1");
                assert!((idle_s - 1.5).abs() < 0.5, "idle_s {idle_s}");
                assert!(server_time.ends_with('Z'));
                held_at.elapsed()
            }
            other => panic!("push: {other:?}"),
        };
        assert_near(pushed, 1.5, "push time");
        // Exactly one push.
        assert_eq!(
            next_message(&mut ws, Duration::from_secs(1)).await,
            Ok(None)
        );

        // Pings are answered; nonsense gets an error message, the channel stays up.
        timeout(STEP, ws.send(Message::Ping(b"hi".to_vec().into())))
            .await
            .unwrap()
            .unwrap();
        let pong = timeout(STEP, ws.next()).await.unwrap().unwrap().unwrap();
        assert_eq!(pong, Message::Pong(b"hi".to_vec().into()));
        timeout(STEP, ws.send(Message::text("{\"op\":\"shout\"}")))
            .await
            .unwrap()
            .unwrap();
        match next_message(&mut ws, STEP).await {
            Ok(Some(ServerMessage::Error { message })) => {
                assert!(message.contains("not a listener-channel message"))
            }
            other => panic!("error: {other:?}"),
        }
        send(
            &mut ws,
            &ClientMessage::Hold {
                id: "bad".into(),
                push_after_s: -1.0,
            },
        )
        .await;
        assert!(matches!(
            next_message(&mut ws, STEP).await,
            Ok(Some(ServerMessage::Error { .. }))
        ));

        let stats: Stats =
            serde_json::from_str(&https_get(relay.tls(), &ca, "/stats").await.unwrap().body)
                .unwrap();
        assert_eq!(stats.pushes_sent, 1);
        assert_eq!(stats.held_connections, 0);
        relay.wait_for_log(&["held", "id=p1"], STEP).await;
        relay.wait_for_log(&["pushed", "id=p1"], STEP).await;
        timeout(STEP, ws.close(None)).await.unwrap().unwrap();
    })
    .await
    .expect("test within its limit");
}

#[tokio::test]
async fn the_plain_listener_serves_the_same_endpoints_and_channel() {
    timeout(LIMIT, async {
        let relay = Relay::serve(&[
            "--plain-listen",
            "127.0.0.1:0",
            "--plain-listen",
            "127.0.0.1:0",
        ])
        .await;
        assert_eq!(relay.addrs.plain.len(), 2);
        for addr in &relay.addrs.plain {
            let health = http_get(*addr, "/healthz").await.unwrap();
            assert_eq!(health.status, 200);
        }
        let tcp = tokio::net::TcpStream::connect(relay.plain()).await.unwrap();
        let mut ws = open_channel(tcp, "plain").await.unwrap();
        let held = hold(&mut ws, "p", 1.0).await;
        assert!(matches!(
            next_message(&mut ws, Duration::from_secs(3)).await,
            Ok(Some(ServerMessage::Push { .. }))
        ));
        assert_near(held.elapsed(), 1.0, "plain push");
    })
    .await
    .expect("test within its limit");
}

#[tokio::test]
async fn the_generated_certificate_covers_loopback_and_the_writeback_names() {
    timeout(LIMIT, async {
        let relay = Relay::serve(&["--cert-out", "leaf.pem", "--key-out", "leaf.key"]).await;
        let ca = relay.ca_pem();
        for name in [
            "localhost",
            "127.0.0.1",
            "passwordreset.microsoftonline.com",
            "tenant.passwordreset.microsoftonline.com",
            "ssprdedicatedsbprodscu.servicebus.windows.net",
            "ssprdedicatedsbprodncu.servicebus.windows.net",
            "g0-prod-sb.servicebus.windows.net",
        ] {
            connect_tls(relay.tls(), &ca, name)
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(relay.path("leaf.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "private key mode");
        }

        // The written leaf and key serve as --cert/--key for a second relay: no CA written then.
        let cert = relay.path("leaf.pem").display().to_string();
        let key = relay.path("leaf.key").display().to_string();
        let second = Relay::serve(&["--cert", &cert, "--key", &key]).await;
        assert_eq!(second.addrs.ca_file, None);
        assert_eq!(
            https_get(second.tls(), &ca, "/healthz")
                .await
                .unwrap()
                .status,
            200
        );

        // --hostname replaces the defaults.
        let named = Relay::serve(&["--hostname", "relay.test"]).await;
        let ca = named.ca_pem();
        connect_tls(named.tls(), &ca, "relay.test").await.unwrap();
        let err = connect_tls(named.tls(), &ca, "localhost")
            .await
            .unwrap_err();
        assert!(
            matches!(
                rustls_error(&err),
                Some(rustls::Error::InvalidCertificate(_))
            ),
            "{err}"
        );
    })
    .await
    .expect("test within its limit");
}

#[tokio::test]
async fn json_logs_have_one_object_per_connection_event() {
    timeout(LIMIT, async {
        let relay = Relay::serve(&["--log-format", "json"]).await;
        https_get(relay.tls(), &relay.ca_pem(), "/healthz")
            .await
            .unwrap();
        relay.wait_for_log(&["\"closed\""], STEP).await;
        let events: Vec<serde_json::Value> = relay
            .logs()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        let opened = events
            .iter()
            .find(|e| e["message"] == "opened")
            .expect("opened");
        assert_eq!(opened["listener"], "tls");
        assert!(opened["peer"].as_str().unwrap().starts_with("127.0.0.1:"));
        let closed = events
            .iter()
            .find(|e| e["message"] == "closed")
            .expect("closed");
        assert_eq!(closed["conn"], opened["conn"]);
        assert!(closed["reason"].is_string());
    })
    .await
    .expect("test within its limit");
}

#[tokio::test]
async fn sigterm_closes_held_channels_and_exits_0() {
    timeout(LIMIT, async {
        let relay = Relay::serve(&[]).await;
        let mut ws = tls_channel(relay.tls(), &relay.ca_pem(), "held").await;
        hold(&mut ws, "long", 600.0).await;
        let stopping = tokio::spawn(relay.terminate(Duration::from_secs(10)));
        match timeout(STEP, ws.next()).await.unwrap() {
            Some(Ok(Message::Close(Some(frame)))) => assert_eq!(u16::from(frame.code), 1001),
            other => panic!("expected a going-away close, got {other:?}"),
        }
        drop(ws);
        let status = stopping.await.unwrap();
        assert_eq!(status.code(), Some(0));
    })
    .await
    .expect("test within its limit");
}

#[tokio::test]
async fn bad_input_exits_2_with_one_clear_message() {
    timeout(LIMIT, async {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let taken = taken.local_addr().unwrap().to_string();
        let cases: Vec<(Vec<&str>, &str)> = vec![
            (vec!["--fault", "idle-nap:3"], "unknown fault `idle-nap`"),
            (vec!["--fault", "idle-reset"], "idle-reset:SECS"),
            (
                vec!["--fault", "idle-reset:2", "--fault", "idle-fin:3"],
                "only one idle fault",
            ),
            (vec!["--listen", "localhost:443"], "--listen"),
            (vec!["--cert", "nope.pem"], "--key"),
            (
                vec![
                    "--cert",
                    "nope.pem",
                    "--key",
                    "nope.key",
                    "--listen",
                    "127.0.0.1:0",
                ],
                "nope.pem",
            ),
            (vec!["--listen", &taken], "cannot listen on"),
            (
                vec![
                    "middlebox",
                    "--listen",
                    "127.0.0.1:0",
                    "--upstream",
                    "127.0.0.1:1",
                    "--idle-timeout",
                    "2",
                    "--on-idle",
                    "nap",
                ],
                "--on-idle",
            ),
            (
                vec![
                    "middlebox",
                    "--listen",
                    "127.0.0.1:0",
                    "--upstream",
                    "no-such-host.invalid:443",
                    "--idle-timeout",
                    "2",
                    "--on-idle",
                    "drop",
                ],
                "cannot resolve upstream",
            ),
        ];
        for (args, needle) in cases {
            let (code, stdout, stderr) = run_to_exit(&args, Duration::from_secs(20)).await;
            assert_eq!(code, 2, "{args:?}: {stderr}");
            assert!(stderr.contains(needle), "{args:?}: {stderr}");
            assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
            assert!(stdout.is_empty(), "{args:?}: {stdout}");
        }
    })
    .await
    .expect("test within its limit");
}

#[tokio::test]
async fn max_connections_makes_further_clients_wait_their_turn() {
    timeout(LIMIT, async {
        let relay = Relay::serve(&["--max-connections", "2"]).await;
        let ca = relay.ca_pem();
        let mut first = tls_channel(relay.tls(), &ca, "one").await;
        let _second = tls_channel(relay.tls(), &ca, "two").await;
        // The kernel accepts the third TCP connection, but the relay does not serve it yet.
        let third = tokio::spawn({
            let ca = ca.clone();
            let addr = relay.tls();
            async move { connect_tls(addr, &ca, "localhost").await }
        });
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert!(
            !third.is_finished(),
            "a third connection was served over the limit"
        );
        timeout(STEP, first.close(None)).await.unwrap().unwrap();
        drop(first);
        let third = timeout(STEP, third).await.unwrap().unwrap();
        assert!(third.is_ok(), "served once a slot was free: {third:?}");
    })
    .await
    .expect("test within its limit");
}

#[tokio::test]
async fn max_idle_bounds_a_held_channel_with_a_clean_close() {
    timeout(LIMIT, async {
        let relay = Relay::serve(&["--max-idle", "1.5"]).await;
        let mut ws = tls_channel(relay.tls(), &relay.ca_pem(), "bounded").await;
        send(
            &mut ws,
            &ClientMessage::Hold {
                id: "too-long".into(),
                push_after_s: 5.0,
            },
        )
        .await;
        match next_message(&mut ws, STEP).await {
            Ok(Some(ServerMessage::Error { message })) => {
                assert!(message.contains("--max-idle"), "{message}")
            }
            other => panic!("expected an error, got {other:?}"),
        }
        let answered = Instant::now();
        let (ending, after) = wait_for_end(&mut ws, answered, Duration::from_secs(5)).await;
        assert_eq!(ending, Ending::CleanEof);
        assert_near(after, 1.5, "max-idle close");
        drop(ws);
        relay
            .wait_for_log(&["closed", "max-idle reached"], STEP)
            .await;
    })
    .await
    .expect("test within its limit");
}
