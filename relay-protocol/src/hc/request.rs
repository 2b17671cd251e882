//! The service side of a handshake: an incoming request's path and query, typed.
//!
//! ```text
//! /$hc/hyco?sb-hc-action=listen&sb-hc-id=l1                    -> Listen, path "hyco", id "l1"
//! /$hc/hyco/suffix?x=1&sb-hc-action=connect                    -> Connect, path "hyco/suffix", query [x=1]
//! /$hc/hyco?sb-hc-action=accept&sb-hc-id=a1&sb-hc-statusCode=403&sb-hc-statusDescription=busy
//!                                                              -> Accept with a Rejection
//! ```
//!
//! The query is read as `application/x-www-form-urlencoded` (`+` is a space), the path by
//! `%XX` escapes only. The service cannot tell an entity from a sender's path suffix without
//! knowing its entities (protocol guide, "Web Socket connect protocol": `hyco/suffix?param=value`),
//! so [`HcRequest::path`] is the whole decoded path and [`HcRequest::split_entity`] finds the entity.

use crate::encoding::{decode_component, shown};
use crate::secret::SecretString;

use super::namespace::{EntityPath, EntityPathError};
use super::{Action, PATH_PREFIX, QUERY_ACTION, QUERY_ID, QUERY_PREFIX, QUERY_STATUS_CODE};
use super::{MAX_ID_BYTES, MAX_STATUS_DESCRIPTION_BYTES, QUERY_STATUS_DESCRIPTION, QUERY_TOKEN};

/// `/$hc/` with the `$` percent-encoded, as some clients send it.
const ENCODED_PATH_PREFIX: &str = "/%24hc/";

/// A typed Hybrid Connections handshake request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HcRequest {
    /// The decoded path after `/$hc/`: the entity, possibly followed by a sender's suffix.
    pub path: EntityPath,
    pub action: Action,
    /// `sb-hc-id`, when the client sent one.
    pub id: Option<String>,
    /// `sb-hc-token`, decoded, when the client sent one.
    pub token: Option<SecretString>,
    /// `sb-hc-statusCode` and `sb-hc-statusDescription`: a listener rejecting a sender.
    pub rejection: Option<Rejection>,
    /// Every query parameter not starting with `sb-hc-`, decoded, in order: the sender's
    /// arguments for the listener. Unknown `sb-hc-` parameters are dropped, as the service does.
    pub query: Vec<(String, String)>,
}

/// A listener's reject: the status and reason the sender's handshake fails with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub status_code: u16,
    pub description: String,
}

