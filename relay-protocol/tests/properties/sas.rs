use proptest::prelude::*;
use relay_protocol::hc::Namespace;
use relay_protocol::sas::{self, authorize, AuthError, SasToken, SasTokenError};

use crate::gen;

const NOW: u64 = 1_700_000_000;

proptest! {
    #![proptest_config(crate::config())]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,160}") {
        let _ = SasToken::parse(&text);
        let _ = SasToken::parse(&format!("SharedAccessSignature {text}"));
    }

    #[test]
    fn field_soup_never_panics_and_errors_name_the_field(
        fields in prop::collection::vec(
            (prop_oneof![Just("sr"), Just("sig"), Just("se"), Just("skn"), Just("x"), Just("SR")], "[^&\\s]{0,12}"),
            0..7,
        ),
    ) {
        let body: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let text = format!("SharedAccessSignature {}", body.join("&"));
        if let Err(err) = SasToken::parse(&text) {
            let named = match &err {
                SasTokenError::Format => true,
                SasTokenError::MissingField(f) | SasTokenError::DuplicateField(f)
                | SasTokenError::BadField { field: f, .. } => err.to_string().contains(f),
            };
            prop_assert!(named, "{}", err);
        }
    }

    #[test]
    fn signed_tokens_read_back_and_verify(
        key in gen::sas_key(),
        ns in gen::namespace(),
        entity in gen::entity(),
        lifetime in 1u64..100_000,
    ) {
        let resource = sas::resource_uri(&ns, Some(&entity));
        let token = key.sign(&resource, NOW + lifetime);
        let parsed = SasToken::parse(token.expose().expose()).expect("own tokens parse");
        prop_assert_eq!(&parsed, &token);
        prop_assert_eq!(parsed.resource(), resource.as_str());
        prop_assert!(sas::verify_signature(&parsed, &key).is_ok());
        let ok = authorize(Some(token.expose().expose()), std::slice::from_ref(&key), NOW, &ns, entity.as_str());
        prop_assert_eq!(ok, Ok(token.clone()));
        for shown in [token.to_string(), format!("{token:?}")] {
            prop_assert!(!shown.contains(token.signature().expose()), "{}", shown);
        }
    }

    #[test]
    fn fields_in_any_order_and_case_read_the_same(
        key in gen::sas_key(),
        order in Just(vec![0usize, 1, 2, 3]).prop_shuffle(),
        upper in prop::collection::vec(any::<bool>(), 4),
    ) {
        let token = key.sign("http://relay.lab/hyco/", NOW);
        let text = token.expose();
        let (_, body) = text.expose().split_once(' ').expect("type word");
        let fields: Vec<&str> = body.split('&').collect();
        let shuffled: Vec<String> = order
            .iter()
            .map(|&i| {
                let (name, value) = fields[i].split_once('=').expect("name=value");
                let name = if upper[i] { name.to_uppercase() } else { name.to_owned() };
                format!("{name}={value}")
            })
            .collect();
        let reordered = format!("sharedAccessSignature {}", shuffled.join("&"));
        prop_assert_eq!(SasToken::parse(&reordered), Ok(token));
    }

    #[test]
    fn a_missing_field_is_named(key in gen::sas_key(), drop in 0usize..4) {
        let text = key.sign("http://relay.lab/hyco/", NOW).expose();
        let (_, body) = text.expose().split_once(' ').expect("type word");
        let mut fields: Vec<&str> = body.split('&').collect();
        let removed = fields.remove(drop);
        let name = removed.split_once('=').expect("name=value").0;
        let err = SasToken::parse(&format!("SharedAccessSignature {}", fields.join("&"))).unwrap_err();
        prop_assert!(matches!(err, SasTokenError::MissingField(f) if f == name), "{:?}", err);
    }

    #[test]
    fn changed_expiry_or_resource_breaks_the_signature(key in gen::sas_key(), later in 1u64..1000) {
        let text = key.sign("http://relay.lab/hyco/", NOW + 10).expose();
        let ns = Namespace::parse("relay.lab").expect("valid");
        let extended = text.expose().replace(&format!("se={}", NOW + 10), &format!("se={}", NOW + 10 + later));
        prop_assert_eq!(
            authorize(Some(&extended), std::slice::from_ref(&key), NOW, &ns, "hyco"),
            Err(AuthError::BadSignature)
        );
        let moved = text.expose().replace("hyco", "hycp");
        prop_assert_eq!(
            authorize(Some(&moved), std::slice::from_ref(&key), NOW, &ns, "hycp"),
            Err(AuthError::BadSignature)
        );
    }

    #[test]
    fn a_token_for_another_entity_is_forbidden(
        key in gen::sas_key(),
        ns in gen::namespace(),
        (mine, theirs) in (gen::entity(), gen::entity())
            .prop_filter("different entities", |(a, b)| !a.as_str().eq_ignore_ascii_case(b.as_str())),
    ) {
        let token = key.sign(&sas::resource_uri(&ns, Some(&theirs)), NOW + 60);
        let err = authorize(Some(token.expose().expose()), std::slice::from_ref(&key), NOW, &ns, mine.as_str())
            .unwrap_err();
        prop_assert!(matches!(err, AuthError::WrongResource { .. }), "{:?}", err);
        prop_assert_eq!(err.http_status(), 403);
    }
}
