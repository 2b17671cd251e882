//! Microsoft's `hyco-https` 1.4.5, unchanged, as mock-relay's conformance suite for HTTP
//! request mode (see `e2e::hyco`): a hyco-https listener, and senders using Node's own `https`
//! client at `https://NAMESPACE/ENTITY/...` with a `ServiceBusAuthorization` header, driven by
//! `tests/hyco/https_case.js`. Each test names the behaviour it proves.
//!
//! hyco-https's own quirks, worked around in the test script, never in mock-relay: it reads a
//! request body as exactly one WebSocket message (the relay sends one, fragmented), and it
//! decides between the control channel and a rendezvous by its buffered output only (a
//! response over 64 kB always goes through a rendezvous, as the guide requires).

use e2e::hyco::{self, HycoLab};
use serde_json::Value;

fn run(case: &str, extra: &[&str]) -> Option<(Value, String)> {
    if !hyco::available() {
        return None;
    }
    let lab = HycoLab::start(extra);
    let result = lab.run("https_case.js", case, &[]);
    assert!(
        result.get("timedOut").is_none(),
        "the case ran out of time: {result}"
    );
    Some((result, lab.relay_log()))
}

/// The JSON the listener's `/echo` answered with.
fn echoed(response: &Value) -> Value {
    serde_json::from_str(
        response["text"]
            .as_str()
            .unwrap_or_else(|| panic!("{response}")),
    )
    .unwrap_or_else(|e| panic!("{e}: {response}"))
}

#[e2e::lab::needs(lab, node, hyco)]
#[test]
fn get_reaches_the_listener_with_path_query_and_headers_and_the_answer_comes_back() {
    let Some((result, log)) = run("get", &[]) else {
        return;
    };
    let response = &result["response"];
    assert_eq!(response["status"], 200, "{result}");
    assert_eq!(
        response["headers"]["via"], "1.1 hycolab.servicebus.windows.net",
        "{result}"
    );
    let seen = echoed(response);
    assert_eq!(seen["method"], "GET");
    assert_eq!(seen["url"], "/hc1/echo/a%20b?x=1&y=two");
    assert_eq!(seen["headers"]["x-custom"], "from-sender");
    assert!(
        seen["headers"].get("servicebusauthorization").is_none(),
        "{seen}"
    );
    assert!(seen["headers"].get("host").is_none(), "{seen}");
    assert!(!log.contains("request rendezvous"), "{log}");
}

#[e2e::lab::needs(lab, node, hyco)]
#[test]
fn a_post_body_below_64_kb_goes_inline_on_the_control_channel() {
    let Some((result, log)) = run("post_small", &[]) else {
        return;
    };
    let seen = echoed(&result["response"]);
    assert_eq!(seen["bodyLength"], result["sentLength"], "{result}");
    assert_eq!(seen["bodySha"], result["sentSha"], "{result}");
    assert!(!log.contains("request rendezvous"), "{log}");
}

#[e2e::lab::needs(lab, node, hyco)]
#[test]
fn a_post_body_above_64_kb_goes_through_a_request_rendezvous_streamed() {
    let Some((result, log)) = run("post_large", &[]) else {
        return;
    };
    let seen = echoed(&result["response"]);
    assert_eq!(seen["bodyLength"], 300 * 1024, "{result}");
    assert_eq!(seen["bodySha"], result["sentSha"], "{result}");
    assert!(log.contains("request rendezvous: answered 200"), "{log}");
}

#[e2e::lab::needs(lab, node, hyco)]
#[test]
fn a_response_above_64_kb_comes_back_through_a_rendezvous() {
    let Some((result, log)) = run("response_large", &[]) else {
        return;
    };
    let response = &result["response"];
    assert_eq!(response["status"], 200, "{result}");
    assert_eq!(response["length"], 500 * 1024, "{result}");
    assert_eq!(response["sha"], result["wantSha"], "{result}");
    assert!(log.contains("request rendezvous: answered 200"), "{log}");
}

