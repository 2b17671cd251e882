//! Microsoft's `hyco-ws` 1.0.5, unchanged, as mock-relay's conformance suite for relayed
//! WebSockets (see `e2e::hyco`): each test names the behaviour it proves, driven by
//! `tests/hyco/ws_case.js`.
//!
//! hyco-ws's own bugs, which break these cases on the real service too, are worked around
//! here, never in mock-relay:
//! - its listener renews its token every hour, fixed (`moment.duration(1, 'hours')`): the
//!   renewal case scales that hour down to a second in the test script;
//! - it reconnects a closed or failed control channel at once, on `error` and again on
//!   `close`, with no backoff: while the relay is down it opens connections in a tight loop,
//!   so the restart case restarts the relay at once;
//! - `createRelayedServer({id})` throws (`listenUri` is undefined) and its reject path calls an
//!   undefined `WebSocketClient` with `statusCode` instead of `sb-hc-statusCode`: no case uses
//!   an id or a listener-side reject;
//! - `relayedConnect` cannot ask for a subprotocol: the subprotocol case opens the sender with
//!   the `ws` client hyco-ws exports, and the token in the same header.

use e2e::hyco::{self, HycoLab};
use serde_json::{json, Value};

fn lab(extra: &[&str]) -> Option<HycoLab> {
    hyco::available().then(|| HycoLab::start(extra))
}

fn finished(result: &Value) {
    assert!(
        result.get("timedOut").is_none(),
        "the case ran out of time: {result}"
    );
}

#[e2e::lab::needs(lab, node, hyco)]
#[test]
fn text_and_binary_messages_from_1_byte_to_1_mib_cross_both_ways_all_in_flight() {
    let Some(lab) = lab(&[]) else { return };
    let result = lab.run("ws_case.js", "messages", &[]);
    finished(&result);
    assert_eq!(result["sizes"], json!([1, 1024, 65536, 204800, 1048576]));
    assert_eq!(
        (result["sent"].as_u64(), result["echoed"].as_u64()),
        (Some(10), Some(10)),
        "{result}"
    );
    assert_eq!(result["mismatches"], json!([]), "{result}");
}

#[e2e::lab::needs(lab, node, hyco)]
#[test]
fn the_first_requested_subprotocol_is_what_sender_and_listener_get() {
    let Some(lab) = lab(&[]) else { return };
    let result = lab.run("ws_case.js", "subprotocol", &[]);
    finished(&result);
    assert_eq!(result["senderProtocol"], "chat.v2", "{result}");
    assert_eq!(result["listenerProtocol"], "chat.v2", "{result}");
    assert_eq!(result["reply"], "listener got hello on chat.v2", "{result}");
}

fn refused(case: &str) -> Value {
    let Some(lab) = lab(&[]) else {
        return json!({ "skipped": true });
    };
    let result = lab.run("ws_case.js", case, &[]);
    finished(&result);
    assert_eq!(result["opened"], false, "{result}");
    result
}

#[e2e::lab::needs(lab, node, hyco)]
#[test]
fn a_sender_with_no_listener_connected_is_refused_404() {
    let result = refused("no_listener");
    if result.get("skipped").is_none() {
        assert_eq!(result["status"], 404, "{result}");
    }
}

#[e2e::lab::needs(lab, node, hyco)]
#[test]
fn a_sender_to_an_entity_that_does_not_exist_is_refused_404() {
    let result = refused("unknown_entity");
    if result.get("skipped").is_none() {
        assert_eq!(result["status"], 404, "{result}");
    }
}

#[e2e::lab::needs(lab, node, hyco)]
#[test]
fn a_sender_signed_with_a_wrong_key_is_refused_401() {
    let result = refused("wrong_key");
    if result.get("skipped").is_none() {
        assert_eq!(result["status"], 401, "{result}");
    }
}

#[e2e::lab::needs(lab, node, hyco)]
#[test]
fn a_sender_with_an_expired_token_is_refused_401() {
    let result = refused("expired_token");
    if result.get("skipped").is_none() {
        assert_eq!(result["status"], 401, "{result}");
    }
}

#[e2e::lab::needs(lab, node, hyco)]
#[test]
fn renew_token_keeps_a_listener_past_its_first_tokens_life() {
    let Some(lab) = lab(&[]) else { return };
    // Tokens of 3 s renewed every second; the sender comes at 6 s.
    let result = lab.run(
        "ws_case.js",
        "renew",
        &[("HYCO_TOKEN_S", "3"), ("HYCO_RENEW_S", "1")],
    );
    finished(&result);
    assert_eq!(result["reply"], "echo after 6 s", "{result}");
    assert_eq!(
        result["listening"], 1,
        "the control channel was never closed: {result}"
    );
    assert!(result["tokens"].as_u64() >= Some(4), "{result}");
    let log = lab.relay_log();
    assert!(log.contains("listener token renewed"), "{log}");
    assert!(!log.contains("listener token expired"), "{log}");
}

