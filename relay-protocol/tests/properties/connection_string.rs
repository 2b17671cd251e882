use proptest::prelude::*;
use relay_protocol::connection_string::{ConnectionString, ConnectionStringError, Credential};
use relay_protocol::hc::EntityPath;

use crate::gen;

fn connection_string() -> impl Strategy<Value = ConnectionString> {
    (
        gen::namespace(),
        prop::option::of(gen::entity()),
        gen::sas_key(),
    )
        .prop_map(|(ns, entity, key)| ConnectionString::new(ns, entity, Credential::Key(key)))
}

fn key_text(cs: &ConnectionString) -> String {
    match cs.credential() {
        Credential::Key(key) => key.key().expose().to_owned(),
        Credential::Signature(token) => token.signature().expose().to_owned(),
    }
}

/// Every error names a key, a setting's position, or says the string is empty.
fn names_what_is_wrong(err: &ConnectionStringError) -> bool {
    let message = err.to_string();
    [
        "Endpoint",
        "SharedAccessKeyName",
        "SharedAccessKey",
        "SharedAccessSignature",
        "EntityPath",
        "setting ",
        "is empty",
        "no credentials",
    ]
    .iter()
    .any(|word| message.contains(word))
}

proptest! {
    #![proptest_config(crate::config())]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,120}") {
        if let Err(err) = ConnectionString::parse(&text) {
            prop_assert!(names_what_is_wrong(&err), "{}", err);
        }
    }

    #[test]
    fn settings_soup_never_panics_and_errors_hide_the_key(
        settings in prop::collection::vec(
            (
                prop_oneof![
                    Just("Endpoint".to_owned()),
                    gen::any_case("SharedAccessKeyName"),
                    gen::any_case("SharedAccessKey"),
                    Just("SharedAccessSignature".to_owned()),
                    Just("EntityPath".to_owned()),
                    "[A-Za-z]{0,8}",
                ],
                prop_oneof![
                    Just("sb://relay.lab:8443/".to_owned()),
                    "\\PC{0,12}",
                    gen::key_text(),
                ],
                any::<bool>(),
            ),
            0..7,
        ),
    ) {
        let text: Vec<String> = settings
            .iter()
            .map(|(key, value, with_equals)| if *with_equals { format!("{key}={value}") } else { value.clone() })
            .collect();
        let text = text.join(";");
        if let Err(err) = ConnectionString::parse(&text) {
            prop_assert!(names_what_is_wrong(&err), "{}", err);
            let shown = format!("{err} {err:?}");
            for (_, value, _) in &settings {
                if value.starts_with("K3Y") {
                    prop_assert!(!shown.contains(value.as_str()), "error shows key material: {}", shown);
                }
            }
        }
    }

    #[test]
    fn rendering_reads_back_and_redaction_hides_the_key(cs in connection_string()) {
        let text = cs.expose();
        let parsed = ConnectionString::parse(text.expose());
        prop_assert_eq!(parsed.as_ref(), Ok(&cs));
        let key = key_text(&cs);
        prop_assert!(text.expose().contains(&key));
        let debug = format!("{cs:?}");
        for shown in [cs.redacted(), cs.to_string(), debug] {
            prop_assert!(!shown.contains(&key), "{}", shown);
            prop_assert!(shown.contains("SharedAccessKey=****"), "{}", shown);
        }
    }

    #[test]
    fn key_case_spacing_order_and_empty_segments_do_not_matter(
        cs in connection_string(),
        endpoint_key in gen::any_case("Endpoint"),
        name_key in gen::any_case("SharedAccessKeyName"),
        key_key in gen::any_case("SharedAccessKey"),
        entity_key in gen::any_case("EntityPath"),
        pad in prop::collection::vec(gen::blanks(), 4),
        empties in prop::collection::vec(0usize..3, 4),
        order in Just(vec![0usize, 1, 2, 3]).prop_shuffle(),
    ) {
        let Credential::Key(key) = cs.credential() else { unreachable!() };
        let mut settings = vec![
            format!("{endpoint_key}{}={}sb://{}/", pad[0], pad[1], cs.endpoint().authority()),
            format!("{}{name_key}={}", pad[2], key.name()),
            format!("{key_key}={}{}", key.key().expose(), pad[3]),
        ];
        settings.push(match cs.entity_path() {
            Some(entity) => format!("{entity_key} = {entity}"),
            None => String::new(),
        });
        let text: String = order
            .iter()
            .map(|&i| format!("{}{};", settings[i], ";".repeat(empties[i])))
            .collect();
        prop_assert_eq!(ConnectionString::parse(&text), Ok(cs));
    }

    #[test]
    fn a_missing_setting_is_named(cs in connection_string(), drop in 0usize..3) {
        let Credential::Key(key) = cs.credential() else { unreachable!() };
        let mut settings = vec![
            ("Endpoint", format!("Endpoint=sb://{}/", cs.endpoint().authority())),
            ("SharedAccessKeyName", format!("SharedAccessKeyName={}", key.name())),
            ("SharedAccessKey", format!("SharedAccessKey={}", key.key().expose())),
        ];
        let (missing, _) = settings.remove(drop);
        let text = settings.iter().map(|(_, s)| s.as_str()).collect::<Vec<_>>().join(";");
        prop_assert_eq!(ConnectionString::parse(&text), Err(ConnectionStringError::Missing(missing)));
    }

    #[test]
    fn entity_paths_survive_the_connection_string(entity in gen::entity()) {
        let text = format!("Endpoint=sb://relay.lab/;SharedAccessKeyName=n;SharedAccessKey=k;EntityPath={entity}");
        let cs = ConnectionString::parse(&text).expect("valid");
        prop_assert_eq!(cs.entity_path(), Some(&EntityPath::new(entity.as_str()).expect("valid")));
    }
}
