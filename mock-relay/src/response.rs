//! HTTP responses the relay builds: plain text and JSON bodies, and bodies streamed from a
//! listener (HTTP request mode), all of one body type.

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use tokio::sync::mpsc;

/// Every response body: whole, or streamed (an error mid-way aborts the response, so a
/// truncated body is never taken for a whole one).
pub(crate) type Body = UnsyncBoxBody<Bytes, std::io::Error>;

/// A whole body.
pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// An empty body.
pub(crate) fn empty() -> Body {
    full(Bytes::new())
}

/// A body streamed from a channel, chunk by chunk as they are sent.
pub(crate) fn streamed(chunks: mpsc::Receiver<std::io::Result<Bytes>>) -> Body {
    let stream = futures_util::stream::unfold(chunks, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk.map(Frame::data), rx))
    });
    StreamBody::new(stream).boxed_unsync()
}

/// A `text/plain` response.
pub(crate) fn text(status: StatusCode, body: String) -> Response<Body> {
    let mut resp = Response::new(full(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

/// A `200` JSON response (pretty-printed, newline-terminated).
pub(crate) fn json<T: serde::Serialize>(value: &T) -> Response<Body> {
    let body = serde_json::to_string_pretty(value).expect("reports always serialise") + "\n";
    let mut resp = Response::new(full(body));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_streamed_body_arrives_in_order_and_an_error_aborts_it() {
        let (tx, rx) = mpsc::channel(2);
        let body = streamed(rx);
        tokio::spawn(async move {
            tx.send(Ok(Bytes::from_static(b"one,"))).await.unwrap();
            tx.send(Ok(Bytes::from_static(b"two"))).await.unwrap();
        });
        assert_eq!(&body.collect().await.unwrap().to_bytes()[..], b"one,two");
        let (tx, rx) = mpsc::channel(2);
        tx.send(Err(std::io::Error::other("listener gone")))
            .await
            .unwrap();
        assert!(streamed(rx).collect().await.is_err());
    }
}
