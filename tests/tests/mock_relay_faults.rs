//! Every `--fault` of the mock-relay, observed by a real rustls client. Idle faults are timed
//! from the moment the relay answered the hold (the last byte on the connection) and must land
//! within one second of the configured S.

use e2e::relay::Relay;
use e2e::tls_client::*;
use relay_protocol::channel::{ClientMessage, ServerMessage};
use std::time::Duration;
use tokio::time::{timeout, Instant};

const LIMIT: Duration = Duration::from_secs(30);

/// Holds a channel (push far away) on a relay with `fault` and reports how and when it ended.
async fn idle_ending(fault: &str, s: f64) -> (Ending, Duration, Relay) {
    let relay = Relay::serve(&["--fault", fault]).await;
    let mut ws = tls_channel(relay.tls(), &relay.ca_pem(), "idle").await;
    let held = hold(&mut ws, "far", 60.0).await;
    let (ending, after) = wait_for_end(&mut ws, held, Duration::from_secs_f64(s + 4.0)).await;
    eprintln!("{fault}: {ending:?} after {:.3} s", after.as_secs_f64());
    (ending, after, relay)
}

/// One test per idle fault that ends the connection, each its own test by name: the fault, its
/// S, the ending a real client sees, and the reason the relay logs.
macro_rules! idle_fault_tests {
    ($($name:ident: $fault:literal, $s:literal => $ending:expr, $logged:literal;)*) => {$(
        #[tokio::test]
        async fn $name() {
            timeout(LIMIT, async {
                let (ending, after, relay) = idle_ending($fault, $s).await;
                assert_eq!(ending, $ending);
                assert_near(after, $s, $fault);
                relay.wait_for_log(&["closed", $logged], STEP).await;
            })
            .await
            .expect("test within its limit");
        }
    )*};
}

idle_fault_tests! {
    idle_reset_sends_rst_after_s: "idle-reset:2", 2.0 => Ending::Reset, "idle-reset fault after";
    idle_fin_closes_tcp_without_close_notify_after_s:
        "idle-fin:1.5", 1.5 => Ending::FinWithoutCloseNotify, "idle-fin fault after";
    idle_close_notify_closes_tls_cleanly_after_s:
        "idle-close-notify:2", 2.0 => Ending::CleanEof, "idle-close-notify fault after";
}

#[tokio::test]
async fn idle_drop_goes_silent_after_s_and_keeps_the_socket() {
    timeout(LIMIT, async {
        let s = 2.0;
        let relay = Relay::serve(&["--fault", "idle-drop:2"]).await;
        let mut ws = tls_channel(relay.tls(), &relay.ca_pem(), "drop").await;
        hold(&mut ws, "p", s + 2.5).await;
        // Under S idle: answered (and the answer restarts the idle clock).
        tokio::time::sleep(Duration::from_secs_f64(s - 1.0)).await;
        send(&mut ws, &ClientMessage::Echo { id: "early".into() }).await;
        assert!(matches!(
            next_message(&mut ws, STEP).await,
            Ok(Some(ServerMessage::Echo { .. }))
        ));
        let answered = Instant::now();
        // Past S idle: no echo answer, no push (due S + 2.5 after the hold), and no close.
        let (ending, _) = wait_for_end(&mut ws, answered, Duration::from_secs_f64(s + 0.5)).await;
        assert_eq!(ending, Ending::Silent, "push or close after the drop");
        send(&mut ws, &ClientMessage::Echo { id: "late".into() }).await;
        let (ending, _) = wait_for_end(&mut ws, answered, Duration::from_secs(2)).await;
        assert_eq!(ending, Ending::Silent);
        let line = relay.wait_for_log(&["pushed"], STEP).await;
        assert!(
            line.contains("id=p"),
            "the relay pushed into the void: {line}"
        );
        let stats = https_get(relay.tls(), &relay.ca_pem(), "/stats")
            .await
            .unwrap();
        assert!(
            stats.body.contains("\"open_connections\": 2"),
            "the dropped socket is kept: {}",
            stats.body
        );
    })
    .await
    .expect("test within its limit");
}

