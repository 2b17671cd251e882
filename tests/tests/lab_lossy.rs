//! The idle verdict on a lossy path: the router's firewall resets connections idle for T, and
//! drops a few percent of every packet both ways, as a branch office's WAN does. However the
//! losses fall, every connection well below T survives, the bracket holds T and is never
//! inverted, and nothing below T is called a cut: a lost segment is not a firewall.

use e2e::lab::{self, firewall, probe, MockRelay, Topology};
use e2e::probe_cli::ProbeRun;
use std::net::SocketAddr;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);
/// The firewall's idle timeout.
const T: f64 = 6.0;

async fn lossy_runs(percent: u8, runs: usize) {
    if !lab::require(&["nft"]) {
        return;
    }
    let topo = Topology::new();
    topo.apply(&[
        firewall::reset_after(Duration::from_secs_f64(T)),
        firewall::loss(percent),
    ]);
    let relay = MockRelay::start(
        &topo.server_site(),
        SocketAddr::from((topo.server_ip, 443)),
        &["--hostname", "relay.lab.test"],
    );
    let target = "relay://relay.lab.test:443";
    let resolve = format!("relay.lab.test:443:{}", topo.server_ip);
    let ca = relay.ca_path.display().to_string();
    for n in 1..=runs {
        let run = probe::run(
            &topo.client_site(),
            &[
                "run",
                "--target",
                target,
                "--resolve",
                &resolve,
                "--ca-file",
                &ca,
                "--format",
                "json",
                "--timeout",
                "5",
                "--idle",
                "4",
                "--idle-min",
                "1",
                "--idle-max",
                "9",
                "--idle-step",
                "1",
            ],
            LIMIT,
        )
        .await;
        let context = format!(
            "run {n} at {percent} % loss\n{}\n{}",
            firewall::listing(&topo.router),
            run.stderr
        );
        assert_consistent(&run, &context);
    }
}

fn assert_consistent(run: &ProbeRun, context: &str) {
    let json = run.json();
    let idle = &json["targets"][0]["idle"];
    assert!(
        idle.is_object(),
        "no idle report: {}\n{context}",
        run.stdout
    );
    let survived = idle["survived_s"].as_f64();
    let failed = idle["failed_s"].as_f64();
    if let (Some(s), Some(f)) = (survived, failed) {
        assert!(s < f, "inverted bracket [{s}, {f}]: {idle:#}\n{context}");
    }
    let failed =
        failed.unwrap_or_else(|| panic!("the cut at {T} s was not seen: {idle:#}\n{context}"));
    assert!(
        (T - 1.0..=T + 2.0).contains(&failed),
        "the first failure ({failed} s) is not at the cut ({T} s): {idle:#}\n{context}"
    );
    let survived = survived.unwrap_or_default();
    assert!(
        survived >= T - 2.0,
        "connections below the cut did not survive ({survived} s): {idle:#}\n{context}"
    );
    // Every connection well below the cut survived in every direction.
    for p in idle["probes"].as_array().unwrap() {
        if p["idle_s"].as_f64().unwrap() <= T - 2.0 {
            assert_eq!(
                p["outcome"], "survived",
                "a connection well below the cut was called dead: {p}\n{idle:#}\n{context}"
            );
        }
    }
    // The required 4 s is well below the cut: the path passes.
    assert_eq!(idle["verdict"], "pass", "{idle:#}\n{context}");
}

#[e2e::lab::needs(lab, nft)]
#[tokio::test]
async fn eight_percent_loss_never_inverts_the_bracket_over_repeated_runs() {
    lossy_runs(8, 3).await;
}

#[e2e::lab::needs(lab, nft)]
#[tokio::test]
async fn twelve_percent_loss_still_brackets_the_cut() {
    lossy_runs(12, 1).await;
}
