//! One plain-HTTP GET (port 80 by default), directly or through the proxy in absolute form, as
//! Windows fetches CRLs and OCSP answers. Used to prove revocation endpoints are reachable.

use super::body::drain;
use super::connect;
use super::io::Io;
use super::NetContext;
use crate::outcome::{Failure, Outcome};
use bytes::Bytes;
use http_body_util::Empty;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The most of an answer's body read after its head (the rest is never read).
const DRAIN_LIMIT: u64 = 64 * 1024;

/// What a GET got.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub status: u16,
    pub elapsed: Duration,
}

/// GETs `url` (http:// only) within `ctx.timeout` for each phase.
pub async fn get(ctx: &NetContext, url: &str) -> Result<Fetched, Failure> {
    let started = Instant::now();
    let parsed = url::Url::parse(url)
        .map_err(|e| Failure::new(Outcome::ProtocolError, format!("not a URL: {e}")))?;
    if parsed.scheme() != "http" {
        return Err(Failure::new(
            Outcome::Skipped,
            format!("{} URLs are not fetched", parsed.scheme()),
        ));
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| Failure::new(Outcome::ProtocolError, "no host"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = parsed.port_or_known_default().unwrap_or(80);
    let proxy = ctx.proxy.for_host(&host);
    let (hop_host, hop_port) = match proxy {
        Some(p) => (p.host.clone(), p.port),
        None => (host.clone(), port),
    };
    let resolution = tokio::time::timeout(ctx.timeout, ctx.resolver.resolve(&hop_host, hop_port))
        .await
        .map_err(|_| Failure::new(Outcome::Timeout, format!("resolving {hop_host} timed out")))?
        .map_err(|e| Failure::new(e.outcome(), format!("{hop_host} does not resolve: {e}")))?;
    let addrs: Vec<SocketAddr> = resolution
        .addresses
        .iter()
        .map(|ip| SocketAddr::new(*ip, hop_port))
        .collect();
    let (_, stream) = connect::connect_first(&addrs, ctx.timeout, &ctx.socket)
        .await
        .map_err(|last| match last {
            Some((addr, f)) => Failure::new(f.outcome(), format!("{addr}: {f}")),
            None => Failure::new(Outcome::Unreachable, "no address".to_string()),
        })?;
    let io: Io = Box::new(stream);
    // Through a proxy, plain HTTP goes in absolute form; directly, in origin form.
    let target = match proxy {
        Some(_) => url.to_string(),
        None => match parsed.query() {
            Some(q) => format!("{}?{q}", parsed.path()),
            None => parsed.path().to_string(),
        },
    };
    let host_header = match parsed.port() {
        Some(p) => format!("{}:{p}", parsed.host_str().unwrap_or_default()),
        None => parsed.host_str().unwrap_or_default().to_string(),
    };
    let exchange = async {
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
            .await
            .map_err(|e| Failure::new(crate::net::ending::hyper_outcome(&e), e.to_string()))?;
        let driver = tokio::spawn(conn);
        let request = http::Request::get(target)
            .header(http::header::HOST, host_header)
            .header(http::header::USER_AGENT, super::USER_AGENT)
            .body(Empty::<Bytes>::new())
            .map_err(|e| Failure::new(Outcome::ProtocolError, e.to_string()))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| Failure::new(crate::net::ending::hyper_outcome(&e), e.to_string()))?;
        let status = response.status().as_u16();
        // A CRL can be large: reachability is proven by the answer's head; read a little more,
        // counted and discarded, only to let the server finish cleanly.
        let mut body = response.into_body();
        let _ =
            tokio::time::timeout(Duration::from_millis(200), drain(&mut body, DRAIN_LIMIT)).await;
        driver.abort();
        Ok(status)
    };
    let status = tokio::time::timeout(ctx.timeout, exchange)
        .await
        .map_err(|_| Failure::new(Outcome::Timeout, "no HTTP answer in time".to_string()))??;
    Ok(Fetched {
        status,
        elapsed: started.elapsed(),
    })
}
