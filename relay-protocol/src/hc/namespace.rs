//! Where a Hybrid Connection lives: the namespace address and the entity path.

use std::fmt;

use crate::encoding::encode_component;

/// Port a namespace is reached on when none is given ("All WebSocket connections are made on
/// port 443", protocol guide, "Protocol reference").
pub const DEFAULT_PORT: u16 = 443;

/// A Relay namespace's address: `contoso.servicebus.windows.net`, or for a lab `relay.lab:8443`.
///
/// The host is normalised as URLs normalise it (domain names in lower case, IPv6 in brackets).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Namespace {
    host: String,
    port: Option<u16>,
}

/// Why a namespace address was refused. Names the part, not the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NamespaceError {
    #[error("namespace host is empty")]
    EmptyHost,
    #[error("namespace host is not a valid host name or IP address")]
    BadHost,
    #[error("namespace port must be a number from 1 to 65535")]
    BadPort,
}

impl Namespace {
    /// A namespace from a host (`name`, `1.2.3.4` or `[::1]`) and an optional port.
    pub fn new(host: &str, port: Option<u16>) -> Result<Self, NamespaceError> {
        if host.is_empty() {
            return Err(NamespaceError::EmptyHost);
        }
        if port == Some(0) {
            return Err(NamespaceError::BadPort);
        }
        let parsed = url::Host::parse(host).map_err(|_| NamespaceError::BadHost)?;
        Ok(Namespace {
            host: parsed.to_string(),
            port,
        })
    }

    /// Parses `host` or `host:port` (`[v6]:port` for IPv6).
    pub fn parse(authority: &str) -> Result<Self, NamespaceError> {
        let (host, port) = split_authority(authority)?;
        Namespace::new(host, port)
    }

    /// The host as it appears in a URL (IPv6 in brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, if one was given.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The port connections go to: the given one or [`DEFAULT_PORT`].
    pub fn effective_port(&self) -> u16 {
        self.port.unwrap_or(DEFAULT_PORT)
    }

    /// `host` or `host:port`, as in a URL.
    pub fn authority(&self) -> String {
        match self.port {
            Some(port) => format!("{}:{port}", self.host),
            None => self.host.clone(),
        }
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.authority())
    }
}

/// Splits `host[:port]`; a bare IPv6 address without brackets is refused as ambiguous.
fn split_authority(authority: &str) -> Result<(&str, Option<u16>), NamespaceError> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let close = rest.find(']').ok_or(NamespaceError::BadHost)?;
        let host = &authority[..close + 2];
        match &authority[close + 2..] {
            "" => (host, None),
            tail => (
                host,
                Some(tail.strip_prefix(':').ok_or(NamespaceError::BadHost)?),
            ),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port = match port {
        None => None,
        Some(text) => Some(parse_port(text)?),
    };
    Ok((host, port))
}

fn parse_port(text: &str) -> Result<u16, NamespaceError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NamespaceError::BadPort);
    }
    match text.parse::<u16>() {
        Ok(0) | Err(_) => Err(NamespaceError::BadPort),
        Ok(port) => Ok(port),
    }
}

/// The name of a Hybrid Connection inside its namespace, e.g. `hyco` or `site1/writeback`.
///
/// Kept as written (Azure entity names are case-insensitive, but the service echoes them as
/// created); [`encoded`](EntityPath::encoded) gives the URL path form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EntityPath(String);

/// Why an entity path was refused. Names the problem, not the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntityPathError {
    #[error("entity path is empty")]
    Empty,
    #[error("entity path has an empty segment (a leading, trailing or doubled '/')")]
    EmptySegment,
    #[error("entity path has a '.' or '..' segment")]
    DotSegment,
    #[error("entity path has leading or trailing whitespace")]
    SurroundingWhitespace,
    #[error("entity path contains a control character or one of ? # ; \\")]
    ForbiddenCharacter,
}

