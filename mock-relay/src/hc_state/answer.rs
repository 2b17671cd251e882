//! Refusals as the service gives them: a plain HTTP status, the description as the reason
//! phrase (where the SDKs read it: .NET `WebSocketExceptionHelper` takes the response's
//! `ReasonPhrase`) and again as the first line of the body (for clients that cannot see reason
//! phrases).

use crate::response::{text, Body};
use http::{Response, StatusCode};
use hyper::ext::ReasonPhrase;

/// `sb-hc-action=connect` with no listener connected (the real service's words).
pub(crate) const NO_LISTENER: &str = "There are no listeners connected for the endpoint.";
/// A sender no listener accepted or rejected in time.
pub(crate) const NOT_ACCEPTED_IN_TIME: &str =
    "None of the connected listeners accepted the connection within the allowed timeout.";
/// An accept or reject at an address that is unknown, used, expired or for another entity.
pub(crate) const ADDRESS_INVALID: &str =
    "The accept address is not valid: unknown, already used, or expired.";

/// Marks an answer that is the listener's own (its rejection of a sender): passed on as the
/// listener wrote it, without the service's tracking suffix.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FromListener;

/// The service's refusal with its tracking suffix, as the service writes it in the reason
/// phrase: `DESCRIPTION TrackingId:ID_GN, SystemTracker:sb://HOST/PATH, Timestamp:YYYY-MM-DDTHH:MM:SS`
/// (seen in real 404s: "There are no listeners connected for the endpoint.
/// TrackingId:4f56f839-..._G13, SystemTracker:sb://azgn-....servicebus.windows.net/..., Timestamp:2025-04-24T11:08:15").
/// Answers without a reason phrase, and the listener's own, are left as they are.
pub(crate) fn tracked(
    resp: Response<Body>,
    tracking_id: &str,
    system_tracker: &str,
) -> Response<Body> {
    if resp.extensions().get::<FromListener>().is_some() {
        return resp;
    }
    let Some(reason) = resp.extensions().get::<ReasonPhrase>() else {
        return resp;
    };
    let description = String::from_utf8_lossy(reason.as_bytes()).into_owned();
    let stamp: String = relay_protocol::channel::now_rfc3339()
        .chars()
        .take(19)
        .collect();
    refuse(
        resp.status().as_u16(),
        &format!(
            "{description} TrackingId:{tracking_id}, SystemTracker:{system_tracker}, Timestamp:{stamp}"
        ),
    )
}

/// A refusal decided before the answer is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub status: u16,
    pub description: String,
}

impl Refusal {
    pub(crate) fn new(status: u16, description: impl Into<String>) -> Refusal {
        Refusal {
            status,
            description: description.into(),
        }
    }

    pub(crate) fn answer(&self) -> Response<Body> {
        refuse(self.status, &self.description)
    }
}

/// `status` with `description` as reason phrase and body.
pub(crate) fn refuse(status: u16, description: &str) -> Response<Body> {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let phrase = reason_phrase(description);
    let mut resp = text(status, format!("{phrase}\n"));
    if !phrase.is_empty() {
        if let Ok(reason) = ReasonPhrase::try_from(phrase.into_bytes()) {
            resp.extensions_mut().insert(reason);
        }
    }
    resp
}

/// The description as a reason phrase may carry it: control characters (CR, LF...) become
/// spaces, surrounding spaces go.
fn reason_phrase(description: &str) -> String {
    description
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn the_description_is_reason_phrase_and_body() {
        let resp = refuse(409, "taken\r\nby someone élse");
        assert_eq!(resp.status(), 409);
        let reason = resp.extensions().get::<ReasonPhrase>().unwrap();
        assert_eq!(reason.as_bytes(), "taken  by someone élse".as_bytes());
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], "taken  by someone élse\n".as_bytes());
    }

    #[test]
    fn refusals_carry_the_services_tracking_suffix_and_rejections_do_not() {
        let resp = tracked(refuse(404, NO_LISTENER), "abc_G3", "sb://ns.example/hc1");
        let reason = String::from_utf8(
            resp.extensions()
                .get::<ReasonPhrase>()
                .unwrap()
                .as_bytes()
                .to_vec(),
        )
        .unwrap();
        let (head, stamp) = reason.rsplit_once(", Timestamp:").unwrap();
        assert_eq!(
            head,
            "There are no listeners connected for the endpoint. TrackingId:abc_G3, SystemTracker:sb://ns.example/hc1"
        );
        assert_eq!(stamp.len(), 19, "{stamp}");
        let mut rejected = refuse(409, "not now");
        rejected.extensions_mut().insert(FromListener);
        let resp = tracked(rejected, "x", "y");
        assert_eq!(
            resp.extensions().get::<ReasonPhrase>().unwrap().as_bytes(),
            b"not now"
        );
    }

    #[test]
    fn an_empty_description_keeps_the_standard_phrase() {
        let resp = refuse(404, " \n");
        assert!(resp.extensions().get::<ReasonPhrase>().is_none());
        assert_eq!(refuse(1000, "x").status(), 500);
    }
}
