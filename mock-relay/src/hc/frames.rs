//! WebSocket frames as a rendezvous relays them (RFC 6455 section 5): read from one client
//! (masked, as every client frame is) and written to the other unmasked, one frame at a time,
//! the payload streamed through a small buffer. A message of any size crosses in the frames it
//! came in; only a single frame's length is bounded (`--hc-frame-limit`), and even a frame
//! that long is never held whole.

use std::io;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Payload bytes moved at once.
pub(crate) const CHUNK: usize = 16 * 1024;

pub(crate) const OP_CONTINUATION: u8 = 0x0;
pub(crate) const OP_TEXT: u8 = 0x1;
pub(crate) const OP_BINARY: u8 = 0x2;
pub(crate) const OP_CLOSE: u8 = 0x8;
pub(crate) const OP_PING: u8 = 0x9;
pub(crate) const OP_PONG: u8 = 0xA;

/// A frame's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Head {
    pub fin: bool,
    pub opcode: u8,
    pub len: u64,
    pub mask: Option<[u8; 4]>,
}

/// Why a client's frame cannot be relayed (the RFC's close code for it, and the reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refused {
    pub code: u16,
    pub why: String,
}

impl Head {
    /// Checks a frame read from a client: masked, no extension bits, a known opcode, control
    /// frames short and whole, data frames within `limit`.
    pub(crate) fn check(&self, rsv: u8, limit: u64) -> Result<(), Refused> {
        let refuse = |code: u16, why: &str| {
            Err(Refused {
                code,
                why: why.to_string(),
            })
        };
        if self.mask.is_none() {
            return refuse(1002, "a client frame must be masked");
        }
        if rsv != 0 {
            return refuse(1002, "no extension was negotiated");
        }
        match self.opcode {
            OP_CONTINUATION | OP_TEXT | OP_BINARY if self.len > limit => Err(Refused {
                code: 1009,
                why: format!("a frame of {} bytes is over the limit of {limit}", self.len),
            }),
            OP_CONTINUATION | OP_TEXT | OP_BINARY => Ok(()),
            OP_CLOSE | OP_PING | OP_PONG if self.len > 125 || !self.fin => {
                refuse(1002, "a control frame must be whole and at most 125 bytes")
            }
            OP_CLOSE | OP_PING | OP_PONG => Ok(()),
            _ => refuse(1002, "unknown opcode"),
        }
    }

    /// The header as the relay writes it (unmasked).
    pub(crate) fn encode(fin: bool, opcode: u8, len: u64) -> Vec<u8> {
        let mut out = vec![(u8::from(fin) << 7) | opcode];
        match len {
            0..=125 => out.push(len as u8),
            126..=0xffff => {
                out.push(126);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            }
            _ => {
                out.push(127);
                out.extend_from_slice(&len.to_be_bytes());
            }
        }
        out
    }
}

/// Reads a frame header and its extension bits; `None` when the stream ends before one.
pub(crate) async fn read_head<R: AsyncRead + Unpin>(r: &mut R) -> io::Result<Option<(Head, u8)>> {
    let mut two = [0u8; 2];
    match r.read_exact(&mut two[..1]).await {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    r.read_exact(&mut two[1..]).await?;
    let len = match two[1] & 0x7f {
        126 => u64::from(r.read_u16().await?),
        127 => r.read_u64().await?,
        n => u64::from(n),
    };
    let mask = if two[1] & 0x80 != 0 {
        let mut key = [0u8; 4];
        r.read_exact(&mut key).await?;
        Some(key)
    } else {
        None
    };
    let head = Head {
        fin: two[0] & 0x80 != 0,
        opcode: two[0] & 0x0f,
        len,
        mask,
    };
    Ok(Some((head, (two[0] >> 4) & 0x07)))
}

/// Reads a short (control) payload whole, unmasked.
pub(crate) async fn read_small<R: AsyncRead + Unpin>(
    r: &mut R,
    head: &Head,
) -> io::Result<Vec<u8>> {
    let mut payload = vec![0u8; usize::try_from(head.len).unwrap_or(0).min(125)];
    r.read_exact(&mut payload).await?;
    unmask(&mut payload, head.mask, 0);
    Ok(payload)
}

/// Copies a frame's payload from `r` to `w` unmasked, chunk by chunk.
pub(crate) async fn copy_payload<R, W>(r: &mut R, w: &mut W, head: &Head) -> io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut left = head.len;
    let mut offset = 0usize;
    let mut buf = vec![0u8; CHUNK.min(usize::try_from(head.len).unwrap_or(CHUNK))];
    while left > 0 {
        let take = usize::try_from(left).map_or(buf.len(), |l| l.min(buf.len()));
        r.read_exact(&mut buf[..take]).await?;
        unmask(&mut buf[..take], head.mask, offset);
        w.write_all(&buf[..take]).await?;
        offset = (offset + take) % 4;
        left -= take as u64;
    }
    Ok(())
}

