//! Block pages: a proxy that accepts the CONNECT (200) and then, instead of relaying the
//! target's TLS ServerHello, answers with an HTTP page of its own (a content filter's "Access
//! denied"). The tunnel records the first bytes it carries so that a failed TLS handshake can
//! tell such a page from a broken server, and name the page by its title.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};

/// The most of a page the probe reads and keeps.
pub const PAGE_LIMIT: usize = 16 * 1024;
/// The longest title shown.
const TITLE_LIMIT: usize = 120;

/// The first bytes a tunnel delivered (up to [`PAGE_LIMIT`]), shared with whoever reads them.
#[derive(Clone, Default)]
pub struct FirstBytes(Arc<Mutex<Vec<u8>>>);

impl FirstBytes {
    pub fn snapshot(&self) -> Vec<u8> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn record(&self, bytes: &[u8]) {
        let mut seen = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let room = PAGE_LIMIT.saturating_sub(seen.len());
        seen.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn is_full(&self) -> bool {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len() >= PAGE_LIMIT
    }

    /// The page, when what came through the tunnel is plain HTTP rather than TLS.
    pub fn block_page(&self) -> Option<BlockPage> {
        BlockPage::from_bytes(&self.snapshot())
    }
}

/// A stream that copies the first bytes read from it into a [`FirstBytes`].
pub struct Recorder<IO> {
    inner: IO,
    seen: FirstBytes,
}

impl<IO> Recorder<IO> {
    pub fn new(inner: IO) -> (Recorder<IO>, FirstBytes) {
        let seen = FirstBytes::default();
        (
            Recorder {
                inner,
                seen: seen.clone(),
            },
            seen,
        )
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Recorder<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = poll {
            if !self.seen.is_full() {
                self.seen.record(&buf.filled()[before..]);
            }
        }
        poll
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Recorder<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// What a proxy sent in place of the TLS handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockPage {
    /// `403 Forbidden`, when the page came with a status line.
    pub status: Option<String>,
    /// The page's `<title>`, markup and control characters removed.
    pub title: Option<String>,
}

impl BlockPage {
    /// A page when `bytes` start as HTTP (`HTTP/1.x` or markup), never for a TLS record.
    pub fn from_bytes(bytes: &[u8]) -> Option<BlockPage> {
        let text = String::from_utf8_lossy(bytes);
        let start = text.trim_start();
        let status = if let Some(line) = start.strip_prefix("HTTP/") {
            let line = line.lines().next().unwrap_or("");
            Some(clean(line.split_once(' ').map(|(_, s)| s).unwrap_or("")))
        } else if start.starts_with('<') {
            None
        } else {
            return None;
        };
        Some(BlockPage {
            status: status.filter(|s| !s.is_empty()),
            title: title(&text),
        })
    }

