//! HTTP request mode, the sender's side: a plain HTTPS request to
//! `https://NAMESPACE/ENTITY[/suffix][?query]` (no `$hc`), its token in the
//! `ServiceBusAuthorization` or `Authorization` header or in `sb-hc-token` (protocol guide, "HTTP
//! request protocol"). Checked like a WebSocket sender (token, then entity), then handed to one
//! of the entity's listeners as a `request` message: with its body inline when the body is at
//! most 64 kB and its length is known, else only the address, the listener then opening a
//! rendezvous there to get the whole request, the body streamed ([`super::request_channel`]).
//! The listener's `response` (on the control channel or that rendezvous) becomes the HTTP
//! answer, with the service's `Via`.
//!
//! The service's own answers: no listener connected, 404 (the service's words; the guide's
//! table says 503, clients see 404); no answer within `--response-timeout`, 504; an answer
//! that is not valid (a malformed `response`, or 502/504 which only the service may give), 502.

use super::headers::{canonical, is_connection_header};
use crate::hc_state::answer::{refuse, NO_LISTENER};
use crate::hc_state::registry::NotDispatched;
use crate::hc_state::relayed::{Answer, ControlItem, ControlRequest, PendingRequest};
use crate::hc_state::target::authorize_sender;
use crate::hc_state::{shown, HcConfig};
use crate::response::Body;
use crate::state::ConnCtx;
use http::{header, HeaderMap, HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::ext::ReasonPhrase;
use relay_protocol::channel::{ECHO_PATH, HEALTHZ_PATH, STATS_PATH};
use relay_protocol::hc::{
    HcRequest, RequestMessage, AUTHORIZATION_HEADER, PATH_PREFIX, QUERY_PREFIX, QUERY_TOKEN,
};
use std::collections::BTreeMap;
use tokio::time::Instant;

/// Largest body sent inline on the control channel: "If the incoming request is larger than
/// 64 kB, ... the client MUST initiate a rendezvous handshake" (protocol guide).
pub(crate) const INLINE_BODY_BYTES: u64 = 64 * 1024;

/// Whether a request that is not a WebSocket handshake is for request mode: it carries a token,
/// or its first path segment names a configured (or anonymous) entity. The relay's own endpoints and `/$hc/`
/// never are.
pub(crate) fn is_request(req: &Request<Incoming>, config: &HcConfig) -> bool {
    let path = req.uri().path();
    if [HEALTHZ_PATH, ECHO_PATH, STATS_PATH].contains(&path)
        || path.starts_with(PATH_PREFIX)
        || path == "/"
    {
        return false;
    }
    let has_token = req.headers().contains_key(AUTHORIZATION_HEADER)
        || req.headers().contains_key(header::AUTHORIZATION)
        || req
            .uri()
            .query()
            .is_some_and(|q| q.split('&').any(|p| p.starts_with(QUERY_TOKEN)));
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    let named = config
        .entities
        .as_ref()
        .is_some_and(|list| list.iter().any(|e| e.as_str().eq_ignore_ascii_case(first)))
        || config
            .anonymous
            .iter()
            .any(|a| a.eq_ignore_ascii_case(first));
    has_token || named
}

pub(crate) async fn handle(req: Request<Incoming>, ctx: &ConnCtx) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let service = &ctx.shared.hc;
    let config = &service.config;
    let path = parts.uri.path();
    let query = parts.uri.query().unwrap_or("");
    // Read as the WebSocket handshakes are: the same path and query rules, the same checks.
    let as_hc = format!(
        "{}{}?{query}{}sb-hc-action=connect",
        PATH_PREFIX.trim_end_matches('/'),
        path,
        if query.is_empty() { "" } else { "&" }
    );
    let request = match HcRequest::parse(&as_hc) {
        Ok(request) => request,
        Err(e) => return refuse(e.http_status(), &e.to_string()),
    };
    let mut auth_headers = parts.headers.clone();
    if !auth_headers.contains_key(AUTHORIZATION_HEADER) {
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            auth_headers.insert(AUTHORIZATION_HEADER, value.clone());
        }
    }
    let target = match authorize_sender(&auth_headers, &request, config) {
        Ok(found) => found,
        Err(refusal) => return refusal.answer(),
    };
    let length = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let chunked = parts.headers.contains_key(header::TRANSFER_ENCODING);
    let (inline, streamed) = match (length, chunked) {
        (Some(0) | None, false) => (None, None),
        (Some(n), false) if n <= INLINE_BODY_BYTES => {
            let read = Limited::new(body, INLINE_BODY_BYTES as usize).collect();
            match tokio::time::timeout(ctx.shared.request_timeout, read).await {
                Ok(Ok(collected)) => (Some(collected.to_bytes()), None),
                Ok(Err(e)) => {
                    return refuse(400, &format!("the request body could not be read: {e}"))
                }
                Err(_) => return refuse(408, "the request body did not arrive in time"),
            }
        }
        _ => (None, Some(body)),
    };
    let has_body = inline.is_some() || streamed.is_some();
    let whole = |address: String, id: &str| RequestMessage {
        address: Some(address),
        id: Some(id.to_string()),
        request_target: Some(request_target(path, query)),
        method: Some(parts.method.to_string()),
        remote_endpoint: Some(ctx.peer.into()),
        request_headers: request_headers(&parts.headers),
        body: Some(has_body),
    };
    let (answer, answered) = Answer::new();
    let through_rendezvous = streamed.is_some();
    let dispatched = service.registry.dispatch_request(
        &target,
        request.id.as_deref(),
        |address, id| {
            let message = if through_rendezvous {
                RequestMessage {
                    address: Some(address),
                    id: Some(id.to_string()),
                    ..RequestMessage::default()
                }
            } else {
                whole(address, id)
            };
            ControlItem::Request(ControlRequest {
                message,
                body: inline.clone(),
                answer: answer.clone(),
            })
        },
        |address, id| PendingRequest {
            path_key: target.path_key(),
            created: Instant::now(),
            message: whole(address, id),
            body: streamed,
            answer: answer.clone(),
        },
    );
    let waiting = match dispatched {
        Ok(waiting) => waiting,
        Err(NotDispatched::NoListener) => return refuse(404, NO_LISTENER),
        Err(NotDispatched::Busy) => {
            return refuse(
                503,
                "Every listener of the hybrid connection has too many requests waiting.",
            )
        }
    };
    drop(answer);
    ctx.long_lived();
    let entity = shown(target.entity.as_str());
    tracing::info!(conn = ctx.id, %entity, id = %shown(&waiting.id), inline = !through_rendezvous, "request relayed");
    let answered = tokio::select! {
        biased;
        _ = ctx.shared.token.cancelled() => return refuse(503, "server shutting down"),
        answered = tokio::time::timeout(config.response_timeout, answered) => answered,
    };
    drop(waiting);
    match answered {
        Err(_) => refuse(
            504,
            "The request was routed to a listener, but the listener did not acknowledge receipt in the required time.",
        ),
        Ok(Err(_)) => refuse(502, "The listener went away before it answered."),
        Ok(Ok(Err(why))) => refuse(502, &format!("The listener's response was not valid: {why}")),
        Ok(Ok(Ok(answer))) => {
            tracing::info!(conn = ctx.id, %entity, status = answer.0.status_code, "request answered");
            http_answer(answer, &target.namespace.authority())
        }
    }
}

