//! Many held connections at once: 1,000 listener channels, each with its own push time, each
//! get exactly one push at their own N.

use e2e::relay::Relay;
use e2e::tls_client::*;
use relay_protocol::channel::{ServerMessage, Stats};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::timeout;

const CONNECTIONS: usize = 1000;
/// Handshakes in flight at once (keeps the accept queue and the 2-core CI machine calm).
const CONNECTING_AT_ONCE: usize = 64;
const LIMIT: Duration = Duration::from_secs(60);

/// N for connection `i`: 1.0 to 3.9 s in 0.1 s steps.
fn push_after(i: usize) -> f64 {
    1.0 + (i % 30) as f64 * 0.1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_held_connections_each_get_one_push_at_their_own_n() {
    timeout(LIMIT, async {
        let relay = Relay::serve(&[]).await;
        let ca = Arc::new(relay.ca_pem());
        let addr = relay.tls();
        let gate = Arc::new(Semaphore::new(CONNECTING_AT_ONCE));
        let started = tokio::time::Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..CONNECTIONS {
            let (ca, gate) = (ca.clone(), gate.clone());
            tasks.spawn(async move {
                let n = push_after(i);
                let id = format!("c{i}");
                let permit = gate.acquire().await.expect("gate");
                let mut ws = tls_channel(addr, &ca, &id).await;
                let held = hold(&mut ws, &id, n).await;
                drop(permit);
                let message = next_message(&mut ws, Duration::from_secs_f64(n + 3.0)).await;
                let at = held.elapsed();
                match message {
                    Ok(Some(ServerMessage::Push {
                        id: pushed, idle_s, ..
                    })) => {
                        assert_eq!(pushed, id);
                        assert!((idle_s - n).abs() <= 1.0, "{id}: idle_s {idle_s} for N {n}");
                    }
                    other => panic!("{id}: expected its push, got {other:?}"),
                }
                assert_near(at, n, &id);
                // Exactly one: nothing more follows.
                let more = next_message(&mut ws, Duration::from_millis(300)).await;
                assert_eq!(more, Ok(None), "{id}: a second message");
                (ws, at.as_secs_f64() - n)
            });
        }
        let mut channels = Vec::with_capacity(CONNECTIONS);
        let mut worst: f64 = 0.0;
        while let Some(result) = tasks.join_next().await {
            let (ws, late) = result.expect("connection task");
            worst = worst.max(late.abs());
            channels.push(ws);
        }
        let stats: Stats =
            serde_json::from_str(&https_get(addr, &ca, "/stats").await.unwrap().body).unwrap();
        assert_eq!(stats.pushes_sent, CONNECTIONS as u64);
        assert_eq!(stats.held_connections, 0);
        assert!(
            stats.open_connections > CONNECTIONS as u64,
            "all still open: {stats:?}"
        );
        eprintln!(
            "{CONNECTIONS} channels: all pushed in {:.1} s, worst push offset {worst:.3} s",
            started.elapsed().as_secs_f64()
        );
        drop(channels);
    })
    .await
    .expect("test within its limit");
}

/// The load test's own run, small (the full one is tests/load/mock_relay.sh): idle and garbage
/// clients of every kind while `/healthz` is checked; health keeps answering, and what the
/// clients used is given back once they are gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_through_idle_and_garbage_clients_and_memory_comes_back() {
    use e2e::relay_load::{run, LoadConfig};
    timeout(Duration::from_secs(90), async {
        let relay = Relay::serve(&["--handshake-timeout", "2", "--request-timeout", "2"]).await;
        let config = LoadConfig {
            target: relay.hc(),
            pid: relay.pid(),
            clients: 300,
            during: Duration::from_secs(5),
            settle: Duration::from_secs(3),
            health_every: Duration::from_millis(100),
        };
        let report = run(&config).await;
        eprintln!("{report}");
        for phase in [&report.before, &report.during, &report.after] {
            assert_eq!(
                phase.failures, 0,
                "a health check went unanswered:\n{report}"
            );
            assert!(phase.checks > 0);
        }
        assert!(report.during.p50_ms < 1000.0, "{report}");
        let during = report.during.stats.clone().expect("stats during");
        assert!(
            during.hc_listeners > 0 && during.open_connections > 100,
            "{report}"
        );
        let after = report.after.stats.clone().expect("stats after");
        assert_eq!(after.hc_listeners, 0, "{report}");
        assert!(after.open_connections <= 2, "{report}");
        let (before, after) = (
            report.before.memory.expect("memory"),
            report.after.memory.expect("memory"),
        );
        assert!(
            after.rss_mib() - before.rss_mib() < 32.0,
            "RSS {:.1} MiB after, {:.1} MiB before\n{report}",
            after.rss_mib(),
            before.rss_mib()
        );
    })
    .await
    .expect("test within its limit");
}
