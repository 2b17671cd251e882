//! Reading a response body the way a hostile server cannot exploit: frame by frame, counting
//! and discarding the bytes, up to a limit. Nothing the probe reads is buffered whole.

use http_body_util::BodyExt;

/// What draining a body found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drained {
    /// The body ended after this many bytes.
    Complete(u64),
    /// The limit was reached before the body ended; at least this many bytes arrived.
    Truncated(u64),
}

impl Drained {
    pub fn bytes(self) -> u64 {
        match self {
            Drained::Complete(n) | Drained::Truncated(n) => n,
        }
    }
}

/// Reads `body` until it ends or `limit` bytes have arrived, keeping none of them. The caller
/// bounds the time (a body may also drip).
pub async fn drain<B>(body: &mut B, limit: u64) -> Result<Drained, B::Error>
where
    B: hyper::body::Body + Unpin,
    B::Data: bytes::Buf,
{
    use bytes::Buf;
    let mut read = 0u64;
    while read < limit {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    read = read.saturating_add(data.remaining() as u64);
                }
            }
            Some(Err(e)) => return Err(e),
            None => return Ok(Drained::Complete(read)),
        }
    }
    Ok(Drained::Truncated(read))
}

/// `limit` in words for messages (`1 MiB`, `64 KiB`).
pub fn limit_words(limit: u64) -> String {
    if limit >= 1024 * 1024 && limit.is_multiple_of(1024 * 1024) {
        format!("{} MiB", limit / (1024 * 1024))
    } else if limit >= 1024 && limit.is_multiple_of(1024) {
        format!("{} KiB", limit / 1024)
    } else {
        format!("{limit} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http_body_util::{Full, StreamBody};
    use hyper::body::Frame;

    #[tokio::test]
    async fn stops_at_the_limit_and_reads_short_bodies_whole() {
        let mut short = Full::new(Bytes::from_static(b"hello"));
        assert_eq!(drain(&mut short, 1024).await, Ok(Drained::Complete(5)));
        // An endless body: a stream that never ends.
        let endless = futures_util::stream::repeat_with(|| {
            Ok::<_, std::convert::Infallible>(Frame::data(Bytes::from(vec![0u8; 1000])))
        });
        let mut endless = StreamBody::new(endless);
        let got = drain(&mut endless, 10_000).await.unwrap();
        assert_eq!(got, Drained::Truncated(10_000));
        assert_eq!(limit_words(1024 * 1024), "1 MiB");
        assert_eq!(limit_words(64 * 1024), "64 KiB");
    }
}