#[e2e::lab::needs(lab, node, hyco)]
#[test]
fn the_listeners_status_reason_phrase_and_headers_reach_the_sender() {
    let Some((result, _)) = run("status", &[]) else {
        return;
    };
    let response = &result["response"];
    assert_eq!(response["status"], 418, "{result}");
    assert_eq!(response["reason"], "Short and stout", "{result}");
    assert_eq!(response["headers"]["x-from-listener"], "yes", "{result}");
    assert_eq!(
        response["headers"]["content-type"], "text/plain",
        "{result}"
    );
    assert_eq!(response["text"], "teapot", "{result}");
}

#[e2e::lab::needs(lab, node, hyco)]
#[test]
fn a_response_written_in_chunks_arrives_whole() {
    let Some((result, _)) = run("chunked", &[]) else {
        return;
    };
    assert_eq!(result["response"]["status"], 200, "{result}");
    assert_eq!(result["response"]["text"], "one,two,three", "{result}");
}

#[e2e::lab::needs(lab, node, hyco)]
#[test]
fn twenty_concurrent_requests_each_get_their_own_answer() {
    let Some((result, _)) = run("concurrent", &[]) else {
        return;
    };
    let statuses = result["statuses"].as_array().expect("statuses");
    assert_eq!(statuses.len(), 20, "{result}");
    assert!(statuses.iter().all(|s| s == 200), "{result}");
    let urls = result["urls"].as_array().expect("urls");
    assert_eq!(urls.len(), 20, "{result}");
    for (i, url) in urls.iter().enumerate() {
        assert_eq!(url, &format!("/hc1/echo?i={i}"), "{result}");
    }
}

#[e2e::lab::needs(lab, node, hyco)]
#[test]
fn a_listener_that_does_not_answer_in_time_gives_the_sender_504() {
    let Some((result, _)) = run("silent", &["--response-timeout", "2"]) else {
        return;
    };
    let response = &result["response"];
    assert_eq!(response["status"], 504, "{result}");
    assert!(
        response["reason"]
            .as_str()
            .unwrap_or("")
            .contains("did not acknowledge"),
        "{result}"
    );
    assert!(
        response["headers"].get("via").is_none(),
        "the service's own answer: {result}"
    );
}

#[e2e::lab::needs(lab, node, hyco)]
#[test]
fn a_request_with_no_listener_connected_gets_404() {
    let Some((result, _)) = run("no_listener", &[]) else {
        return;
    };
    let response = &result["response"];
    assert_eq!(response["status"], 404, "{result}");
    let reason = response["reason"].as_str().unwrap_or("");
    assert!(
        reason.starts_with("There are no listeners connected for the endpoint. TrackingId:"),
        "{result}"
    );
    assert!(
        reason.contains(", SystemTracker:sb://hycolab.servicebus.windows.net/hc1/echo, Timestamp:"),
        "the service's tracking suffix: {result}"
    );
}

#[e2e::lab::needs(lab, node, hyco)]
#[test]
fn the_token_may_come_in_the_sb_hc_token_query_parameter_and_is_not_passed_on() {
    let Some((result, _)) = run("token_in_query", &[]) else {
        return;
    };
    assert_eq!(result["response"]["status"], 200, "{result}");
    let seen = echoed(&result["response"]);
    assert_eq!(seen["url"], "/hc1/echo?x=1", "{seen}");
}

#[e2e::lab::needs(lab, node, hyco)]
#[test]
fn a_malformed_response_gives_the_sender_502_naming_what_is_wrong() {
    let Some((result, _)) = run("malformed", &[]) else {
        return;
    };
    let response = &result["response"];
    assert_eq!(response["status"], 502, "{result}");
    let reason = response["reason"].as_str().unwrap_or("");
    assert!(
        reason.starts_with(
            "The listener's response was not valid: control message response.statusCode"
        ),
        "{result}"
    );
    assert!(
        response["headers"].get("via").is_none(),
        "the service's own answer: {result}"
    );
}

#[e2e::lab::needs(lab, node, hyco)]
#[test]
fn a_request_without_a_token_reaches_an_anonymous_entity_and_is_refused_401_elsewhere() {
    let Some((open, _)) = run("no_token", &["--anonymous", "hc1"]) else {
        return;
    };
    assert_eq!(open["response"]["status"], 200, "{open}");
    let Some((closed, _)) = run("no_token", &[]) else {
        return;
    };
    assert_eq!(closed["response"]["status"], 401, "{closed}");
}