/// Reads the next at most `max` bytes of a frame's payload, `done` of which were read before,
/// unmasked.
pub(crate) async fn read_chunk<R: AsyncRead + Unpin>(
    r: &mut R,
    head: &Head,
    done: u64,
    max: usize,
) -> io::Result<Vec<u8>> {
    let left = head.len.saturating_sub(done);
    let mut buf = vec![0u8; usize::try_from(left).map_or(max, |l| l.min(max))];
    r.read_exact(&mut buf).await?;
    unmask(&mut buf, head.mask, usize::try_from(done % 4).unwrap_or(0));
    Ok(buf)
}

/// A whole unmasked data frame (`request` text, a body fragment).
pub(crate) fn data(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Head::encode(fin, opcode, payload.len() as u64);
    out.extend_from_slice(payload);
    out
}

/// A whole unmasked frame with a short payload (close, pong).
pub(crate) fn control(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Head::encode(true, opcode, payload.len() as u64);
    out.extend_from_slice(payload);
    out
}

/// A close frame: the code, then the reason cut to fit (123 bytes, on a character boundary).
pub(crate) fn close(code: u16, reason: &str) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    for c in reason.chars() {
        let c = if c.is_control() { ' ' } else { c };
        if payload.len() + c.len_utf8() > 125 {
            break;
        }
        let mut bytes = [0u8; 4];
        payload.extend_from_slice(c.encode_utf8(&mut bytes).as_bytes());
    }
    control(OP_CLOSE, &payload)
}

/// The code of a close frame's payload (none when it has none).
pub(crate) fn close_code(payload: &[u8]) -> Option<u16> {
    payload.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]]))
}

fn unmask(data: &mut [u8], mask: Option<[u8; 4]>, offset: usize) {
    if let Some(key) = mask {
        for (i, byte) in data.iter_mut().enumerate() {
            *byte ^= key[(offset + i) % 4];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(fin: bool, opcode: u8, payload: &[u8], key: [u8; 4]) -> Vec<u8> {
        let mut out = Head::encode(fin, opcode, payload.len() as u64);
        out[1] |= 0x80;
        out.extend_from_slice(&key);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        out
    }

    #[tokio::test]
    async fn a_large_masked_frame_is_copied_unmasked_in_chunks() {
        let payload: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let wire = masked(false, OP_BINARY, &payload, [1, 2, 3, 4]);
        let mut reader = &wire[..];
        let (head, rsv) = read_head(&mut reader).await.unwrap().unwrap();
        assert_eq!(
            (head.fin, head.opcode, head.len, rsv),
            (false, OP_BINARY, 200_000, 0)
        );
        assert!(head.check(rsv, 1 << 20).is_ok());
        assert_eq!(head.check(rsv, 1000).unwrap_err().code, 1009);
        let mut out = Vec::new();
        copy_payload(&mut reader, &mut out, &head).await.unwrap();
        assert_eq!(out, payload);
        assert!(read_head(&mut reader).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn control_frames_and_bad_frames() {
        let wire = masked(true, OP_CLOSE, &close(1000, "bye")[2..], [9, 8, 7, 6]);
        let mut reader = &wire[..];
        let (head, rsv) = read_head(&mut reader).await.unwrap().unwrap();
        assert!(head.check(rsv, 10).is_ok());
        let payload = read_small(&mut reader, &head).await.unwrap();
        assert_eq!(
            (close_code(&payload), &payload[2..]),
            (Some(1000), &b"bye"[..])
        );
        let unmasked = Head::encode(true, OP_TEXT, 3);
        let (head, rsv) = read_head(&mut &unmasked[..]).await.unwrap().unwrap();
        assert_eq!(head.check(rsv, 10).unwrap_err().code, 1002);
        assert_eq!(close(1001, &"é".repeat(100)).len(), 2 + 2 + 122);
        assert_eq!(Head::encode(true, OP_BINARY, 70_000)[1], 127);
    }
}