/// Why a request is not a valid Hybrid Connections handshake; each names what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HcRequestError {
    #[error("path does not start with /$hc/")]
    NotHybridConnectionPath,
    #[error("path has no percent-decodable UTF-8 entity")]
    PathEncoding,
    #[error("path after /$hc/: {0}")]
    BadPath(EntityPathError),
    #[error("query parameter {0} is missing")]
    MissingParameter(&'static str),
    #[error("query parameter {0} is given more than once")]
    DuplicateParameter(&'static str),
    #[error("query parameter sb-hc-action is '{0}'; expected listen, connect, accept or request")]
    UnknownAction(String),
    #[error("query parameter sb-hc-statusCode is '{0}'; expected an HTTP status from 100 to 599")]
    BadStatusCode(String),
    #[error("query parameters sb-hc-statusCode and sb-hc-statusDescription are only valid with sb-hc-action=accept")]
    RejectionWithoutAccept,
    #[error("query parameter {parameter} is {length} bytes long; at most {max} are accepted")]
    TooLong {
        parameter: &'static str,
        length: usize,
        max: usize,
    },
}

impl HcRequestError {
    /// The HTTP status a service answers with: 404 when the path is wrong ("The Hybrid
    /// Connection path is invalid or the base URL is malformed"), 400 when the query is
    /// ("Unrecognized action or URL not valid"), both from the protocol guide. A well-formed
    /// accept for an address the service does not know is
    /// [`ACCEPT_ADDRESS_INVALID_STATUS`](super::ACCEPT_ADDRESS_INVALID_STATUS) (403), decided by
    /// the service, not here.
    pub fn http_status(&self) -> u16 {
        match self {
            HcRequestError::NotHybridConnectionPath
            | HcRequestError::PathEncoding
            | HcRequestError::BadPath(_) => 404,
            _ => 400,
        }
    }
}

/// Whether a request target asks for a Hybrid Connections action at all (has `sb-hc-action`):
/// the project's own listener channel shares the `/$hc/` prefix but sends no such parameter.
pub fn has_hc_action(path_and_query: &str) -> bool {
    let query = path_and_query.split_once('?').map_or("", |(_, q)| q);
    url::form_urlencoded::parse(query.as_bytes()).any(|(name, _)| name == QUERY_ACTION)
}

impl HcRequest {
    /// Parses a request target (`/$hc/{path}?{query}`).
    pub fn parse(path_and_query: &str) -> Result<Self, HcRequestError> {
        let (raw_path, raw_query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let path = parse_path(raw_path)?;
        let params = Params::parse(raw_query)?;
        check_length(QUERY_ID, params.id.as_deref(), MAX_ID_BYTES)?;
        check_length(
            QUERY_STATUS_DESCRIPTION,
            params.status_description.as_deref(),
            MAX_STATUS_DESCRIPTION_BYTES,
        )?;

        let action_text = params
            .action
            .ok_or(HcRequestError::MissingParameter(QUERY_ACTION))?;
        let action: Action = action_text
            .parse()
            .map_err(|_| HcRequestError::UnknownAction(shown(&action_text)))?;
        let rejection = match (params.status_code, params.status_description) {
            (None, None) => None,
            (Some(_), None) => {
                return Err(HcRequestError::MissingParameter(QUERY_STATUS_DESCRIPTION))
            }
            (None, Some(_)) => return Err(HcRequestError::MissingParameter(QUERY_STATUS_CODE)),
            (Some(code), Some(description)) => Some(Rejection {
                status_code: parse_status(&code)?,
                description,
            }),
        };
        if rejection.is_some() && action != Action::Accept {
            return Err(HcRequestError::RejectionWithoutAccept);
        }
        Ok(HcRequest {
            path,
            action,
            id: params.id,
            token: params.token.map(SecretString::new),
            rejection,
            query: params.other,
        })
    }

    /// The token to check: the `ServiceBusAuthorization` header when present (the SDKs send
    /// it there), else `sb-hc-token`.
    pub fn token<'a>(&'a self, authorization_header: Option<&'a str>) -> Option<&'a str> {
        authorization_header.or(self.token.as_ref().map(SecretString::expose))
    }

    /// Splits [`path`](HcRequest::path) into the longest leading run of segments that
    /// `is_entity` accepts and the rest (the sender's suffix, possibly empty). `None` when no
    /// prefix is an entity.
    pub fn split_entity(&self, is_entity: impl Fn(&str) -> bool) -> Option<(&str, &str)> {
        let full = self.path.as_str();
        full.match_indices('/')
            .map(|(at, _)| at)
            .chain(std::iter::once(full.len()))
            .rev()
            .find(|&end| is_entity(&full[..end]))
            .map(|end| (&full[..end], full[end..].trim_start_matches('/')))
    }
}

/// `/$hc/{path}` (one trailing `/` tolerated) to a validated, decoded path.
fn parse_path(raw: &str) -> Result<EntityPath, HcRequestError> {
    let rest = raw
        .strip_prefix(PATH_PREFIX)
        .or_else(|| {
            raw.get(..ENCODED_PATH_PREFIX.len())
                .filter(|head| head.eq_ignore_ascii_case(ENCODED_PATH_PREFIX))
                .map(|_| &raw[ENCODED_PATH_PREFIX.len()..])
        })
        .ok_or(HcRequestError::NotHybridConnectionPath)?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let decoded = rest
        .split('/')
        .map(decode_component)
        .collect::<Option<Vec<_>>>()
        .ok_or(HcRequestError::PathEncoding)?
        .join("/");
    EntityPath::new(&decoded).map_err(HcRequestError::BadPath)
}

/// Refuses a client-chosen value the service would keep in memory when it is too long.
fn check_length(
    parameter: &'static str,
    value: Option<&str>,
    max: usize,
) -> Result<(), HcRequestError> {
    match value {
        Some(text) if text.len() > max => Err(HcRequestError::TooLong {
            parameter,
            length: text.len(),
            max,
        }),
        _ => Ok(()),
    }
}

fn parse_status(text: &str) -> Result<u16, HcRequestError> {
    let bad = || HcRequestError::BadStatusCode(shown(text));
    if text.is_empty() || text.len() > 3 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match text.parse::<u16>() {
        Ok(code @ 100..=599) => Ok(code),
        _ => Err(bad()),
    }
}

/// The query split into the parameters the protocol defines and the rest.
#[derive(Default)]
struct Params {
    action: Option<String>,
    id: Option<String>,
    token: Option<String>,
    status_code: Option<String>,
    status_description: Option<String>,
    other: Vec<(String, String)>,
}

impl Params {
    fn parse(raw_query: &str) -> Result<Self, HcRequestError> {
        let mut params = Params::default();
        for (name, value) in url::form_urlencoded::parse(raw_query.as_bytes()) {
            let (slot, name) = match name.as_ref() {
                QUERY_ACTION => (&mut params.action, QUERY_ACTION),
                QUERY_ID => (&mut params.id, QUERY_ID),
                QUERY_TOKEN => (&mut params.token, QUERY_TOKEN),
                QUERY_STATUS_CODE => (&mut params.status_code, QUERY_STATUS_CODE),
                QUERY_STATUS_DESCRIPTION => {
                    (&mut params.status_description, QUERY_STATUS_DESCRIPTION)
                }
                other if other.starts_with(QUERY_PREFIX) => continue,
                _ => {
                    params.other.push((name.into_owned(), value.into_owned()));
                    continue;
                }
            };
            if slot.replace(value.into_owned()).is_some() {
                return Err(HcRequestError::DuplicateParameter(name));
            }
        }
        Ok(params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_listen_request() {
        let req = HcRequest::parse("/$hc/hyco?sb-hc-action=listen&sb-hc-id=l1").unwrap();
        assert_eq!(req.path.as_str(), "hyco");
        assert_eq!(req.action, Action::Listen);
        assert_eq!(req.id.as_deref(), Some("l1"));
        assert_eq!(req.token, None);
        assert_eq!(req.rejection, None);
        assert!(req.query.is_empty());
    }

    #[test]
    fn decodes_path_token_and_keeps_other_parameters() {
        let req = HcRequest::parse(
            "/%24hc/site%201/wb/?a=1&sb-hc-action=connect&sb-hc-token=SharedAccessSignature%20sr%3Dx&sb-hc-future=1&b=%2B",
        )
        .unwrap();
        assert_eq!(req.path.as_str(), "site 1/wb");
        assert_eq!(req.action, Action::Connect);
        assert_eq!(
            req.token.as_ref().map(SecretString::expose),
            Some("SharedAccessSignature sr=x")
        );
        assert_eq!(req.token(None), Some("SharedAccessSignature sr=x"));
        assert_eq!(req.token(Some("from header")), Some("from header"));
        assert_eq!(
            req.query,
            vec![("a".into(), "1".into()), ("b".into(), "+".into())]
        );
        assert!(!format!("{req:?}").contains("SharedAccessSignature"));
    }

    #[test]
    fn parses_a_reject() {
        let req = HcRequest::parse(
            "/$hc/hyco?sb-hc-action=accept&sb-hc-id=a1&sb-hc-statusCode=403&sb-hc-statusDescription=No%20thanks",
        )
        .unwrap();
        assert_eq!(
            req.rejection,
            Some(Rejection {
                status_code: 403,
                description: "No thanks".into()
            })
        );
    }

    #[test]
    fn errors_name_what_is_wrong() {
        let err = |target: &str| HcRequest::parse(target).unwrap_err();
        assert_eq!(
            err("/echo?sb-hc-action=listen"),
            HcRequestError::NotHybridConnectionPath
        );
        assert_eq!(
            err("/$hc/?sb-hc-action=listen"),
            HcRequestError::BadPath(EntityPathError::Empty)
        );
        assert_eq!(
            err("/$hc/a%FF?sb-hc-action=listen"),
            HcRequestError::PathEncoding
        );
        assert_eq!(
            err("/$hc/hyco"),
            HcRequestError::MissingParameter("sb-hc-action")
        );
        assert_eq!(
            err("/$hc/hyco?sb-hc-action=respond"),
            HcRequestError::UnknownAction("respond".into())
        );
        assert_eq!(
            err("/$hc/hyco?sb-hc-action=listen&sb-hc-action=listen"),
            HcRequestError::DuplicateParameter("sb-hc-action")
        );
        assert_eq!(
            err("/$hc/hyco?sb-hc-action=accept&sb-hc-statusCode=4033&sb-hc-statusDescription=x"),
            HcRequestError::BadStatusCode("4033".into())
        );
        assert_eq!(
            err("/$hc/hyco?sb-hc-action=accept&sb-hc-statusCode=403"),
            HcRequestError::MissingParameter("sb-hc-statusDescription")
        );
        assert_eq!(
            err("/$hc/hyco?sb-hc-action=listen&sb-hc-statusCode=403&sb-hc-statusDescription=x"),
            HcRequestError::RejectionWithoutAccept
        );
        let long_id = format!(
            "/$hc/hyco?sb-hc-action=connect&sb-hc-id={}",
            "i".repeat(257)
        );
        assert_eq!(
            err(&long_id),
            HcRequestError::TooLong {
                parameter: "sb-hc-id",
                length: 257,
                max: 256
            }
        );
        let long_text = format!(
            "/$hc/hyco?sb-hc-action=accept&sb-hc-statusCode=400&sb-hc-statusDescription={}",
            "%C3%A9".repeat(257)
        );
        assert!(
            err(&long_text).to_string().starts_with(
                "query parameter sb-hc-statusDescription is 514 bytes long; at most 512"
            ),
            "{}",
            err(&long_text)
        );
        assert_eq!(err(&long_id).http_status(), 400);
        assert_eq!(err("/$hc/hyco?sb-hc-action=x").http_status(), 400);
        assert_eq!(err("/nope").http_status(), 404);
        let message = err("/$hc/hyco?sb-hc-action=lis%0Aten").to_string();
        assert!(
            message.contains("sb-hc-action") && message.contains("lis\\nten"),
            "{message}"
        );
    }

    #[test]
    fn splits_entity_from_suffix() {
        let req = HcRequest::parse("/$hc/a/b/c?sb-hc-action=connect").unwrap();
        assert_eq!(req.split_entity(|e| e == "a/b"), Some(("a/b", "c")));
        assert_eq!(
            req.split_entity(|e| e == "a" || e == "a/b/c"),
            Some(("a/b/c", ""))
        );
        assert_eq!(req.split_entity(|_| false), None);
    }

    #[test]
    fn recognises_hc_requests_on_the_shared_prefix() {
        assert!(has_hc_action("/$hc/hyco?sb-hc-action=listen"));
        assert!(!has_hc_action("/$hc/probe-1"));
        assert!(!has_hc_action("/$hc/probe-1?x=sb-hc-action"));
    }
}