/// The request target as the listener sees it: the path, and the query without any `sb-hc-`
/// parameter (protocol guide, `requestTarget`).
pub(crate) fn request_target(path: &str, query: &str) -> String {
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.to_ascii_lowercase().starts_with(QUERY_PREFIX))
        .collect();
    if kept.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", kept.join("&"))
    }
}

/// The sender's headers for `requestHeaders`: all but those of RFC 7230 (`Via` excepted) and
/// the token's (protocol guide, `requestHeaders`). Repeated headers are joined with ", ".
pub(crate) fn request_headers(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let lower = name.as_str();
        let token = value.as_bytes().starts_with(b"SharedAccessSignature");
        if is_connection_header(lower)
            || lower.eq_ignore_ascii_case(AUTHORIZATION_HEADER)
            || (name == header::AUTHORIZATION && token)
        {
            continue;
        }
        let value = String::from_utf8_lossy(value.as_bytes());
        out.entry(canonical(lower))
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }
    out
}

/// The listener's answer as the sender's HTTP response: its status, reason phrase, headers
/// (RFC 7230 ones dropped, as the guide says they "MUST NOT be used") and body, plus the
/// service's `Via` naming the namespace.
fn http_answer(
    answer: (relay_protocol::hc::ResponseMessage, Body),
    namespace: &str,
) -> Response<Body> {
    let (response, body) = answer;
    let mut resp = Response::new(body);
    *resp.status_mut() =
        StatusCode::from_u16(response.status_code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Some(reason) = response.status_description.as_deref() {
        if let Ok(reason) = ReasonPhrase::try_from(reason.as_bytes().to_vec()) {
            resp.extensions_mut().insert(reason);
        }
    }
    let headers = resp.headers_mut();
    for (name, value) in &response.response_headers {
        if is_connection_header(&name.to_ascii_lowercase()) {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.append(name, value);
        }
    }
    if let Ok(via) = HeaderValue::from_str(&format!("1.1 {namespace}")) {
        headers.append(header::VIA, via);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn the_target_keeps_the_path_and_drops_sb_hc_parameters() {
        assert_eq!(request_target("/hc1/a/b", ""), "/hc1/a/b");
        assert_eq!(
            request_target("/hc1", "x=1&sb-hc-token=abc&SB-HC-ID=2&y=%20"),
            "/hc1?x=1&y=%20"
        );
    }

    #[test]
    fn request_headers_drop_rfc7230_ones_and_the_token() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("host", "ns.example"),
            ("content-length", "5"),
            ("connection", "keep-alive"),
            ("transfer-encoding", "chunked"),
            ("te", "trailers"),
            (
                "servicebusauthorization",
                "SharedAccessSignature sig=secret",
            ),
            ("authorization", "SharedAccessSignature sig=secret"),
            ("via", "1.1 proxy"),
            ("content-type", "text/plain"),
            ("x-app", "a"),
        ] {
            headers.append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        headers.append("x-app", HeaderValue::from_static("b"));
        let seen = request_headers(&headers);
        assert_eq!(
            seen.keys().map(String::as_str).collect::<Vec<_>>(),
            ["Content-Type", "Via", "X-App"]
        );
        assert_eq!(seen["X-App"], "a, b");
    }

    #[test]
    fn the_answer_carries_status_reason_headers_and_via() {
        let response = relay_protocol::hc::ResponseMessage {
            request_id: "1".into(),
            status_code: 418,
            status_description: Some("Short and stout".into()),
            response_headers: [
                ("X-Out".to_string(), "yes".to_string()),
                ("Transfer-Encoding".to_string(), "chunked".to_string()),
            ]
            .into(),
            body: true,
        };
        let resp = http_answer(
            (response, crate::response::full(Bytes::from_static(b"tea"))),
            "ns.example:443",
        );
        assert_eq!(resp.status(), 418);
        assert_eq!(
            resp.extensions().get::<ReasonPhrase>().unwrap().as_bytes(),
            b"Short and stout"
        );
        assert_eq!(resp.headers()["x-out"], "yes");
        assert!(!resp.headers().contains_key("transfer-encoding"));
        assert_eq!(resp.headers()["via"], "1.1 ns.example:443");
    }
}
