//! `sb-hc-action=connect`: a sender. Checked like a listener (token, then entity); then handed
//! to one of the entity's listeners (an `accept` down its control channel), and answered only
//! once that listener has decided: 101 when it accepted (the connection then joins the
//! listener's rendezvous), the listener's status and description when it rejected, 504 when it
//! did neither within the accept timeout, 404 when no listener is connected.

use super::headers::canonical;
use crate::handshake::{first_protocol, switching_protocols_with, upgrade_required, websocket_key};
use crate::hc_state::answer::{refuse, FromListener, NOT_ACCEPTED_IN_TIME, NO_LISTENER};
use crate::hc_state::registry::{Decision, NotDispatched};
use crate::hc_state::target::authorize_sender;
use crate::hc_state::{shown, SenderEnd, Upgrade};
use crate::response::Body;
use crate::state::{ConnCtx, PendingUpgrade, UpgradeKind};
use http::{HeaderMap, Request, Response};
use hyper::body::Incoming;
use relay_protocol::hc::{HcRequest, AUTHORIZATION_HEADER};
use std::collections::BTreeMap;

/// Status for a sender no listener decided on in time: the service's own timeouts are 504
/// ("the service will return a 504 Gateway Timeout", protocol guide, HTTP requests), and the
/// .NET SDK reads 504 as a `TimeoutException`.
const TIMEOUT_STATUS: u16 = 504;

pub(crate) async fn handle(
    req: &mut Request<Incoming>,
    request: HcRequest,
    ctx: &ConnCtx,
) -> Response<Body> {
    let key = match websocket_key(req.method(), req.headers()) {
        Ok(key) => key,
        Err(why) => return upgrade_required(why),
    };
    let shared = &ctx.shared;
    let service = &shared.hc;
    let target = match authorize_sender(req.headers(), &request, &service.config) {
        Ok(found) => found,
        Err(refusal) => return refusal.answer(),
    };
    let dispatched = match service.registry.dispatch(
        &target,
        request.id.as_deref(),
        connect_headers(req.headers()),
        Some(ctx.peer.into()),
    ) {
        Ok(dispatched) => dispatched,
        Err(NotDispatched::NoListener) => return refuse(404, NO_LISTENER),
        Err(NotDispatched::Busy) => {
            return refuse(
                503,
                "Every listener of the hybrid connection has too many senders waiting.",
            )
        }
    };
    // A sender may wait long for its answer: the keep-alive timeout no longer applies.
    ctx.long_lived();
    shared.stats.accept_sent();
    let _gauge = shared.stats.sender_waiting();
    let entity = shown(target.entity.as_str());
    tracing::info!(conn = ctx.id, %entity, id = %shown(&dispatched.id), "sender waiting");
    let decided = tokio::select! {
        biased;
        _ = shared.token.cancelled() => return refuse(503, "server shutting down"),
        decided = tokio::time::timeout(service.config.accept_timeout, dispatched.decision) => decided,
    };
    // The address is good only while the sender waits.
    drop(dispatched.waiting);
    match decided {
        Err(_) => {
            tracing::info!(conn = ctx.id, %entity, id = %shown(&dispatched.id), "sender not accepted in time");
            refuse(TIMEOUT_STATUS, NOT_ACCEPTED_IN_TIME)
        }
        // The listener used the address wrongly (another entity, too late): no decision came.
        Ok(Err(_)) => refuse(502, "The listener's answer was not valid."),
        Ok(Ok(Decision::Reject(rejection))) => {
            tracing::info!(conn = ctx.id, %entity, id = %shown(&dispatched.id), status = rejection.status_code, "sender rejected");
            let mut resp = refuse(rejection.status_code, &rejection.description);
            resp.extensions_mut().insert(FromListener);
            resp
        }
        Ok(Ok(Decision::Accept(handover))) => {
            let protocol = first_protocol(req.headers());
            ctx.park(PendingUpgrade {
                on_upgrade: hyper::upgrade::on(req),
                kind: UpgradeKind::Hc(Upgrade::Sender(SenderEnd {
                    handover,
                    id: dispatched.id,
                })),
            });
            switching_protocols_with(&key, protocol.as_deref())
        }
    }
}

/// The sender's handshake headers as the listener sees them in `connectHeaders` ("all HTTP
/// headers that have been supplied to the Relay endpoint by the sender", protocol guide),
/// except its token. Repeated headers are joined with ", "; values that are not UTF-8 are
/// passed lossily.
fn connect_headers(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        if name.as_str().eq_ignore_ascii_case(AUTHORIZATION_HEADER) {
            continue;
        }
        let value = String::from_utf8_lossy(value.as_bytes());
        out.entry(canonical(name.as_str()))
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn connect_headers_keep_all_but_the_token() {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("relay.lab:8443"));
        headers.insert(
            "sec-websocket-key",
            HeaderValue::from_static("dGhlIHNhbXBsZSBub25jZQ=="),
        );
        headers.append("x-trace", HeaderValue::from_static("a"));
        headers.append("x-trace", HeaderValue::from_static("b"));
        headers.insert(
            "servicebusauthorization",
            HeaderValue::from_static("SharedAccessSignature sig=secret"),
        );
        let seen = connect_headers(&headers);
        assert_eq!(seen.get("Host").map(String::as_str), Some("relay.lab:8443"));
        assert!(seen.contains_key("Sec-WebSocket-Key"));
        assert_eq!(seen.get("X-Trace").map(String::as_str), Some("a, b"));
        assert!(!format!("{seen:?}").contains("secret"));
    }
}
