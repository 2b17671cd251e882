//! A small hostile forward proxy on loopback, for what real corporate proxies do to a CONNECT
//! that Squid will not: redirect it to a login portal, or accept it and then serve an HTML block
//! page where the target's TLS ServerHello should be. It never connects anywhere itself.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// How the proxy answers every CONNECT.
#[derive(Clone, Debug)]
pub enum Hostility {
    /// `status` (a 3xx) with this `Location`, as an authentication portal does.
    Redirect { status: u16, location: String },
    /// `200 Connection established`, then `page` (a whole HTTP response) in place of TLS.
    BlockPage { page: String, timing: PageTiming },
    /// `407` with one `Proxy-Authenticate` header per entry of `challenges`, and
    /// `Connection: close`: a proxy (or a load balancer before it) that cannot keep an NTLM
    /// handshake on one connection.
    AuthRequiredThenClose { challenges: Vec<String> },
}

/// When a block page comes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageTiming {
    /// Right behind the 200, in the same write, before the client says anything.
    WithThe200,
    /// In answer to the ClientHello, in two parts: the second only after the client reacted to
    /// the first (its TLS alert, or its close), so that the client must read on to see it all.
    Split,
}

/// A running hostile proxy; stops when dropped.
pub struct HostileProxy {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
    tasks: JoinSet<()>,
}

impl Drop for HostileProxy {
    fn drop(&mut self) {
        self.tasks.abort_all();
    }
}

/// A bound on every wait of the proxy, so that no connection task outlives a test by long.
const WAIT: Duration = Duration::from_secs(10);

impl HostileProxy {
    pub async fn start(hostility: Hostility) -> HostileProxy {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("bind the hostile proxy on loopback");
        let addr = listener.local_addr().expect("local addr");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = JoinSet::new();
        let seen = requests.clone();
        tasks.spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                let hostility = hostility.clone();
                let seen = seen.clone();
                connections.spawn(async move {
                    let _ = tokio::time::timeout(WAIT, serve(stream, &hostility, &seen)).await;
                });
            }
        });
        HostileProxy {
            addr,
            requests,
            tasks,
        }
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The request lines received (`CONNECT host:port HTTP/1.1`).
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("requests lock").clone()
    }
}

async fn serve(
    mut stream: TcpStream,
    hostility: &Hostility,
    seen: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let head = read_head(&mut stream).await?;
    let request_line = head.lines().next().unwrap_or("").to_string();
    seen.lock().expect("requests lock").push(request_line);
    match hostility {
        Hostility::Redirect { status, location } => {
            let answer = format!(
                "HTTP/1.1 {status} Redirect\r\nLocation: {location}\r\nContent-Type: text/html\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            stream.write_all(answer.as_bytes()).await?;
        }
        Hostility::AuthRequiredThenClose { challenges } => {
            let mut answer = "HTTP/1.1 407 Proxy Authentication Required\r\n".to_string();
            for c in challenges {
                answer.push_str(&format!("Proxy-Authenticate: {c}\r\n"));
            }
            answer.push_str("Content-Length: 0\r\nConnection: close\r\n\r\n");
            stream.write_all(answer.as_bytes()).await?;
        }
        Hostility::BlockPage {
            page,
            timing: PageTiming::WithThe200,
        } => {
            let answer = format!("HTTP/1.1 200 Connection established\r\n\r\n{page}");
            stream.write_all(answer.as_bytes()).await?;
        }
        Hostility::BlockPage {
            page,
            timing: PageTiming::Split,
        } => {
            stream
                .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                .await?;
            let mut hello = [0u8; 4096];
            if stream.read(&mut hello).await? == 0 {
                return Ok(());
            }
            let (first, rest) = page.split_at(split_point(page));
            stream.write_all(first.as_bytes()).await?;
            let mut reaction = [0u8; 512];
            if stream.read(&mut reaction).await? == 0 {
                return Ok(());
            }
            stream.write_all(rest.as_bytes()).await?;
        }
    }
    stream.shutdown().await
}

/// A few characters into the title, so that neither part alone holds all of it.
fn split_point(page: &str) -> usize {
    let inside_title = page.find("<title>").map(|i| i + "<title>".len() + 3);
    let cut = inside_title.unwrap_or(page.len() / 2).min(page.len());
    (0..=cut)
        .rev()
        .find(|&i| page.is_char_boundary(i))
        .unwrap_or(0)
}

/// The request head, up to the blank line (at most 16 KiB).
async fn read_head(stream: &mut TcpStream) -> std::io::Result<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
        if stream.read(&mut byte).await? == 0 {
            break;
        }
        head.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

/// An HTTP response with an HTML page titled `title_html` (markup allowed), as a web filter
/// serves it.
pub fn html_page(status: &str, title_html: &str) -> String {
    let body = format!(
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>{title_html}</title>\n<style>body {{ font-family: sans-serif; }}</style>\n</head>\n<body><h1>Access to this site is blocked</h1><p>Category: Uncategorized. Contact your administrator.</p></body>\n</html>\n"
    );
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}
