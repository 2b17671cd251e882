//! `response`: a listener's answer to a relayed HTTP request, a JSON text frame on the control
//! channel or on the request's rendezvous, followed by the body as binary frames when `body` is
//! true (protocol guide, "Responding to requests"):
//!
//! ```text
//! {"response":{"requestId":"42c34cb5-...","statusCode":200,"statusDescription":"OK",
//!              "responseHeaders":{"Content-Type":"application/json"},"body":true}}
//! ```
//!
//! `statusCode` is a number as hyco-https and the .NET SDK write it; the guide's example writes
//! it as a string (`"200"`), so both are read. A status outside 100-999 is an error.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

/// Lowest and highest status a response may carry (three digits, RFC 9110 section 15).
const STATUS_RANGE: std::ops::RangeInclusive<u16> = 100..=999;

/// A listener's `response`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseMessage {
    /// The `id` of the request answered (REQUIRED).
    pub request_id: String,
    /// The HTTP status (REQUIRED).
    #[serde(deserialize_with = "status_code")]
    pub status_code: u16,
    /// The reason phrase (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_description: Option<String>,
    /// Headers of the HTTP reply.
    #[serde(default)]
    pub response_headers: BTreeMap<String, String>,
    /// Whether binary body frames follow.
    #[serde(default)]
    pub body: bool,
}

impl ResponseMessage {
    /// `{"response":{...}}`, the frame a listener sends.
    pub fn to_json(&self) -> String {
        super::control::wrap(super::control::RESPONSE, self)
    }
}

/// A number, or a string of digits, from 100 to 999.
fn status_code<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u16, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Wire {
        Number(u64),
        Text(String),
    }
    let value = match Wire::deserialize(deserializer)? {
        Wire::Number(n) => u16::try_from(n).ok(),
        Wire::Text(text) => text.trim().parse::<u16>().ok(),
    };
    value
        .filter(|status| STATUS_RANGE.contains(status))
        .ok_or_else(|| serde::de::Error::custom("expected an HTTP status from 100 to 999"))
}

#[cfg(test)]
mod tests {
    use super::super::control::{ControlError, ListenerMessage};

    #[test]
    fn reads_what_hyco_https_and_the_guide_write() {
        let node = r#"{"response":{"requestId":"r1","statusCode":201,"statusDescription":"Made",
            "responseHeaders":{"x-a":"1"},"body":true}}"#;
        let ListenerMessage::Response(parsed) = ListenerMessage::parse(node).unwrap() else {
            panic!("not a response")
        };
        assert_eq!(
            (
                parsed.status_code,
                parsed.status_description.as_deref(),
                parsed.body
            ),
            (201, Some("Made"), true)
        );
        let guide = r#"{"response":{"requestId":"r2","statusCode":"200","responseHeaders":{}}}"#;
        let ListenerMessage::Response(parsed) = ListenerMessage::parse(guide).unwrap() else {
            panic!("not a response")
        };
        assert_eq!((parsed.status_code, parsed.body), (200, false));
        assert_eq!(
            ListenerMessage::parse(&parsed.to_json()).unwrap(),
            ListenerMessage::Response(parsed)
        );
    }

    #[test]
    fn malformed_responses_name_the_member() {
        for (text, path) in [
            (r#"{"response":{"statusCode":200}}"#, "response"),
            (
                r#"{"response":{"requestId":"1","statusCode":99}}"#,
                "response.statusCode",
            ),
            (
                r#"{"response":{"requestId":"1","statusCode":"abc"}}"#,
                "response.statusCode",
            ),
            (
                r#"{"response":{"requestId":"1","statusCode":200,"body":"yes"}}"#,
                "response.body",
            ),
        ] {
            match ListenerMessage::parse(text) {
                Err(ControlError::BadMember { path: got, .. }) => assert_eq!(got, path, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }
}
