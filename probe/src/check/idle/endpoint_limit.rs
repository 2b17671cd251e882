//! What an HTTPS endpoint says about its own idle limit, read from its first answer: a server
//! that answers `Connection: close` (or HTTP/1.0 without keep-alive) ends every connection after
//! one answer; `Keep-Alive: timeout=N` says it closes idle ones after N seconds. Past that limit
//! an idle test measures the server, not the path, so the ladder stops short of it.

use crate::net::{path, NetContext};
use crate::seconds::Seconds;
use crate::target::Target;
use bytes::Bytes;
use http::{HeaderMap, Version};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::rt::TokioIo;

/// An endpoint's own limit on idle keep-alive connections.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EndpointLimit {
    /// It closes every connection after one answer.
    ClosesEachConnection,
    /// It closes connections idle this long.
    KeepAliveTimeout(Seconds),
}

/// The limit an answer's version and headers announce, if any.
pub fn announced(version: Version, headers: &HeaderMap) -> Option<EndpointLimit> {
    let tokens = |name: http::header::HeaderName| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|t| t.trim().to_ascii_lowercase())
            .collect::<Vec<_>>()
    };
    let connection = tokens(http::header::CONNECTION);
    let keeps_alive = match version {
        Version::HTTP_10 | Version::HTTP_09 => connection.iter().any(|t| t == "keep-alive"),
        _ => !connection.iter().any(|t| t == "close"),
    };
    if !keeps_alive {
        return Some(EndpointLimit::ClosesEachConnection);
    }
    tokens(http::header::HeaderName::from_static("keep-alive"))
        .iter()
        .filter_map(|t| t.split_once('='))
        .filter(|(k, _)| k.trim() == "timeout")
        .filter_map(|(_, n)| n.trim().trim_matches('"').parse::<f64>().ok())
        .find(|n| n.is_finite() && *n >= 0.0)
        .map(|n| EndpointLimit::KeepAliveTimeout(Seconds::from_f64(n)))
}

/// Asks the endpoint once, on a connection of its own, what limit it announces. `None` when it
/// announces none or the question could not be asked (the ladder then finds out for itself).
pub async fn discover(net: &NetContext, target: &Target) -> Option<EndpointLimit> {
    let ask = async {
        let opened = path::open_tls(net, target).await.ok()?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(opened.stream))
            .await
            .ok()?;
        let driver = tokio::spawn(conn);
        let request = http::Request::get(target.path.as_str())
            .header(http::header::HOST, target.host_header())
            .header(http::header::USER_AGENT, crate::net::USER_AGENT)
            .body(Empty::<Bytes>::new())
            .ok()?;
        let response = sender.send_request(request).await.ok()?;
        let limit = announced(response.version(), response.headers());
        // Only the head matters; a little of the body lets the server finish cleanly.
        let _ = Limited::new(response.into_body(), 64 * 1024)
            .collect()
            .await;
        driver.abort();
        limit
    };
    tokio::time::timeout(net.timeout, ask).await.ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, http::HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn reads_the_limits_servers_announce() {
        use EndpointLimit::*;
        let v11 = Version::HTTP_11;
        assert_eq!(announced(v11, &headers(&[])), None);
        assert_eq!(
            announced(v11, &headers(&[("connection", "Close")])),
            Some(ClosesEachConnection)
        );
        assert_eq!(
            announced(Version::HTTP_10, &headers(&[])),
            Some(ClosesEachConnection)
        );
        assert_eq!(
            announced(Version::HTTP_10, &headers(&[("connection", "keep-alive")])),
            None
        );
        assert_eq!(
            announced(v11, &headers(&[("keep-alive", "timeout=5, max=100")])),
            Some(KeepAliveTimeout(Seconds::new(5)))
        );
        assert_eq!(
            announced(
                v11,
                &headers(&[("keep-alive", "max=100, timeout = \"120\"")])
            ),
            Some(KeepAliveTimeout(Seconds::new(120)))
        );
        assert_eq!(
            announced(v11, &headers(&[("keep-alive", "timeout=soon")])),
            None
        );
    }
}
