//! Which entity a listener's or sender's request is for, and whether its token may have it.
//!
//! Order of the checks: the token (401: missing, malformed, unknown key name, bad signature,
//! expired; 403: for another namespace or entity), then the entity (404), as the protocol
//! guide's handshake table lists them. The token is checked against the namespace the request
//! names in `Host` (the name the client connected with), so a rehearsal that points the real
//! namespace name at the relay works as a lab name does.

use super::answer::Refusal;
use super::{now_unix, HcConfig};
use http::{header, HeaderMap};
use relay_protocol::hc::{EntityPath, HcRequest, Namespace, AUTHORIZATION_HEADER};
use relay_protocol::sas::{self, SasToken};

/// The entity a request is for.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// As the request spells it.
    pub entity: EntityPath,
    /// Lower case: Azure entity names are case-insensitive.
    pub key: String,
    /// A sender's path below the entity (empty for a listener).
    pub suffix: String,
    /// A sender's query parameters (without the `sb-hc-` ones), for its listener.
    pub query: Vec<(String, String)>,
    /// The namespace as the request named it (`Host`).
    pub namespace: Namespace,
}

impl Target {
    /// The entity and the suffix, lower case, as an address names them.
    pub(crate) fn path_key(&self) -> String {
        if self.suffix.is_empty() {
            self.key.clone()
        } else {
            format!("{}/{}", self.key, self.suffix.to_lowercase())
        }
    }
}

/// The namespace a request names in `Host`, or the relay's own when it names none usable.
pub(crate) fn namespace_of(headers: &HeaderMap, fallback: &Namespace) -> Namespace {
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .and_then(|host| Namespace::parse(host).ok())
        .unwrap_or_else(|| fallback.clone())
}

/// Checks the token and finds the entity; a refusal is the service's answer.
pub(crate) fn authorize(
    headers: &HeaderMap,
    request: &HcRequest,
    config: &HcConfig,
) -> Result<(Target, SasToken), Refusal> {
    let (namespace, entity, suffix) = locate(headers, request, config);
    let header = headers
        .get(AUTHORIZATION_HEADER)
        .and_then(|v| v.to_str().ok());
    let token = sas::authorize(
        request.token(header),
        &config.keys,
        now_unix(),
        &namespace,
        entity,
    )
    .map_err(|e| Refusal::new(e.http_status(), e.to_string()))?;
    Ok((target(namespace, entity, suffix, request, config)?, token))
}

/// A sender's check: as [`authorize`], except that a sender with no token at all reaches an
/// entity configured anonymous (`--anonymous`, the portal's "Requires Client Authorization"
/// turned off: "The token can be omitted if the Hybrid Connection is configured to permit
/// anonymous requests", protocol guide). A token, when given, is checked all the same.
pub(crate) fn authorize_sender(
    headers: &HeaderMap,
    request: &HcRequest,
    config: &HcConfig,
) -> Result<Target, Refusal> {
    let tokenless = !headers.contains_key(AUTHORIZATION_HEADER) && request.token.is_none();
    let (namespace, entity, suffix) = locate(headers, request, config);
    if tokenless
        && config
            .anonymous
            .iter()
            .any(|a| a.eq_ignore_ascii_case(entity))
    {
        return target(namespace, entity, suffix, request, config);
    }
    authorize(headers, request, config).map(|(target, _)| target)
}

/// The namespace the request names, and its path split into the entity and the suffix.
fn locate<'a>(
    headers: &HeaderMap,
    request: &'a HcRequest,
    config: &HcConfig,
) -> (Namespace, &'a str, &'a str) {
    let namespace = namespace_of(headers, &config.namespace);
    let (entity, suffix) = match &config.entities {
        None => (request.path.as_str(), ""),
        Some(list) => request
            .split_entity(|name| list.iter().any(|e| e.as_str().eq_ignore_ascii_case(name)))
            .unwrap_or((request.path.as_str(), "")),
    };
    (namespace, entity, suffix)
}

