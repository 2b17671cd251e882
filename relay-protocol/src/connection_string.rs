//! Relay connection strings, as the Azure portal and `az relay ... authorization-rule keys list`
//! print them:
//!
//! ```text
//! Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=NAME;SharedAccessKey=KEY;EntityPath=hc1
//! Endpoint=sb://relay.lab:8443/;SharedAccessSignature=SharedAccessSignature sr=...&sig=...&se=...&skn=...
//! ```
//!
//! Parsing follows the .NET SDK's `RelayConnectionStringBuilder`: split on `;` (empty segments
//! ignored), each segment on its first `=`, keys case-insensitive; unknown keys are an error
//! (a misspelt `SharedAccesKey` should not silently mean "no key"); `SharedAccessSignature`
//! replaces `SharedAccessKeyName` + `SharedAccessKey` and may not be combined with them. Unlike
//! the SDK, whitespace around keys and values is trimmed (strings pasted from a terminal).
//!
//! Errors name the key that is missing or bad and never contain a value: a misplaced `;` can
//! turn part of a key into a "key name", so even unknown names are reported by position only.

use std::fmt;
use std::str::FromStr;

use crate::hc::{EntityPath, EntityPathError, Namespace, NamespaceError};
use crate::sas::{SasKey, SasKeyError, SasToken, SasTokenError};
use crate::secret::{SecretString, REDACTED};

const ENDPOINT: &str = "Endpoint";
const KEY_NAME: &str = "SharedAccessKeyName";
const KEY: &str = "SharedAccessKey";
const SIGNATURE: &str = "SharedAccessSignature";
const ENTITY_PATH: &str = "EntityPath";
/// Known to the .NET SDK, meaningless here: accepted and ignored.
const OPERATION_TIMEOUT: &str = "OperationTimeout";

/// A parsed connection string. `Display` and `Debug` show it with the key or signature as
/// `****`; [`expose`](ConnectionString::expose) renders it whole.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectionString {
    endpoint: Namespace,
    entity_path: Option<EntityPath>,
    credential: Credential,
}

/// How a connection string authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// `SharedAccessKeyName` and `SharedAccessKey`: tokens are signed as needed.
    Key(SasKey),
    /// `SharedAccessSignature`: a ready-made token, used as is until it expires.
    Signature(SasToken),
}

/// Why a connection string was refused. Names keys, never values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionStringError {
    #[error("connection string is empty")]
    Empty,
    #[error("connection string setting {position} has no '=' (expected Key=Value; settings are separated by ';')")]
    NoEquals { position: usize },
    #[error("connection string setting {position} has an unknown key (expected Endpoint, SharedAccessKeyName, SharedAccessKey, SharedAccessSignature or EntityPath)")]
    UnknownKey { position: usize },
    #[error("connection string gives {0} more than once")]
    Duplicate(&'static str),
    #[error("connection string has no {0}")]
    Missing(&'static str),
    #[error("connection string has no credentials: give SharedAccessKeyName and SharedAccessKey, or SharedAccessSignature")]
    MissingCredential,
    #[error(
        "connection string gives SharedAccessSignature together with {0}; use one or the other"
    )]
    Conflict(&'static str),
    #[error("connection string {ENDPOINT} {0}")]
    BadEndpoint(&'static str),
    #[error("connection string {ENDPOINT}: {0}")]
    BadEndpointHost(NamespaceError),
    #[error("connection string {ENTITY_PATH}: {0}")]
    BadEntityPath(EntityPathError),
    #[error("connection string {0}")]
    BadKey(SasKeyError),
    #[error("connection string {SIGNATURE}: {0}")]
    BadSignature(SasTokenError),
}

impl ConnectionString {
    pub fn new(
        endpoint: Namespace,
        entity_path: Option<EntityPath>,
        credential: Credential,
    ) -> Self {
        ConnectionString {
            endpoint,
            entity_path,
            credential,
        }
    }

    /// Parses a connection string (see the module documentation for the rules).
    pub fn parse(text: &str) -> Result<Self, ConnectionStringError> {
        let mut fields = Fields::default();
        for (index, segment) in text
            .split(';')
            .map(str::trim)
            .filter(|segment| !segment.is_empty())
            .enumerate()
        {
            let position = index + 1;
            let (key, value) = segment
                .split_once('=')
                .ok_or(ConnectionStringError::NoEquals { position })?;
            fields.set(key.trim(), value.trim(), position)?;
        }
        if fields.is_empty() {
            return Err(ConnectionStringError::Empty);
        }
        fields.into_connection_string()
    }

    /// The namespace (`Endpoint`'s host and port).
    pub fn endpoint(&self) -> &Namespace {
        &self.endpoint
    }

    /// `EntityPath`, when given.
    pub fn entity_path(&self) -> Option<&EntityPath> {
        self.entity_path.as_ref()
    }

    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    /// The connection string with the key or signature as `****`.
    pub fn redacted(&self) -> String {
        self.render(false)
    }

    /// The whole connection string, key included, in the portal's order
    /// (`Endpoint`, `SharedAccessKeyName`, `SharedAccessKey`, `EntityPath`).
    pub fn expose(&self) -> SecretString {
        SecretString::new(self.render(true))
    }

    fn render(&self, with_secret: bool) -> String {
        let mut out = format!("{ENDPOINT}=sb://{}/", self.endpoint.authority());
        match &self.credential {
            Credential::Key(key) => {
                let secret = if with_secret {
                    key.key().expose()
                } else {
                    REDACTED
                };
                out.push_str(&format!(";{KEY_NAME}={};{KEY}={secret}", key.name()));
            }
            Credential::Signature(token) => {
                let secret = if with_secret {
                    token.expose().expose().to_owned()
                } else {
                    REDACTED.to_owned()
                };
                out.push_str(&format!(";{SIGNATURE}={secret}"));
            }
        }
        if let Some(entity) = &self.entity_path {
            out.push_str(&format!(";{ENTITY_PATH}={entity}"));
        }
        out
    }
}

impl FromStr for ConnectionString {
    type Err = ConnectionStringError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ConnectionString::parse(text)
    }
}

