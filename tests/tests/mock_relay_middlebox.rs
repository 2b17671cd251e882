//! The middlebox in each of its modes, between a rustls WebSocket client and a real
//! mock-relay: what the client sees at the idle timeout, within one second of S.

use e2e::relay::Relay;
use e2e::tls_client::*;
use relay_protocol::channel::{ClientMessage, ServerMessage};
use std::time::Duration;
use tokio::time::{timeout, Instant};

const LIMIT: Duration = Duration::from_secs(30);

/// A relay, and a middlebox in front of it with `args`.
async fn path(args: &[&str]) -> (Relay, Relay) {
    let relay = Relay::serve(&[]).await;
    let middlebox = Relay::middlebox(relay.tls(), args).await;
    assert_eq!(middlebox.addrs.upstream, Some(relay.tls()));
    (relay, middlebox)
}

async fn idle_ending(mode: &str, s: &str) -> (Ending, Duration, Relay, Relay) {
    let (relay, middlebox) = path(&["--idle-timeout", s, "--on-idle", mode]).await;
    let mut ws = tls_channel(middlebox.middlebox_addr(), &relay.ca_pem(), "mb").await;
    let held = hold(&mut ws, "far", 60.0).await;
    let (ending, after) = wait_for_end(&mut ws, held, Duration::from_secs(6)).await;
    eprintln!(
        "middlebox --on-idle {mode} --idle-timeout {s}: {ending:?} after {:.3} s",
        after.as_secs_f64()
    );
    (ending, after, relay, middlebox)
}

#[tokio::test]
async fn reset_mode_resets_the_client_after_s() {
    timeout(LIMIT, async {
        let (ending, after, relay, middlebox) = idle_ending("reset", "2").await;
        assert_eq!(ending, Ending::Reset);
        assert_near(after, 2.0, "RST");
        middlebox
            .wait_for_log(&["closed", "idle reset after"], STEP)
            .await;
        // The relay's side was reset too.
        relay.wait_for_log(&["closed", "reason="], STEP).await;
    })
    .await
    .expect("test within its limit");
}

#[tokio::test]
async fn fin_mode_closes_without_tls_close_notify_after_s() {
    timeout(LIMIT, async {
        let (ending, after, _relay, middlebox) = idle_ending("fin", "1.5").await;
        assert_eq!(ending, Ending::FinWithoutCloseNotify);
        assert_near(after, 1.5, "FIN");
        middlebox
            .wait_for_log(&["closed", "idle fin after"], STEP)
            .await;
    })
    .await
    .expect("test within its limit");
}

#[tokio::test]
async fn drop_mode_goes_silent_after_s_and_a_push_never_arrives() {
    timeout(LIMIT, async {
        let (relay, middlebox) = path(&["--idle-timeout", "2", "--on-idle", "drop"]).await;
        let mut ws = tls_channel(middlebox.middlebox_addr(), &relay.ca_pem(), "mb").await;
        // Before the timeout, a push comes through.
        let held = hold(&mut ws, "early", 1.0).await;
        assert!(matches!(
            next_message(&mut ws, Duration::from_secs(3)).await,
            Ok(Some(ServerMessage::Push { .. }))
        ));
        assert_near(held.elapsed(), 1.0, "push through the middlebox");
        // A push due after the timeout is lost, the echo too, and nothing closes.
        let held = hold(&mut ws, "late", 3.0).await;
        let (ending, _) = wait_for_end(&mut ws, held, Duration::from_secs_f64(2.5)).await;
        assert_eq!(ending, Ending::Silent);
        send(&mut ws, &ClientMessage::Echo { id: "e".into() }).await;
        let (ending, _) = wait_for_end(&mut ws, held, Duration::from_secs(2)).await;
        assert_eq!(
            ending,
            Ending::Silent,
            "neither the push nor the echo came back"
        );
        relay.wait_for_log(&["pushed", "id=late"], STEP).await;
        let line = middlebox
            .wait_for_log(&["idle timeout", "action=drop"], STEP)
            .await;
        assert!(line.contains("idle_s="), "{line}");
        assert!(
            !middlebox.logs().contains("closed conn=1"),
            "sockets held open"
        );
    })
    .await
    .expect("test within its limit");
}

#[tokio::test]
async fn delay_adds_latency_in_each_direction() {
    timeout(LIMIT, async {
        let (relay, middlebox) = path(&[
            "--idle-timeout",
            "30",
            "--on-idle",
            "reset",
            "--delay-ms",
            "250",
        ])
        .await;
        let mut ws = tls_channel(middlebox.middlebox_addr(), &relay.ca_pem(), "slow").await;
        let mut direct = tls_channel(relay.tls(), &relay.ca_pem(), "fast").await;
        // Through the middlebox 250 ms each way: at least 0.5 s; directly, under that.
        let slow_max = e2e::slack::late(Duration::from_secs(2)).as_secs_f64();
        for (ws, min, max) in [(&mut ws, 0.5, slow_max), (&mut direct, 0.0, 0.5)] {
            let started = Instant::now();
            send(ws, &ClientMessage::Echo { id: "rtt".into() }).await;
            assert!(matches!(
                next_message(ws, STEP).await,
                Ok(Some(ServerMessage::Echo { .. }))
            ));
            let rtt = started.elapsed().as_secs_f64();
            assert!(
                (min..max).contains(&rtt),
                "echo round trip {rtt} s not in {min}..{max}"
            );
        }
    })
    .await
    .expect("test within its limit");
}

#[tokio::test]
async fn traffic_keeps_the_middlebox_from_acting() {
    timeout(LIMIT, async {
        let (relay, middlebox) = path(&["--idle-timeout", "1.5", "--on-idle", "reset"]).await;
        let mut ws = tls_channel(middlebox.middlebox_addr(), &relay.ca_pem(), "busy").await;
        for i in 0..4 {
            tokio::time::sleep(Duration::from_millis(900)).await;
            send(
                &mut ws,
                &ClientMessage::Echo {
                    id: format!("e{i}"),
                },
            )
            .await;
            assert!(
                matches!(
                    next_message(&mut ws, STEP).await,
                    Ok(Some(ServerMessage::Echo { .. }))
                ),
                "echo {i}"
            );
        }
        let last = Instant::now();
        let (ending, after) = wait_for_end(&mut ws, last, Duration::from_secs(5)).await;
        assert_eq!(ending, Ending::Reset);
        assert_near(after, 1.5, "RST after the last echo");
    })
    .await
    .expect("test within its limit");
}