#[tokio::test]
async fn traffic_in_either_direction_keeps_an_idle_fault_away() {
    timeout(LIMIT, async {
        let relay = Relay::serve(&["--fault", "idle-reset:1.5"]).await;
        let mut ws = tls_channel(relay.tls(), &relay.ca_pem(), "busy").await;
        let mut last = hold(&mut ws, "far", 60.0).await;
        for i in 0..4 {
            tokio::time::sleep(Duration::from_millis(900)).await;
            send(
                &mut ws,
                &ClientMessage::Echo {
                    id: format!("e{i}"),
                },
            )
            .await;
            assert!(matches!(
                next_message(&mut ws, STEP).await,
                Ok(Some(ServerMessage::Echo { .. }))
            ));
            last = Instant::now();
        }
        let (ending, after) = wait_for_end(&mut ws, last, Duration::from_secs(5)).await;
        assert_eq!(ending, Ending::Reset);
        assert_near(after, 1.5, "RST after the last echo");
    })
    .await
    .expect("test within its limit");
}

#[tokio::test]
async fn idle_faults_act_on_the_plain_listener_too() {
    timeout(LIMIT, async {
        let relay =
            Relay::serve(&["--plain-listen", "127.0.0.1:0", "--fault", "idle-reset:1"]).await;
        let tcp = tokio::net::TcpStream::connect(relay.plain()).await.unwrap();
        let mut ws = open_channel(tcp, "plain").await.unwrap();
        let held = hold(&mut ws, "far", 60.0).await;
        let (ending, after) = wait_for_end(&mut ws, held, Duration::from_secs(5)).await;
        assert_eq!(ending, Ending::Reset);
        assert_near(after, 1.0, "plain RST");
    })
    .await
    .expect("test within its limit");
}

#[tokio::test]
async fn handshake_delay_holds_the_tls_handshake_for_s() {
    timeout(LIMIT, async {
        let relay = Relay::serve(&["--fault", "handshake-delay:2"]).await;
        let started = Instant::now();
        let mut tls = connect_tls(relay.tls(), &relay.ca_pem(), "localhost")
            .await
            .unwrap();
        assert_near(started.elapsed(), 2.0, "handshake");
        assert!(started.elapsed() >= Duration::from_secs(2));
        let started = Instant::now();
        assert_eq!(
            request(&mut tls, "GET", "/healthz", &[])
                .await
                .unwrap()
                .status,
            200
        );
        // A request held by the fault would take its 2 s too.
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "only the handshake is slow"
        );
    })
    .await
    .expect("test within its limit");
}

#[tokio::test]
async fn slow_response_holds_every_response_for_s() {
    timeout(LIMIT, async {
        let relay = Relay::serve(&["--fault", "slow-response:1.5"]).await;
        let ca = relay.ca_pem();
        let mut tls = connect_tls(relay.tls(), &ca, "localhost").await.unwrap();
        let started = Instant::now();
        assert_eq!(
            request(&mut tls, "GET", "/healthz", &[])
                .await
                .unwrap()
                .status,
            200
        );
        assert_near(started.elapsed(), 1.5, "response");
        assert!(started.elapsed() >= Duration::from_millis(1500));
    })
    .await
    .expect("test within its limit");
}

#[tokio::test]
async fn status_fault_answers_every_request_with_its_code() {
    timeout(LIMIT, async {
        let relay = Relay::serve(&["--fault", "status:503"]).await;
        let ca = relay.ca_pem();
        for path in ["/healthz", "/echo", "/stats", "/$hc/listener"] {
            assert_eq!(
                https_get(relay.tls(), &ca, path).await.unwrap().status,
                503,
                "{path}"
            );
        }
        let tls = connect_tls(relay.tls(), &ca, "localhost").await.unwrap();
        let err = open_channel(tls, "listener").await.unwrap_err();
        assert!(err.to_string().contains("503"), "{err}");
    })
    .await
    .expect("test within its limit");
}

#[tokio::test]
async fn cert_faults_present_the_certificate_they_name() {
    use rustls::CertificateError as C;
    timeout(LIMIT, async {
        for (fault, expect) in [
            ("cert:expired", "expired"),
            ("cert:wrong-name", "wrong-name"),
            ("cert:self-signed", "self-signed"),
        ] {
            let relay = Relay::serve(&["--fault", fault]).await;
            let err = connect_tls(relay.tls(), &relay.ca_pem(), "localhost")
                .await
                .unwrap_err();
            let cert_error = match rustls_error(&err) {
                Some(rustls::Error::InvalidCertificate(e)) => e.clone(),
                other => panic!("{fault}: {err} ({other:?})"),
            };
            let matched = match expect {
                "expired" => matches!(cert_error, C::Expired | C::ExpiredContext { .. }),
                "wrong-name" => matches!(
                    cert_error,
                    C::NotValidForName | C::NotValidForNameContext { .. }
                ),
                _ => matches!(cert_error, C::UnknownIssuer),
            };
            assert!(matched, "{fault}: {cert_error:?}");
        }
    })
    .await
    .expect("test within its limit");
}
