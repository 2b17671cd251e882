//! machine.config: any text, and `<defaultProxy>` sections with any attributes and children,
//! parse or fail naming the file; a proxy address's password never shows.

use crate::urls::{url_like, MARKER};
use crate::{check, ensure};
use probe::net::machine_config::parse;
use proptest::prelude::*;

const ORIGIN: &str = "m.config";

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
}

fn attributes(names: &'static [&'static str]) -> impl Strategy<Value = String> {
    let value = prop_oneof![
        Just("true".to_string()),
        Just("false".to_string()),
        Just("TRUE".to_string()),
        url_like(),
        "\\PC{0,12}",
    ];
    prop::collection::btree_map(prop::sample::select(names), value, 0..4).prop_map(|attrs| {
        attrs
            .into_iter()
            .map(|(k, v)| format!(" {k}=\"{}\"", xml_escape(&v)))
            .collect()
    })
}

fn section() -> impl Strategy<Value = String> {
    let section_attrs = attributes(&["enabled", "useDefaultCredentials", "other"]);
    let proxy_attrs = attributes(&[
        "proxyaddress",
        "usesystemdefault",
        "bypassonlocal",
        "scriptLocation",
    ]);
    let bypass = prop::collection::vec("\\PC{0,12}", 0..3).prop_map(|list| {
        let adds: String = list
            .iter()
            .map(|a| format!("<add address=\"{}\"/>", xml_escape(a)))
            .collect();
        format!("<bypasslist>{adds}</bypasslist>")
    });
    let child = prop_oneof![
        proxy_attrs.prop_map(|a| format!("<proxy{a}/>")),
        bypass,
        Just("<module type=\"x\"/>".to_string()),
    ];
    (section_attrs, prop::collection::vec(child, 0..4), any::<bool>()).prop_map(
        |(attrs, children, wrapped)| {
            let body = format!("<defaultProxy{attrs}>{}</defaultProxy>", children.concat());
            if wrapped {
                format!("<?xml version=\"1.0\"?><configuration><system.net>{body}</system.net></configuration>")
            } else {
                format!("<configuration>{body}</configuration>")
            }
        },
    )
}

#[test]
fn machine_configs_parse_or_name_the_file_without_a_password() {
    check(
        "machine.config",
        || prop_oneof![4 => section(), 1 => "\\PC{0,120}"],
        |text: String| match parse(&text, ORIGIN) {
            Ok(d) => {
                let _ = d.why_no_proxy();
                if let Some(p) = &d.proxy {
                    ensure(!p.redacted().contains(MARKER), || p.redacted())?;
                }
                Ok(())
            }
            Err(e) => {
                ensure(e.to_string().contains(ORIGIN), || {
                    format!("file not named: {}", e)
                })?;
                ensure(!e.to_string().contains(MARKER), || {
                    format!("password in {}", e)
                })
            }
        },
    );
}