    /// `"Access Denied" (403 Forbidden)`, or what there is of it.
    pub fn describe(&self) -> String {
        match (&self.title, &self.status) {
            (Some(t), Some(s)) => format!("\"{t}\" ({s})"),
            (Some(t), None) => format!("\"{t}\""),
            (None, Some(s)) => format!("an untitled page ({s})"),
            (None, None) => "an untitled page".into(),
        }
    }
}

/// Reads the rest of a page that began in `seen`, within `deadline`: until the title is
/// complete, the connection ends, or [`PAGE_LIMIT`] bytes. Errors only end the reading.
pub async fn read_rest<IO: AsyncRead + Unpin>(io: &mut IO, seen: &FirstBytes, deadline: Instant) {
    let mut chunk = [0u8; 2048];
    while !seen.is_full() && !has_title_end(&seen.snapshot()) {
        let read = tokio::time::timeout_at(deadline.into(), io.read(&mut chunk)).await;
        match read {
            Ok(Ok(n)) if n > 0 => {}
            _ => break,
        }
    }
}

fn has_title_end(bytes: &[u8]) -> bool {
    let lower = String::from_utf8_lossy(bytes).to_ascii_lowercase();
    lower.contains("</title") || lower.contains("</head") || lower.contains("</html")
}

/// The text of the first `<title>` element, entities decoded, tags, control characters and runs
/// of white space removed, at most [`TITLE_LIMIT`] characters.
fn title(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let content = open + lower[open..].find('>')? + 1;
    let end = lower[content..]
        .find("</title")
        .map(|e| content + e)
        .unwrap_or(text.len());
    let inner = strip_tags(&text[content..end]);
    let title = clean(&decode_entities(&inner));
    (!title.is_empty()).then_some(title)
}

fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// The common named entities and numeric references; anything else is left as written.
fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let entity = rest[1..]
            .find(';')
            .filter(|&end| end <= 10)
            .map(|end| &rest[1..=end]);
        let decoded = entity.and_then(|e| match e {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" | "#39" => Some('\''),
            "nbsp" => Some(' '),
            e => e
                .strip_prefix("#x")
                .or_else(|| e.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| e.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        });
        match (entity, decoded) {
            (Some(e), Some(c)) => {
                out.push(c);
                rest = &rest[e.len() + 2..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Control characters out, white space collapsed, length bounded.
fn clean(s: &str) -> String {
    let words: Vec<&str> = s
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect();
    let joined = words.join(" ");
    if joined.chars().count() > TITLE_LIMIT {
        let cut: String = joined.chars().take(TITLE_LIMIT).collect();
        format!("{cut}...")
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_http_page_is_a_block_page_with_its_title() {
        let page = b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\n\r\n<html><head><TITLE>\n  Access &amp; <b>Denied</b> &#8211; Web\x07 Filter\n</TITLE></head>";
        let p = BlockPage::from_bytes(page).unwrap();
        assert_eq!(p.status.as_deref(), Some("403 Forbidden"));
        assert_eq!(
            p.title.as_deref(),
            Some("Access & Denied \u{2013} Web Filter")
        );
        assert_eq!(
            p.describe(),
            "\"Access & Denied \u{2013} Web Filter\" (403 Forbidden)"
        );
    }

    #[test]
    fn tls_and_noise_are_not_block_pages() {
        assert_eq!(BlockPage::from_bytes(&[0x16, 0x03, 0x03, 0x00, 0x7a]), None);
        assert_eq!(BlockPage::from_bytes(&[0x15, 0x03, 0x03, 0x00, 0x02]), None);
        assert_eq!(BlockPage::from_bytes(b""), None);
        assert_eq!(BlockPage::from_bytes(b"SSH-2.0-OpenSSH"), None);
    }

    #[test]
    fn markup_without_a_status_line_and_pages_without_a_title() {
        let p = BlockPage::from_bytes(b"\r\n<!DOCTYPE html><title>Blocked</title>").unwrap();
        assert_eq!((p.status, p.title.as_deref()), (None, Some("Blocked")));
        let p = BlockPage::from_bytes(b"HTTP/1.0 200 OK\r\n\r\n<p>no</p>").unwrap();
        assert_eq!(p.describe(), "an untitled page (200 OK)");
        let p = BlockPage::from_bytes(b"HTTP/1.1 403 Forbidden\r\n\r\n<title>   </title>").unwrap();
        assert_eq!(p.title, None);
    }

    #[test]
    fn long_titles_are_cut_and_unknown_entities_kept() {
        let long = format!("<title>{}&bogus; &#xZZ;</title>", "x".repeat(300));
        let t = BlockPage::from_bytes(long.as_bytes())
            .unwrap()
            .title
            .unwrap();
        assert_eq!(t.chars().count(), TITLE_LIMIT + 3);
        let t = title("<title>a &bogus; b &#x41; &unterminated</title>").unwrap();
        assert_eq!(t, "a &bogus; b A &unterminated");
    }

    #[tokio::test]
    async fn the_recorder_keeps_the_first_bytes_only() {
        let (client, mut server) = tokio::io::duplex(64 * 1024);
        let (mut recorded, seen) = Recorder::new(client);
        let sent = vec![b'a'; PAGE_LIMIT + 100];
        tokio::io::AsyncWriteExt::write_all(&mut server, &sent)
            .await
            .unwrap();
        drop(server);
        let mut all = Vec::new();
        recorded.read_to_end(&mut all).await.unwrap();
        assert_eq!(all.len(), sent.len());
        assert_eq!(seen.snapshot().len(), PAGE_LIMIT);
    }

    #[tokio::test]
    async fn read_rest_stops_at_the_end_of_the_title_or_the_deadline() {
        let (client, mut server) = tokio::io::duplex(1024);
        let (mut recorded, seen) = Recorder::new(client);
        tokio::io::AsyncWriteExt::write_all(&mut server, b"HTTP/1.1 403 X\r\n\r\n<title>Den")
            .await
            .unwrap();
        let deadline = Instant::now() + std::time::Duration::from_millis(200);
        read_rest(&mut recorded, &seen, deadline).await;
        assert_eq!(seen.block_page().unwrap().title.as_deref(), Some("Den"));
        tokio::io::AsyncWriteExt::write_all(&mut server, b"ied</title> and more")
            .await
            .unwrap();
        read_rest(
            &mut recorded,
            &seen,
            Instant::now() + std::time::Duration::from_secs(5),
        )
        .await;
        assert_eq!(seen.block_page().unwrap().title.as_deref(), Some("Denied"));
    }
}
