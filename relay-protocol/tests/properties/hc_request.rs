use proptest::prelude::*;
use relay_protocol::hc::{self, Action, HcRequest, HcRequestError, Rejection};

use crate::gen;

fn action() -> impl Strategy<Value = Action> {
    prop::sample::select(Action::ALL.to_vec())
}

/// The request target of a URL this crate built: everything from the path on.
fn target(url: &str) -> &str {
    let after_scheme = url.split_once("://").expect("absolute URL").1;
    &after_scheme[after_scheme.find('/').expect("has a path")..]
}

proptest! {
    #![proptest_config(crate::config())]

    #[test]
    fn arbitrary_targets_never_panic(text in "\\PC{0,120}") {
        let _ = HcRequest::parse(&text);
        let _ = HcRequest::parse(&format!("/$hc/{text}"));
        let _ = hc::has_hc_action(&text);
    }

    #[test]
    fn query_soup_never_panics_and_errors_name_the_parameter(
        entity in gen::entity(),
        params in prop::collection::vec(
            (
                prop_oneof![
                    Just(hc::QUERY_ACTION), Just(hc::QUERY_ID), Just(hc::QUERY_TOKEN),
                    Just(hc::QUERY_STATUS_CODE), Just(hc::QUERY_STATUS_DESCRIPTION),
                    Just("sb-hc-other"), Just("x"),
                ],
                prop_oneof![
                    Just("listen".to_owned()), Just("accept".to_owned()), Just("403".to_owned()),
                    "\\PC{0,8}", "[a-z]{250,600}",
                ],
            ),
            0..6,
        ),
    ) {
        let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={}", v.replace(['&', '#'], ""))).collect();
        let text = format!("/$hc/{}?{}", entity.encoded(), query.join("&"));
        let parsed = HcRequest::parse(&text);
        if let Ok(request) = &parsed {
            prop_assert!(request.id.as_ref().is_none_or(|id| id.len() <= hc::MAX_ID_BYTES));
            prop_assert!(request
                .rejection
                .as_ref()
                .is_none_or(|r| r.description.len() <= hc::MAX_STATUS_DESCRIPTION_BYTES));
        }
        if let Err(err) = parsed {
            let message = err.to_string();
            let named = match &err {
                HcRequestError::MissingParameter(p) | HcRequestError::DuplicateParameter(p) => message.contains(p),
                HcRequestError::UnknownAction(_) => message.contains("sb-hc-action"),
                HcRequestError::BadStatusCode(_) => message.contains("sb-hc-statusCode"),
                HcRequestError::RejectionWithoutAccept => message.contains("sb-hc-action=accept"),
                HcRequestError::TooLong { parameter, .. } => message.contains(parameter),
                other => panic!("path error from a valid path: {other}"),
            };
            prop_assert!(named, "{}", message);
            prop_assert_eq!(err.http_status(), 400);
        }
    }

    #[test]
    fn urls_built_here_parse_back(
        ns in gen::namespace(),
        entity in gen::entity(),
        action in action(),
        id in prop::option::of("\\PC{0,16}"),
    ) {
        let url = hc::hc_url(&ns, &entity, action, id.as_deref());
        let request = HcRequest::parse(target(&url)).expect("own URLs parse");
        prop_assert_eq!(&request.path, &entity);
        prop_assert_eq!(request.action, action);
        prop_assert_eq!(request.id, id);
        prop_assert_eq!(request.rejection, None);
        prop_assert!(request.query.is_empty());
        prop_assert!(hc::has_hc_action(target(&url)));
    }

    #[test]
    fn rejects_parse_back(
        ns in gen::namespace(),
        entity in gen::entity(),
        id in "\\PC{1,16}",
        status in 100u16..=599,
        description in "\\PC{0,40}",
    ) {
        let address = hc::hc_url(&ns, &entity, Action::Accept, Some(&id));
        let url = hc::reject_url(&address, status, &description);
        prop_assert!(url.starts_with(&address));
        let request = HcRequest::parse(target(&url)).expect("own URLs parse");
        prop_assert_eq!(request.id, Some(id));
        prop_assert_eq!(request.rejection, Some(Rejection { status_code: status, description }));
    }

    #[test]
    fn tokens_in_the_query_parse_back(key in gen::sas_key(), entity in gen::entity()) {
        let ns = relay_protocol::hc::Namespace::parse("relay.lab:8443").expect("valid");
        let token = key.sign(&relay_protocol::sas::resource_uri(&ns, Some(&entity)), 1_700_000_000);
        let url = hc::with_token_query(&hc::listener_url(&ns, &entity, "l1"), &token);
        let request = HcRequest::parse(target(url.expose())).expect("own URLs parse");
        let whole = token.expose();
        prop_assert_eq!(request.token(None), Some(whole.expose()));
        let shown = format!("{request:?}");
        prop_assert!(!shown.contains(token.signature().expose()), "{}", shown);
    }

    #[test]
    fn other_parameters_pass_through_and_a_missing_action_is_named(
        entity in gen::entity(),
        extra in prop::collection::vec(("[a-z]{1,6}", "\\PC{0,10}"), 0..4),
    ) {
        let mut url = format!("wss://relay.lab/$hc/{}", entity.encoded());
        for (name, value) in &extra {
            url = hc::append_query(&url, name, value);
        }
        prop_assert_eq!(
            HcRequest::parse(target(&url)),
            Err(HcRequestError::MissingParameter("sb-hc-action"))
        );
        let url = hc::append_query(&url, hc::QUERY_ACTION, "connect");
        let request = HcRequest::parse(target(&url)).expect("valid");
        prop_assert_eq!(request.query, extra);
    }
}