impl fmt::Display for ConnectionString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for ConnectionString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ConnectionString")
            .field(&self.redacted())
            .finish()
    }
}

/// The raw values, each at most once.
#[derive(Default)]
struct Fields<'a> {
    endpoint: Option<&'a str>,
    key_name: Option<&'a str>,
    key: Option<&'a str>,
    signature: Option<&'a str>,
    entity_path: Option<&'a str>,
    ignored: bool,
}

impl<'a> Fields<'a> {
    fn set(
        &mut self,
        key: &str,
        value: &'a str,
        position: usize,
    ) -> Result<(), ConnectionStringError> {
        let is = |name: &str| key.eq_ignore_ascii_case(name);
        let (slot, name) = if is(ENDPOINT) {
            (&mut self.endpoint, ENDPOINT)
        } else if is(KEY_NAME) {
            (&mut self.key_name, KEY_NAME)
        } else if is(KEY) {
            (&mut self.key, KEY)
        } else if is(SIGNATURE) {
            (&mut self.signature, SIGNATURE)
        } else if is(ENTITY_PATH) {
            (&mut self.entity_path, ENTITY_PATH)
        } else if is(OPERATION_TIMEOUT) {
            self.ignored = true;
            return Ok(());
        } else {
            return Err(ConnectionStringError::UnknownKey { position });
        };
        if slot.replace(value).is_some() {
            return Err(ConnectionStringError::Duplicate(name));
        }
        Ok(())
    }

    fn is_empty(&self) -> bool {
        !self.ignored
            && self.endpoint.is_none()
            && self.key_name.is_none()
            && self.key.is_none()
            && self.signature.is_none()
            && self.entity_path.is_none()
    }

    fn into_connection_string(self) -> Result<ConnectionString, ConnectionStringError> {
        let endpoint = parse_endpoint(
            self.endpoint
                .ok_or(ConnectionStringError::Missing(ENDPOINT))?,
        )?;
        let credential = match (self.signature, self.key_name, self.key) {
            (Some(_), Some(_), _) => return Err(ConnectionStringError::Conflict(KEY_NAME)),
            (Some(_), None, Some(_)) => return Err(ConnectionStringError::Conflict(KEY)),
            (Some(signature), None, None) => Credential::Signature(
                SasToken::parse(signature).map_err(ConnectionStringError::BadSignature)?,
            ),
            (None, Some(name), Some(key)) => {
                Credential::Key(SasKey::new(name, key).map_err(ConnectionStringError::BadKey)?)
            }
            (None, Some(_), None) => return Err(ConnectionStringError::Missing(KEY)),
            (None, None, Some(_)) => return Err(ConnectionStringError::Missing(KEY_NAME)),
            (None, None, None) => return Err(ConnectionStringError::MissingCredential),
        };
        let entity_path = self
            .entity_path
            .map(EntityPath::new)
            .transpose()
            .map_err(ConnectionStringError::BadEntityPath)?;
        Ok(ConnectionString::new(endpoint, entity_path, credential))
    }
}

