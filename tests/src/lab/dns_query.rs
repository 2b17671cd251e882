//! A minimal DNS client over UDP for checking the lab's DNS server without `dig`: one question,
//! the answer's rcode and the record types and values it carries.

use super::site::Site;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::time::Duration;

/// Query types used by the lab.
pub const A: u16 = 1;
pub const CNAME: u16 = 5;
pub const AAAA: u16 = 28;
pub const SRV: u16 = 33;

/// NXDOMAIN response code.
pub const NXDOMAIN: u8 = 3;

/// One answer record, decoded for the lab's types (others as raw length).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Cname(String),
    Srv {
        priority: u16,
        weight: u16,
        port: u16,
        target: String,
    },
    Other(u16),
}

/// A DNS response.
#[derive(Clone, Debug)]
pub struct Response {
    pub rcode: u8,
    pub answers: Vec<Record>,
}

/// Asks `server` (from inside `site`) for `name`/`qtype`; `Err(TimedOut)` when nothing comes
/// back within `limit`.
pub fn query(
    site: &Site,
    server: SocketAddr,
    name: &str,
    qtype: u16,
    limit: Duration,
) -> std::io::Result<Response> {
    let id: u16 = (std::process::id() as u16) ^ 0x5a5a;
    let mut msg = vec![
        (id >> 8) as u8,
        id as u8,
        0x01,
        0x00,
        0,
        1,
        0,
        0,
        0,
        0,
        0,
        0,
    ];
    for label in name.trim_end_matches('.').split('.') {
        msg.push(label.len() as u8);
        msg.extend_from_slice(label.as_bytes());
    }
    msg.extend_from_slice(&[0, (qtype >> 8) as u8, qtype as u8, 0, 1]);
    let bind = if server.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    };
    let sock = site.enter(|| UdpSocket::bind(bind))?;
    sock.set_read_timeout(Some(limit))?;
    sock.send_to(&msg, server)?;
    let mut buf = [0u8; 4096];
    loop {
        let n = sock.recv(&mut buf).map_err(|e| match e.kind() {
            std::io::ErrorKind::WouldBlock => std::io::Error::from(std::io::ErrorKind::TimedOut),
            _ => e,
        })?;
        if n >= 12 && u16::from_be_bytes([buf[0], buf[1]]) == id {
            return parse(&buf[..n]).ok_or_else(|| std::io::Error::other("malformed DNS response"));
        }
    }
}

fn parse(m: &[u8]) -> Option<Response> {
    let rcode = m.get(3)? & 0x0f;
    let qd = u16::from_be_bytes([m[4], m[5]]);
    let an = u16::from_be_bytes([m[6], m[7]]);
    let mut pos = 12;
    for _ in 0..qd {
        pos = read_name(m, pos)?.1 + 4;
    }
    let mut answers = Vec::new();
    for _ in 0..an {
        let (_, after) = read_name(m, pos)?;
        let rtype = u16::from_be_bytes([*m.get(after)?, *m.get(after + 1)?]);
        let len = u16::from_be_bytes([*m.get(after + 8)?, *m.get(after + 9)?]) as usize;
        let data = after + 10;
        let rdata = m.get(data..data + len)?;
        answers.push(match rtype {
            A if len == 4 => Record::A(Ipv4Addr::new(rdata[0], rdata[1], rdata[2], rdata[3])),
            AAAA if len == 16 => Record::Aaaa(Ipv6Addr::from(<[u8; 16]>::try_from(rdata).ok()?)),
            CNAME => Record::Cname(read_name(m, data)?.0),
            SRV if len >= 7 => Record::Srv {
                priority: u16::from_be_bytes([rdata[0], rdata[1]]),
                weight: u16::from_be_bytes([rdata[2], rdata[3]]),
                port: u16::from_be_bytes([rdata[4], rdata[5]]),
                target: read_name(m, data + 6)?.0,
            },
            other => Record::Other(other),
        });
        pos = data + len;
    }
    Some(Response { rcode, answers })
}

/// Reads a (possibly compressed) name at `pos`: the name and the position after it.
fn read_name(m: &[u8], mut pos: usize) -> Option<(String, usize)> {
    let mut labels = Vec::new();
    let mut end = None;
    for _ in 0..64 {
        let len = *m.get(pos)? as usize;
        if len & 0xc0 == 0xc0 {
            let target = ((len & 0x3f) << 8) | *m.get(pos + 1)? as usize;
            end.get_or_insert(pos + 2);
            pos = target;
        } else if len == 0 {
            let name = labels.join(".");
            return Some((name, end.unwrap_or(pos + 1)));
        } else {
            labels.push(String::from_utf8_lossy(m.get(pos + 1..pos + 1 + len)?).into_owned());
            pos += 1 + len;
        }
    }
    None
}