impl EntityPath {
    /// Validates an entity path: `/`-separated non-empty segments, no `.`/`..`, no control
    /// characters, none of `? # ; \` (they would change the meaning of the URL or the connection
    /// string it is written into), no surrounding whitespace.
    pub fn new(path: &str) -> Result<Self, EntityPathError> {
        if path.is_empty() {
            return Err(EntityPathError::Empty);
        }
        if path.trim() != path {
            return Err(EntityPathError::SurroundingWhitespace);
        }
        if path
            .chars()
            .any(|c| c.is_control() || matches!(c, '?' | '#' | ';' | '\\'))
        {
            return Err(EntityPathError::ForbiddenCharacter);
        }
        for segment in path.split('/') {
            match segment {
                "" => return Err(EntityPathError::EmptySegment),
                "." | ".." => return Err(EntityPathError::DotSegment),
                _ => {}
            }
        }
        Ok(EntityPath(path.to_owned()))
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `/`-separated segments.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }

    /// The URL path form: each segment percent-encoded, joined by `/`.
    pub fn encoded(&self) -> String {
        self.segments()
            .map(encode_component)
            .collect::<Vec<_>>()
            .join("/")
    }
}

impl fmt::Display for EntityPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for EntityPath {
    type Err = EntityPathError;

    fn from_str(path: &str) -> Result<Self, Self::Err> {
        EntityPath::new(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_parses_host_and_port() {
        let ns = Namespace::parse("Contoso.ServiceBus.Windows.NET").unwrap();
        assert_eq!(ns.host(), "contoso.servicebus.windows.net");
        assert_eq!(ns.port(), None);
        assert_eq!(ns.effective_port(), 443);
        let lab = Namespace::parse("relay.lab:8443").unwrap();
        assert_eq!((lab.host(), lab.port()), ("relay.lab", Some(8443)));
        assert_eq!(lab.to_string(), "relay.lab:8443");
        let v6 = Namespace::parse("[::1]:9000").unwrap();
        assert_eq!((v6.host(), v6.authority()), ("[::1]", "[::1]:9000".into()));
        assert_eq!(Namespace::parse("127.0.0.1").unwrap().host(), "127.0.0.1");
    }

    #[test]
    fn namespace_errors_name_the_part() {
        assert_eq!(Namespace::parse(""), Err(NamespaceError::EmptyHost));
        assert_eq!(Namespace::parse("relay.lab:"), Err(NamespaceError::BadPort));
        assert_eq!(
            Namespace::parse("relay.lab:0"),
            Err(NamespaceError::BadPort)
        );
        assert_eq!(
            Namespace::parse("relay.lab:70000"),
            Err(NamespaceError::BadPort)
        );
        assert_eq!(
            Namespace::parse("relay.lab:+80"),
            Err(NamespaceError::BadPort)
        );
        assert_eq!(Namespace::parse("a b"), Err(NamespaceError::BadHost));
        assert_eq!(Namespace::parse("[::1"), Err(NamespaceError::BadHost));
        assert_eq!(Namespace::parse("[::1]x"), Err(NamespaceError::BadHost));
    }

    #[test]
    fn entity_paths_are_validated_and_encoded() {
        let path = EntityPath::new("site 1/écho").unwrap();
        assert_eq!(path.encoded(), "site%201/%C3%A9cho");
        assert_eq!(EntityPath::new("hyco").unwrap().encoded(), "hyco");
        assert_eq!(EntityPath::new(""), Err(EntityPathError::Empty));
        assert_eq!(EntityPath::new("/hyco"), Err(EntityPathError::EmptySegment));
        assert_eq!(EntityPath::new("a//b"), Err(EntityPathError::EmptySegment));
        assert_eq!(EntityPath::new("a/.."), Err(EntityPathError::DotSegment));
        assert_eq!(
            EntityPath::new("a?b"),
            Err(EntityPathError::ForbiddenCharacter)
        );
        assert_eq!(
            EntityPath::new("a;b"),
            Err(EntityPathError::ForbiddenCharacter)
        );
        assert_eq!(
            EntityPath::new(" a"),
            Err(EntityPathError::SurroundingWhitespace)
        );
    }
}