#[e2e::lab::needs(lab, node, hyco)]
#[test]
fn a_listener_whose_token_expires_unrenewed_is_closed_1008_and_hyco_ws_reconnects() {
    let Some(lab) = lab(&[]) else { return };
    // Tokens of 3 s never renewed: the first listener is closed at 3 s and hyco-ws reconnects
    // with a fresh token, which expires in its turn about 3 s later. The sender comes at 4.5 s,
    // between the two expiries (at 6 s it raced the second one and found no listener on a
    // loaded machine).
    let result = lab.run(
        "ws_case.js",
        "renew",
        &[
            ("HYCO_TOKEN_S", "3"),
            ("HYCO_RENEW_S", "3600"),
            ("HYCO_SEND_AT_S", "4.5"),
        ],
    );
    finished(&result);
    assert!(
        result["listening"].as_u64() >= Some(2),
        "closed at expiry, then back: {result}"
    );
    assert_eq!(result["reply"], "echo after 4.5 s", "{result}");
    let log = lab.relay_log();
    assert!(log.contains("listener token expired"), "{log}");
}

#[e2e::lab::needs(lab, node, hyco)]
#[test]
fn a_listener_reconnects_after_mock_relay_restarts_and_is_reachable_again() {
    let Some(mut lab) = lab(&[]) else { return };
    let mut listener = lab.spawn("ws_case.js", "reconnect", &[]);
    listener.wait_log(
        r#""event":"listening","n":1"#,
        std::time::Duration::from_secs(20),
    );
    lab.restart_relay();
    let output = listener.wait_exit(std::time::Duration::from_secs(40));
    let result = hyco::last_json(&output).unwrap_or_else(|| panic!("no result: {output}"));
    finished(&result);
    assert!(result["listening"].as_u64() >= Some(2), "{result}");
    assert_eq!(result["reply"], "after the restart", "{result}");
}

#[e2e::lab::needs(lab, node, hyco)]
#[test]
fn the_senders_path_suffix_and_query_reach_the_listener_in_the_accept_address() {
    let Some(lab) = lab(&[]) else { return };
    let result = lab.run("ws_case.js", "suffix_query", &[]);
    finished(&result);
    assert_eq!(result["reply"], "got x", "{result}");
    let address = result["address"]
        .as_str()
        .unwrap_or_else(|| panic!("{result}"));
    assert!(
        address.starts_with("wss://hycolab.servicebus.windows.net:443/$hc/hc1/orders/42?tenant=a%20b&sb-hc-action=accept&sb-hc-id="),
        "{address}"
    );
}

#[e2e::lab::needs(lab, node, hyco)]
#[test]
fn a_sender_without_a_token_reaches_an_anonymous_entity() {
    let Some(lab) = lab(&["--anonymous", "hc1"]) else {
        return;
    };
    let result = lab.run("ws_case.js", "anonymous", &[]);
    finished(&result);
    assert_eq!(result["reply"], "no token", "{result}");
}

#[e2e::lab::needs(lab, node, hyco)]
#[test]
fn a_sender_without_a_token_is_refused_401_elsewhere() {
    let Some(lab) = lab(&[]) else { return };
    let result = lab.run("ws_case.js", "anonymous", &[]);
    finished(&result);
    assert!(
        result["error"].as_str().unwrap_or("").contains("(401)"),
        "{result}"
    );
}

#[e2e::lab::needs(lab, node, hyco)]
#[test]
fn a_client_from_a_filtered_address_is_refused_401_as_the_ip_filter_does() {
    let Some(lab) = lab(&["--deny-ip", "127.0.0.0/8"]) else {
        return;
    };
    let result = lab.run("ws_case.js", "no_listener", &[]);
    finished(&result);
    assert_eq!(result["status"], 401, "{result}");
    let log = lab.relay_log();
    assert!(log.contains("ip filter"), "{log}");
}

#[e2e::lab::needs(lab, node, hyco)]
#[test]
fn with_a_gateway_the_accept_address_names_it_and_the_rendezvous_goes_through_it() {
    let Some(lab) = lab(&["--gateway", hyco::GATEWAY]) else {
        return;
    };
    let result = lab.run("ws_case.js", "suffix_query", &[]);
    finished(&result);
    assert_eq!(result["reply"], "got x", "{result}");
    let address = result["address"]
        .as_str()
        .unwrap_or_else(|| panic!("{result}"));
    assert!(
        address.starts_with(&format!("wss://{}:443/$hc/hc1/orders/42?", hyco::GATEWAY)),
        "{address}"
    );
}

#[e2e::lab::needs(lab, node, hyco)]
#[test]
fn a_frame_over_the_frame_limit_closes_its_senders_side_1009() {
    // hyco-ws sends each message as one frame: the 64 KiB text (more bytes than characters)
    // is over a 64 KiB limit. All ten are in flight at once, so how many echoes came back before
    // the close is a race: never all of them.
    let Some(lab) = lab(&["--hc-frame-limit", "65536"]) else {
        return;
    };
    let result = lab.run("ws_case.js", "messages", &[]);
    finished(&result);
    assert_eq!(result["closed"], 1009, "{result}");
    assert!(result["echoed"].as_u64() < Some(10), "{result}");
    let log = lab.relay_log();
    assert!(log.contains("over the limit of 65536"), "{log}");
}
