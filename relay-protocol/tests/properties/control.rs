use std::collections::BTreeMap;

use proptest::prelude::*;
use relay_protocol::hc::{
    AcceptMessage, ControlError, ListenerMessage, RemoteEndpoint, RenewTokenMessage,
    RequestMessage, ResponseMessage, ServiceMessage,
};
use relay_protocol::SecretString;
use serde_json::Value;

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "\\PC{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("accept".to_owned()),
                    Just("request".to_owned()),
                    Just("renewToken".to_owned()),
                    Just("response".to_owned()),
                    Just("statusCode".to_owned()),
                    Just("requestId".to_owned()),
                    Just("address".to_owned()),
                    Just("id".to_owned()),
                    Just("token".to_owned()),
                    "[a-zA-Z]{0,6}",
                ],
                inner,
                0..4,
            )
            .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

fn headers() -> impl Strategy<Value = BTreeMap<String, String>> {
    prop::collection::btree_map("[A-Za-z-]{1,16}", "\\PC{0,20}", 0..5)
}

fn endpoint() -> impl Strategy<Value = Option<RemoteEndpoint>> {
    prop::option::of(
        ("[0-9a-f.:]{1,39}", any::<u16>())
            .prop_map(|(address, port)| RemoteEndpoint { address, port }),
    )
}

fn accept() -> impl Strategy<Value = AcceptMessage> {
    ("\\PC{0,60}", "\\PC{0,20}", headers(), endpoint()).prop_map(
        |(address, id, connect_headers, remote_endpoint)| AcceptMessage {
            address,
            id,
            connect_headers,
            remote_endpoint,
        },
    )
}

fn response() -> impl Strategy<Value = ResponseMessage> {
    (
        "\\PC{0,20}",
        100u16..=999,
        prop::option::of("\\PC{0,20}"),
        headers(),
        any::<bool>(),
    )
        .prop_map(
            |(request_id, status_code, status_description, response_headers, body)| {
                ResponseMessage {
                    request_id,
                    status_code,
                    status_description,
                    response_headers,
                    body,
                }
            },
        )
}

fn request() -> impl Strategy<Value = RequestMessage> {
    (
        prop::option::of("\\PC{0,30}"),
        prop::option::of("\\PC{0,20}"),
        prop::option::of("\\PC{0,20}"),
        prop::option::of("[A-Z]{3,7}"),
        headers(),
        prop::option::of(any::<bool>()),
        endpoint(),
    )
        .prop_map(
            |(address, id, request_target, method, request_headers, body, remote_endpoint)| {
                RequestMessage {
                    address,
                    id,
                    request_target,
                    method,
                    remote_endpoint,
                    request_headers,
                    body,
                }
            },
        )
}

proptest! {
    #![proptest_config(crate::config())]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,80}") {
        let _ = ServiceMessage::parse(&text);
        let _ = ListenerMessage::parse(&text);
    }

    #[test]
    fn arbitrary_json_is_a_message_unknown_or_a_named_error(value in json()) {
        let text = value.to_string();
        match ServiceMessage::parse(&text) {
            Ok(ServiceMessage::Unknown { .. }) => {
                let members = value.as_object().expect("only objects are messages");
                prop_assert!(!members.contains_key("accept") && !members.contains_key("request"));
            }
            Ok(_) => {}
            Err(ControlError::NotAnObject) => prop_assert!(!value.is_object()),
            Err(ControlError::BadMember { path, .. }) => {
                prop_assert!(path.starts_with("accept") || path.starts_with("request"), "{}", path)
            }
            Err(ControlError::NotJson) => prop_assert!(false, "valid JSON read as not JSON: {}", text),
        }
        match ListenerMessage::parse(&text) {
            Err(ControlError::BadMember { path, .. }) => prop_assert!(
                path.starts_with("renewToken") || path.starts_with("response"), "{}", path
            ),
            Err(ControlError::NotJson) => prop_assert!(false, "valid JSON read as not JSON: {}", text),
            _ => {}
        }
    }

    #[test]
    fn accept_round_trips(message in accept()) {
        prop_assert_eq!(ServiceMessage::parse(&message.to_json()), Ok(ServiceMessage::Accept(message)));
    }

    #[test]
    fn response_round_trips(message in response()) {
        prop_assert_eq!(ListenerMessage::parse(&message.to_json()), Ok(ListenerMessage::Response(message)));
    }

    #[test]
    fn request_round_trips(message in request()) {
        prop_assert_eq!(ServiceMessage::parse(&message.to_json()), Ok(ServiceMessage::Request(message)));
    }

    #[test]
    fn renew_token_round_trips_and_stays_hidden(token in "\\PC{1,60}") {
        let message = RenewTokenMessage { token: SecretString::new(token.clone()) };
        let json = message.to_json();
        prop_assert_eq!(format!("{json}"), "****");
        let parsed = ListenerMessage::parse(json.expose()).expect("own frames parse");
        let shown = format!("{parsed:?}");
        prop_assert_eq!(shown, "RenewToken(RenewTokenMessage { token: **** })");
        prop_assert_eq!(parsed, ListenerMessage::RenewToken(message));
    }

    #[test]
    fn a_broken_accept_names_the_member(message in accept(), drop in prop::sample::select(vec!["address", "id"])) {
        let mut value: Value = serde_json::from_str(&message.to_json()).expect("JSON");
        value["accept"].as_object_mut().expect("object").remove(drop);
        let err = ServiceMessage::parse(&value.to_string()).unwrap_err();
        prop_assert_eq!(err.to_string(), format!("control message accept: missing field `{drop}`"));
    }
}
