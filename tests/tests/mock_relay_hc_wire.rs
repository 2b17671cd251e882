//! mock-relay's Hybrid Connections against an independent client: `tests/hc_client.py`
//! implements the documented wire itself (SAS signing, URLs, control messages) with Python's
//! standard library and the `websockets` package, so the relay is checked against the public
//! documentation, not against this project's own protocol crate.

use e2e::python;
use e2e::relay::Relay;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Command;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(240);

/// Every scenario the script runs, each printed as `ok NAME` when it held.
const SCENARIOS: &[&str] = &[
    "accept_and_exchange",
    "reused_address",
    "reject",
    "refusals",
    "token_in_query_and_quota",
    "control_messages",
];

#[e2e::lab::needs(python3, websockets)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_independent_python_client_speaks_the_documented_wire() {
    let Some(python) = python::require_module("websockets", "python3-websockets") else {
        return;
    };
    timeout(LIMIT, async {
        let relay = Relay::serve(&[
            "--entity",
            "hc1",
            "--entity",
            "hc2",
            "--entity",
            "quota",
            "--sas-key",
            "bW9jay1yZWxheSB0ZXN0IGtleQ==",
        ])
        .await;
        let cs = relay.connection_string();
        assert_eq!(cs.entity_path(), None, "several entities: no EntityPath");
        let ca = relay.ca_file();
        let out = Command::new(&python)
            .arg(python::script("hc_client.py"))
            .args(["--connection-string", cs.expose().expose()])
            .args(["--ca", &ca])
            .args(["--entity", "hc1", "--other-entity", "hc2"])
            .args(["--unknown-entity", "nope", "--quota-entity", "quota"])
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output()
            .await
            .expect("run tests/hc_client.py");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let report = format!(
            "stdout:\n{stdout}\nstderr:\n{stderr}\nrelay logs:\n{}",
            relay.logs()
        );
        for scenario in SCENARIOS {
            assert!(
                stdout.lines().any(|l| l == format!("ok {scenario}")),
                "scenario {scenario} did not hold\n{report}"
            );
        }
        assert!(out.status.success(), "{report}");
        // The key went to the client on its command line, never into a log line.
        assert!(!relay.logs().contains("bW9jay1yZWxheSB0ZXN0IGtleQ=="));
    })
    .await
    .expect("test within its limit");
}