/// The target, or 404 when the entity does not exist.
fn target(
    namespace: Namespace,
    entity: &str,
    suffix: &str,
    request: &HcRequest,
    config: &HcConfig,
) -> Result<Target, Refusal> {
    let not_found = || {
        Refusal::new(
            404,
            format!(
                "No hybrid connection named '{}' exists in this namespace.",
                super::shown(entity)
            ),
        )
    };
    let known = match &config.entities {
        None => true,
        Some(list) => list.iter().any(|e| e.as_str().eq_ignore_ascii_case(entity)),
    };
    if !known {
        return Err(not_found());
    }
    let entity = EntityPath::new(entity).map_err(|_| not_found())?;
    Ok(Target {
        key: entity.as_str().to_lowercase(),
        entity,
        suffix: suffix.to_string(),
        query: request.query.clone(),
        namespace,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use relay_protocol::sas::SasKey;
    use std::time::Duration;

    fn config(entities: Option<&[&str]>) -> HcConfig {
        HcConfig {
            keys: vec![SasKey::new("root", "k3y=").unwrap()],
            namespace: Namespace::parse("relay.lab:8443").unwrap(),
            entities: entities
                .map(|list| list.iter().map(|e| EntityPath::new(e).unwrap()).collect()),
            accept_timeout: Duration::from_secs(30),
            service_idle_limit: None,
            response_timeout: Duration::from_secs(60),
            frame_limit: 1 << 20,
            anonymous: vec!["open".into()],
            deny: Vec::new(),
            gateways: Vec::new(),
        }
    }

    fn headers(host: &str, resource: &str) -> HeaderMap {
        let token = SasKey::new("root", "k3y=")
            .unwrap()
            .sign(resource, now_unix() + 60);
        let mut map = HeaderMap::new();
        map.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        map.insert(
            AUTHORIZATION_HEADER,
            HeaderValue::from_str(token.expose().expose()).unwrap(),
        );
        map
    }

    fn status(result: Result<(Target, SasToken), Refusal>) -> u16 {
        match result {
            Ok(_) => 101,
            Err(refusal) => refusal.status,
        }
    }

    #[test]
    fn token_then_entity() {
        let request = HcRequest::parse("/$hc/HC1/sub?sb-hc-action=connect").unwrap();
        let only = config(Some(&["hc1"]));
        let (target, _) = authorize(
            &headers("relay.lab:8443", "http://relay.lab/hc1/"),
            &request,
            &only,
        )
        .unwrap();
        assert_eq!(
            (target.key.as_str(), target.suffix.as_str()),
            ("hc1", "sub")
        );
        assert_eq!(target.entity.as_str(), "HC1");
        let other = headers("relay.lab:8443", "http://relay.lab/hc2/");
        assert_eq!(status(authorize(&other, &request, &only)), 403);
        let unknown = HcRequest::parse("/$hc/nope?sb-hc-action=listen").unwrap();
        let signed = headers("relay.lab", "http://relay.lab/nope/");
        assert_eq!(status(authorize(&signed, &unknown, &only)), 404);
        assert_eq!(status(authorize(&signed, &unknown, &config(None))), 101);
        assert_eq!(status(authorize(&HeaderMap::new(), &unknown, &only)), 401);
    }

    #[test]
    fn a_tokenless_sender_reaches_an_anonymous_entity_only() {
        let config = config(Some(&["hc1", "open"]));
        let open = HcRequest::parse("/$hc/open/x?sb-hc-action=connect").unwrap();
        let host = |h: &str| {
            let mut map = HeaderMap::new();
            map.insert(header::HOST, HeaderValue::from_str(h).unwrap());
            map
        };
        let target = authorize_sender(&host("relay.lab"), &open, &config).unwrap();
        assert_eq!((target.key.as_str(), target.suffix.as_str()), ("open", "x"));
        let closed = HcRequest::parse("/$hc/hc1?sb-hc-action=connect").unwrap();
        assert_eq!(
            authorize_sender(&host("relay.lab"), &closed, &config)
                .unwrap_err()
                .status,
            401
        );
        let bad = headers("relay.lab", "http://relay.lab/other/");
        assert_eq!(
            authorize_sender(&bad, &open, &config).unwrap_err().status,
            403
        );
    }

    #[test]
    fn the_token_is_for_the_host_the_client_named() {
        let request = HcRequest::parse("/$hc/hc1?sb-hc-action=listen").unwrap();
        let any = config(None);
        let real_name = headers(
            "contoso.servicebus.windows.net",
            "http://contoso.servicebus.windows.net/hc1/",
        );
        assert_eq!(status(authorize(&real_name, &request, &any)), 101);
        let mismatch = headers("127.0.0.1:8443", "http://relay.lab/hc1/");
        assert_eq!(status(authorize(&mismatch, &request, &any)), 403);
    }
}