/// `sb://host[:port][/]`: scheme `sb`, no user, no path, query or fragment.
fn parse_endpoint(value: &str) -> Result<Namespace, ConnectionStringError> {
    let bad = ConnectionStringError::BadEndpoint;
    if value.is_empty() {
        return Err(bad("is empty"));
    }
    let url = url::Url::parse(value)
        .map_err(|_| bad("must look like sb://NAMESPACE.servicebus.windows.net/"))?;
    if url.scheme() != "sb" {
        return Err(bad("must start with sb://"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not contain a user name or password"));
    }
    if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
        return Err(bad(
            "must be only sb://HOST[:PORT]/ (the entity goes in EntityPath)",
        ));
    }
    let host = url
        .host_str()
        .filter(|host| !host.is_empty())
        .ok_or(bad("has no host"))?;
    Namespace::new(host, url.port()).map_err(ConnectionStringError::BadEndpointHost)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_TEXT: &str = "0123456789abcdefABCDEF0123456789abcdefABCDE=";

    fn parse(text: &str) -> Result<ConnectionString, ConnectionStringError> {
        ConnectionString::parse(text)
    }

    #[test]
    fn parses_the_portal_form() {
        let cs = parse(&format!(
            "Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={KEY_TEXT};EntityPath=hc1"
        ))
        .unwrap();
        assert_eq!(cs.endpoint().host(), "contoso.servicebus.windows.net");
        assert_eq!(cs.endpoint().port(), None);
        assert_eq!(cs.entity_path().map(EntityPath::as_str), Some("hc1"));
        let Credential::Key(key) = cs.credential() else {
            panic!("no key")
        };
        assert_eq!(key.name(), "RootManageSharedAccessKey");
        assert_eq!(key.key().expose(), KEY_TEXT);
    }

    #[test]
    fn tolerates_case_spaces_order_and_empty_segments() {
        let cs = parse(&format!(
            " ;; entitypath = hc1 ; sharedaccesskey= {KEY_TEXT} ;ENDPOINT=sb://Relay.Lab:8443 ; SharedAccessKeyName =listen;OperationTimeout=00:01:00;"
        ))
        .unwrap();
        assert_eq!(cs.endpoint().authority(), "relay.lab:8443");
        assert_eq!(cs.entity_path().map(EntityPath::as_str), Some("hc1"));
        assert!(
            matches!(cs.credential(), Credential::Key(k) if k.name() == "listen" && k.key().expose() == KEY_TEXT)
        );
    }

    #[test]
    fn splits_each_setting_on_the_first_equals_only() {
        let cs =
            parse("Endpoint=sb://relay.lab/;SharedAccessKeyName=n;SharedAccessKey=abc==").unwrap();
        assert!(matches!(cs.credential(), Credential::Key(k) if k.key().expose() == "abc=="));
    }

    #[test]
    fn accepts_a_shared_access_signature_instead_of_a_key() {
        let token = SasKey::new("send", KEY_TEXT)
            .unwrap()
            .sign("http://relay.lab/hc1/", 1_700_000_000);
        let text = format!(
            "Endpoint=sb://relay.lab/;SharedAccessSignature={}",
            token.expose().expose()
        );
        let cs = parse(&text).unwrap();
        assert_eq!(cs.credential(), &Credential::Signature(token));
        assert_eq!(cs.expose().expose(), text);
        assert_eq!(
            cs.to_string(),
            "Endpoint=sb://relay.lab/;SharedAccessSignature=****"
        );
    }

    #[test]
    fn redacts_the_key_everywhere_it_prints() {
        let cs = parse(&format!(
            "Endpoint=sb://relay.lab:8443/;SharedAccessKeyName=listen;SharedAccessKey={KEY_TEXT};EntityPath=hc1"
        ))
        .unwrap();
        let redacted = "Endpoint=sb://relay.lab:8443/;SharedAccessKeyName=listen;SharedAccessKey=****;EntityPath=hc1";
        assert_eq!(cs.redacted(), redacted);
        assert_eq!(cs.to_string(), redacted);
        assert!(!format!("{cs:?}").contains(KEY_TEXT));
        assert!(cs.expose().expose().contains(KEY_TEXT));
    }

    #[test]
    fn renders_and_reads_back() {
        let cs = ConnectionString::new(
            Namespace::parse("relay.lab:8443").unwrap(),
            Some(EntityPath::new("site 1/hc").unwrap()),
            Credential::Key(SasKey::new("relay", KEY_TEXT).unwrap()),
        );
        let text = cs.expose();
        assert_eq!(
            text.expose(),
            format!("Endpoint=sb://relay.lab:8443/;SharedAccessKeyName=relay;SharedAccessKey={KEY_TEXT};EntityPath=site 1/hc")
        );
        assert_eq!(parse(text.expose()).unwrap(), cs);
    }

    #[test]
    fn errors_name_the_key_and_never_the_value() {
        let secret = "Sup3rSecretKeyMaterial";
        let cases: Vec<(String, ConnectionStringError)> = vec![
            ("".into(), ConnectionStringError::Empty),
            (" ; ".into(), ConnectionStringError::Empty),
            (
                format!("SharedAccessKeyName=n;SharedAccessKey={secret}"),
                ConnectionStringError::Missing("Endpoint"),
            ),
            (
                format!("Endpoint=sb://h/;SharedAccessKey={secret}"),
                ConnectionStringError::Missing("SharedAccessKeyName"),
            ),
            ("Endpoint=sb://h/;SharedAccessKeyName=n".into(), ConnectionStringError::Missing("SharedAccessKey")),
            ("Endpoint=sb://h/".into(), ConnectionStringError::MissingCredential),
            (
                format!("Endpoint=sb://h/;SharedAccessKeyName=n;{secret}"),
                ConnectionStringError::NoEquals { position: 3 },
            ),
            (
                format!("Endpoint=sb://h/;SharedAccessKeyName=n;SharedAccesKey={secret}"),
                ConnectionStringError::UnknownKey { position: 3 },
            ),
            (
                format!("Endpoint=sb://h/;SharedAccessKeyName=n;SharedAccessKey={secret};sharedaccesskey={secret}"),
                ConnectionStringError::Duplicate("SharedAccessKey"),
            ),
            (
                "Endpoint=sb://h/;SharedAccessKeyName=n;SharedAccessKey=;x".into(),
                ConnectionStringError::NoEquals { position: 4 },
            ),
            (
                "Endpoint=sb://h/;SharedAccessKeyName=n;SharedAccessKey=".into(),
                ConnectionStringError::BadKey(SasKeyError::Empty("SharedAccessKey")),
            ),
            (
                format!("Endpoint=https://h/;SharedAccessKeyName=n;SharedAccessKey={secret}"),
                ConnectionStringError::BadEndpoint("must start with sb://"),
            ),
            (
                format!("Endpoint=sb://h/hc1;SharedAccessKeyName=n;SharedAccessKey={secret}"),
                ConnectionStringError::BadEndpoint("must be only sb://HOST[:PORT]/ (the entity goes in EntityPath)"),
            ),
            (
                format!("Endpoint=sb://h:99999/;SharedAccessKeyName=n;SharedAccessKey={secret}"),
                ConnectionStringError::BadEndpoint("must look like sb://NAMESPACE.servicebus.windows.net/"),
            ),
            (
                format!("Endpoint=sb://h/;SharedAccessKeyName=n;SharedAccessKey={secret};EntityPath=a//b"),
                ConnectionStringError::BadEntityPath(EntityPathError::EmptySegment),
            ),
            (
                format!("Endpoint=sb://h/;SharedAccessKeyName=n;SharedAccessKey={secret};SharedAccessSignature=SharedAccessSignature sr={secret}"),
                ConnectionStringError::Conflict("SharedAccessKeyName"),
            ),
            (
                format!("Endpoint=sb://h/;SharedAccessSignature=SharedAccessSignature sr=a&sig={secret}&se=1"),
                ConnectionStringError::BadSignature(SasTokenError::MissingField("skn")),
            ),
        ];
        for (text, expected) in cases {
            let err = parse(&text).unwrap_err();
            assert_eq!(err, expected, "{text}");
            let message = err.to_string();
            assert!(!message.contains(secret), "{message}");
            assert!(!format!("{err:?}").contains(secret), "{err:?}");
        }
    }
}
