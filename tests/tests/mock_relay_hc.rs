//! mock-relay's Hybrid Connections, behaviour the documentation leaves to the service and the
//! mock documents: the connection string it prints, round robin over listeners, timeouts,
//! token expiry, faults on control channels, counters. (The documented wire itself is checked
//! by an independent client in mock_relay_hc_wire.rs.)

use e2e::hc::{next_accept, HcTarget, Refused};
use e2e::relay::Relay;
use e2e::tls_client::{https_get, wait_for_end, Ending};
use futures_util::{SinkExt, StreamExt};
use relay_protocol::channel::Stats;
use relay_protocol::hc::{reject_url, Action};
use std::time::Duration;
use tokio::time::{timeout, Instant};
use tokio_tungstenite::tungstenite::Message;

const LIMIT: Duration = Duration::from_secs(60);
const QUIET: Duration = Duration::from_secs(5);

async fn stats(relay: &Relay) -> Stats {
    let resp = https_get(relay.tls(), &relay.ca_pem(), "/stats")
        .await
        .expect("GET /stats");
    serde_json::from_str(&resp.body).expect("stats JSON")
}

/// Rejects at an accept address; returns the status the reject handshake got.
async fn reject(hc: &HcTarget, address: &str, status: u16, why: &str) -> u16 {
    match hc.open(&reject_url(address, status, why), None).await {
        Err(Refused::Status(code, _)) => code,
        other => panic!("reject handshake: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_address_line_carries_a_connection_string_that_works() {
    timeout(LIMIT, async {
        let relay = Relay::serve(&[
            "--entity",
            "hc1",
            "--hostname",
            "relay.lab",
            "--hostname",
            "127.0.0.1",
            "--connection-string-out",
            "cs.txt",
        ])
        .await;
        let cs = relay.connection_string();
        assert_eq!(
            cs.to_string(),
            format!(
                "Endpoint=sb://relay.lab:{}/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=****;EntityPath=hc1",
                relay.tls().port()
            )
        );
        let file = relay.path("cs.txt");
        let written = std::fs::read_to_string(&file).expect("connection string file");
        assert_eq!(written, format!("{}\n", cs.expose().expose()));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // The certificate holds for the name the connection string gives (TLS to relay.lab).
        let hc = relay.hc();
        let listener = hc.listen("hc1", "l1").await.expect("listener with the printed string");
        drop(listener);
        let key = match cs.credential() {
            relay_protocol::connection_string::Credential::Key(k) => k.key().expose().to_string(),
            other => panic!("{other:?}"),
        };
        assert!(!relay.logs().contains(&key), "the key is in the logs");
        assert!(relay.logs().contains("SharedAccessKey=****"));
    })
    .await
    .expect("test within its limit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn senders_go_to_the_listeners_in_turn_oldest_first() {
    timeout(LIMIT, async {
        let relay = Relay::serve(&[]).await;
        let hc = relay.hc();
        let mut oldest = hc.listen("shared", "oldest").await.expect("first listener");
        let mut newest = hc
            .listen("shared", "newest")
            .await
            .expect("second listener");
        let mut order = Vec::new();
        for n in 0..4 {
            let id = format!("s{n}");
            let sender = {
                let (hc, id) = (hc.clone(), id.clone());
                tokio::spawn(async move { hc.send("shared", &id).await })
            };
            let (who, accept) = tokio::select! {
                a = next_accept(&mut oldest, QUIET) => ("oldest", a),
                a = next_accept(&mut newest, QUIET) => ("newest", a),
            };
            let accept = accept.expect("an accept");
            assert!(accept.id.starts_with(&format!("{id}_G")), "{}", accept.id);
            // The sender's address as the service saw it (`remoteEndpoint`).
            let remote = accept.remote_endpoint.as_ref().expect("remoteEndpoint");
            assert_eq!(remote.address, "127.0.0.1", "{accept:?}");
            assert_ne!(remote.port, 0, "{accept:?}");
            order.push(who);
            assert_eq!(reject(&hc, &accept.address, 409, "not now").await, 410);
            let refused = sender.await.unwrap().expect_err("rejected");
            assert_eq!(refused, Refused::Status(409, "not now".into()));
        }
        assert_eq!(order, ["oldest", "newest", "oldest", "newest"]);
    })
    .await
    .expect("test within its limit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_nobody_answers_gets_504_and_its_address_expires() {
    timeout(LIMIT, async {
        let relay = Relay::serve(&["--accept-timeout", "1"]).await;
        let hc = relay.hc();
        let mut listener = hc.listen("hc1", "lazy").await.expect("listener");
        let started = Instant::now();
        let sender = {
            let hc = hc.clone();
            tokio::spawn(async move { hc.send("hc1", "waiting").await })
        };
        let accept = next_accept(&mut listener, QUIET).await.expect("accept");
        let refused = sender.await.unwrap().expect_err("refused");
        let took = started.elapsed();
        assert!(
            matches!(&refused, Refused::Status(504, why) if why.contains("within the allowed timeout")),
            "{refused:?}"
        );
        assert!(
            took >= Duration::from_millis(900) && took < Duration::from_secs(5),
            "{took:?}"
        );
        match hc.open(&accept.address, None).await {
            Err(Refused::Status(403, _)) => {}
            other => panic!("an expired address: {other:?}"),
        }
        let after = stats(&relay).await;
        assert_eq!((after.hc_senders_waiting, after.hc_listeners), (0, 1));
    })
    .await
    .expect("test within its limit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_listener_hears_nothing_and_outlives_the_keep_alive_timeout() {
    timeout(LIMIT, async {
        let relay = Relay::serve(&["--request-timeout", "0.5"]).await;
        let hc = relay.hc();
        let mut listener = hc.listen("hc1", "idle").await.expect("listener");
        // Nothing at all arrives on an idle control channel (any byte would refresh the very
        // idle timers a rehearsal measures), and the HTTP keep-alive timeout does not apply.
        assert!(timeout(Duration::from_millis(2500), listener.next())
            .await
            .is_err());
        let sender = {
            let hc = hc.clone();
            tokio::spawn(async move { hc.send("hc1", "late").await })
        };
        let accept = next_accept(&mut listener, QUIET).await.expect("accept");
        let mut rendezvous = hc
            .open(&accept.address, None)
            .await
            .expect("accept handshake");
        let mut sender = sender.await.unwrap().expect("sender joined");
        sender
            .send(Message::binary(b"ping?".to_vec()))
            .await
            .unwrap();
        let got = timeout(QUIET, rendezvous.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(got, Message::binary(b"ping?".to_vec()));
        let during = stats(&relay).await;
        assert_eq!(
            (
                during.hc_listeners,
                during.hc_rendezvous_open,
                during.hc_rendezvous_total,
                during.hc_accepts_sent
            ),
            (1, 1, 1, 1)
        );
        // A sender that vanishes without a close: the listener's end is closed with 1001.
        drop(sender);
        match timeout(QUIET, rendezvous.next()).await.expect("an ending") {
            Some(Ok(Message::Close(Some(frame)))) => assert_eq!(u16::from(frame.code), 1001),
            other => panic!("{other:?}"),
        }
        relay
            .wait_for_log(&["closed", "rendezvous: the sender"], QUIET)
            .await;
        let after = stats(&relay).await;
        assert_eq!((after.hc_rendezvous_open, after.hc_listeners), (0, 1));
    })
    .await
    .expect("test within its limit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_faults_apply_to_listener_channels() {
    timeout(LIMIT, async {
        let relay = Relay::serve(&["--fault", "idle-reset:1.5"]).await;
        let hc = relay.hc();
        let mut listener = hc.listen("hc1", "doomed").await.expect("listener");
        let opened = Instant::now();
        let (ending, after) = wait_for_end(&mut listener, opened, QUIET).await;
        assert_eq!(ending, Ending::Reset);
        assert!(
            after >= Duration::from_millis(1400) && after < Duration::from_secs(4),
            "{after:?}"
        );
        relay
            .wait_for_log(&["closed", "idle-reset fault after"], QUIET)
            .await;
        // Gone from the registry with its connection: a sender finds no listener.
        match hc.send("hc1", "too-late").await {
            Err(Refused::Status(404, why)) => assert!(why.contains("no listeners"), "{why}"),
            other => panic!("{other:?}"),
        }
    })
    .await
    .expect("test within its limit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_listener_token_closes_the_channel_with_1008() {
    timeout(LIMIT, async {
        let relay = Relay::serve(&[]).await;
        let hc = relay.hc();
        let token = hc.token("hc1", 2);
        let url = hc.url("hc1", Action::Listen, "short-lived");
        let mut listener = hc.open(&url, Some(&token)).await.expect("listener");
        let opened = Instant::now();
        match timeout(QUIET, listener.next())
            .await
            .expect("closed in time")
        {
            Some(Ok(Message::Close(Some(frame)))) => {
                assert_eq!(u16::from(frame.code), 1008);
                assert!(frame.reason.contains("expired"), "{}", frame.reason);
            }
            other => panic!("{other:?}"),
        }
        assert!(opened.elapsed() < Duration::from_secs(4));
        relay
            .wait_for_log(&["closed", "listener token expired"], QUIET)
            .await;
    })
    .await
    .expect("test within its limit");
}

/// Issue 13, item 9 for Hybrid Connections: ids and descriptions a client makes the relay hold
/// are capped, and refused with a message naming the parameter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_ids_and_descriptions_are_refused_by_name() {
    timeout(LIMIT, async {
        let relay = Relay::serve(&[]).await;
        let hc = relay.hc();
        let long_id = "i".repeat(1000);
        match hc.listen("hc1", &long_id).await {
            Err(Refused::Status(400, why)) => {
                assert!(why.contains("sb-hc-id is 1000 bytes long"), "{why}")
            }
            other => panic!("{other:?}"),
        }
        let mut listener = hc.listen("hc1", "l").await.expect("listener");
        let sender = {
            let hc = hc.clone();
            tokio::spawn(async move { hc.send("hc1", "s").await })
        };
        let accept = next_accept(&mut listener, QUIET).await.expect("accept");
        assert_eq!(
            reject(&hc, &accept.address, 400, &"d".repeat(600)).await,
            400
        );
        // The address is still good: the refused reject did not use it.
        assert_eq!(reject(&hc, &accept.address, 400, "short").await, 410);
        let refused = sender.await.unwrap().expect_err("rejected");
        assert_eq!(refused, Refused::Status(400, "short".into()));
    })
    .await
    .expect("test within its limit");
}
