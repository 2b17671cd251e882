//! Header names as the service passes them on: canonical capitalisation, and the RFC 7230
//! headers it never forwards (protocol guide, "Request message": `requestHeaders`).

/// Headers "defined or reserved in RFC7230, except `Via`": they relate to one hop only
/// (`Keep-Alive` and `Proxy-Connection` are dropped with them).
const CONNECTION_HEADERS: [&str; 10] = [
    "connection",
    "content-length",
    "host",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "close",
    "keep-alive",
    "proxy-connection",
];

/// Whether `name` (any case) is one of [`CONNECTION_HEADERS`].
pub(crate) fn is_connection_header(name: &str) -> bool {
    CONNECTION_HEADERS
        .iter()
        .any(|h| h.eq_ignore_ascii_case(name))
}

/// `sec-websocket-key` as `Sec-WebSocket-Key` (hyper keeps names in lower case).
pub(crate) fn canonical(name: &str) -> String {
    name.split('-')
        .map(|part| match part {
            "websocket" => "WebSocket".to_string(),
            _ => {
                let mut chars = part.chars();
                chars
                    .next()
                    .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                    .unwrap_or_default()
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_canonical_and_hop_headers_known() {
        assert_eq!(canonical("sec-websocket-key"), "Sec-WebSocket-Key");
        assert_eq!(canonical("x-trace-id"), "X-Trace-Id");
        assert!(is_connection_header("Transfer-Encoding"));
        assert!(!is_connection_header("via"));
    }
}
