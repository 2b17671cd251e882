//! The address line: the first line a running `mock-relay` prints on stdout, so scripts and
//! tests can start it on port 0 and learn the real ports (logs go to stderr).
//!
//! ```text
//! listening tls=127.0.0.1:8443 tls=[::1]:8443 plain=127.0.0.1:9350 connection-string=Endpoint=sb://127.0.0.1:8443/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=KEY ca=mock-relay-ca.pem
//! listening middlebox=127.0.0.1:9443 upstream=127.0.0.1:8443
//! ```
//!
//! Space-separated `key=value` tokens after the word `listening`; keys repeat for several
//! listeners. `connection-string=` is the relay's Hybrid Connections connection string, key
//! included (it holds no spaces: entity names with spaces are refused). `service-idle-limit=`
//! (seconds) is there when `--service-idle-limit` is: listeners idle that long are forgotten,
//! as the real service forgets them. `ca=` (the CA file
//! written, when one was) always comes last and runs to the end of the line, so a path may
//! contain spaces.

use relay_protocol::connection_string::ConnectionString;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// The parsed address line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressLine {
    pub tls: Vec<SocketAddr>,
    pub plain: Vec<SocketAddr>,
    pub middlebox: Option<SocketAddr>,
    pub upstream: Option<SocketAddr>,
    /// The Hybrid Connections connection string (`Debug` hides the key; `Display` of the line
    /// prints it whole).
    pub connection_string: Option<ConnectionString>,
    /// `--service-idle-limit`: listeners idle this long are forgotten, as the service does.
    pub service_idle_limit: Option<Duration>,
    pub ca_file: Option<PathBuf>,
}

const WORD: &str = "listening";
const CONNECTION_STRING: &str = "connection-string";
const SERVICE_IDLE_LIMIT: &str = "service-idle-limit";

impl fmt::Display for AddressLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(WORD)?;
        for addr in &self.tls {
            write!(f, " tls={addr}")?;
        }
        for addr in &self.plain {
            write!(f, " plain={addr}")?;
        }
        if let Some(addr) = self.middlebox {
            write!(f, " middlebox={addr}")?;
        }
        if let Some(addr) = self.upstream {
            write!(f, " upstream={addr}")?;
        }
        if let Some(cs) = &self.connection_string {
            write!(f, " {CONNECTION_STRING}={}", cs.expose().expose())?;
        }
        if let Some(limit) = self.service_idle_limit {
            write!(f, " {SERVICE_IDLE_LIMIT}={}", limit.as_secs_f64())?;
        }
        if let Some(path) = &self.ca_file {
            write!(f, " ca={}", path.display())?;
        }
        Ok(())
    }
}

/// Why a line is not an address line. The line is quoted, except in a bad connection string
/// (it holds the key): that error names only the key and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum AddressLineError {
    #[error("not an address line: {0:?}")]
    NotAnAddressLine(String),
    #[error("bad token {token:?} in {line:?}")]
    BadToken { token: String, line: String },
    #[error("bad {CONNECTION_STRING} on the address line: {0}")]
    ConnectionString(relay_protocol::connection_string::ConnectionStringError),
    #[error("bad {SERVICE_IDLE_LIMIT} on the address line: {0}")]
    ServiceIdleLimit(crate::secs::SecondsError),
    #[error("bad address {value:?} in {line:?}")]
    BadAddress { value: String, line: String },
    #[error("unknown key {key:?} in {line:?}")]
    UnknownKey { key: String, line: String },
}

impl FromStr for AddressLine {
    type Err = AddressLineError;

    fn from_str(line: &str) -> Result<AddressLine, AddressLineError> {
        let quoted = || line.to_string();
        let rest = line
            .trim_end()
            .strip_prefix(WORD)
            .ok_or_else(|| AddressLineError::NotAnAddressLine(quoted()))?;
        let (rest, ca_file) = match rest.split_once(" ca=") {
            Some((before, path)) => (before, Some(PathBuf::from(path))),
            None => (rest, None),
        };
        let mut parsed = AddressLine {
            ca_file,
            ..AddressLine::default()
        };
        for token in rest.split_whitespace() {
            let (key, value) = token
                .split_once('=')
                .ok_or_else(|| AddressLineError::BadToken {
                    token: token.to_string(),
                    line: quoted(),
                })?;
            if key == CONNECTION_STRING {
                let cs =
                    ConnectionString::parse(value).map_err(AddressLineError::ConnectionString)?;
                parsed.connection_string = Some(cs);
                continue;
            }
            if key == SERVICE_IDLE_LIMIT {
                let limit = crate::secs::parse_seconds(value)
                    .map_err(AddressLineError::ServiceIdleLimit)?;
                parsed.service_idle_limit = Some(limit);
                continue;
            }
            let addr: SocketAddr = value.parse().map_err(|_| AddressLineError::BadAddress {
                value: value.to_string(),
                line: quoted(),
            })?;
            match key {
                "tls" => parsed.tls.push(addr),
                "plain" => parsed.plain.push(addr),
                "middlebox" => parsed.middlebox = Some(addr),
                "upstream" => parsed.upstream = Some(addr),
                _ => {
                    return Err(AddressLineError::UnknownKey {
                        key: key.to_string(),
                        line: quoted(),
                    })
                }
            }
        }
        Ok(parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_every_field() {
        let line = AddressLine {
            tls: vec![
                "127.0.0.1:8443".parse().unwrap(),
                "[::1]:8443".parse().unwrap(),
            ],
            plain: vec!["127.0.0.1:9350".parse().unwrap()],
            middlebox: None,
            upstream: None,
            connection_string: Some(
                "Endpoint=sb://127.0.0.1:8443/;SharedAccessKeyName=Root;SharedAccessKey=abc+/=;EntityPath=hc1"
                    .parse()
                    .unwrap(),
            ),
            service_idle_limit: Some(Duration::from_millis(2500)),
            ca_file: Some(PathBuf::from("/tmp/a dir/mock-relay-ca.pem")),
        };
        let text = line.to_string();
        assert_eq!(
            text,
            "listening tls=127.0.0.1:8443 tls=[::1]:8443 plain=127.0.0.1:9350 \
             connection-string=Endpoint=sb://127.0.0.1:8443/;SharedAccessKeyName=Root;SharedAccessKey=abc+/=;EntityPath=hc1 \
             service-idle-limit=2.5 ca=/tmp/a dir/mock-relay-ca.pem"
        );
        assert!(!format!("{line:?}").contains("abc+/="));
        assert_eq!(text.parse::<AddressLine>().unwrap(), line);
        let mb: AddressLine = "listening middlebox=127.0.0.1:1 upstream=127.0.0.1:2"
            .parse()
            .unwrap();
        assert_eq!(mb.middlebox.unwrap().port(), 1);
        assert!("hello".parse::<AddressLine>().is_err());
        let bad = "listening connection-string=Endpoint=sb://h/;SharedAccessKey=s3cret"
            .parse::<AddressLine>()
            .unwrap_err()
            .to_string();
        assert!(
            bad.contains("SharedAccessKeyName") && !bad.contains("s3cret"),
            "{bad}"
        );
    }
}
