//! Which trust store a trusted chain ended in: the operating system's (on Windows, the
//! certificate store where a corporate inspection CA gets installed), the built-in Mozilla set,
//! or a `--ca-file`. The TLS check names it, so a chain trusted only because of a locally
//! installed CA says so.
//!
//! webpki does not report the anchor it used; path building finds an anchor by the subject name
//! its chain's last issuer names, so the index looks the anchor up the same way, by name.

use rustls_pki_types::{CertificateDer, TrustAnchor};
use std::collections::HashMap;

/// Trust-anchor subjects (as `CertInfo::issuer` spells names) and the stores that hold them.
#[derive(Debug, Default)]
pub struct AnchorIndex {
    by_subject: HashMap<String, Vec<String>>,
}

/// The anchor a chain ends in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchored {
    pub subject: String,
    /// Every store that holds an anchor of that name, in load order.
    pub stores: Vec<String>,
}

impl std::fmt::Display for Anchored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}` from {}", self.subject, self.stores.join(" and "))
    }
}

impl AnchorIndex {
    /// Records a certificate of `store`; an unparsable one is skipped (rustls skips it too).
    pub fn add_certificate(&mut self, store: &str, cert: &CertificateDer<'_>) {
        if let Ok((_, parsed)) = x509_parser::parse_x509_certificate(cert.as_ref()) {
            self.insert(store, parsed.subject().to_string());
        }
    }

    /// Records a built-in anchor (its subject is the Name's DER contents, without the outer
    /// SEQUENCE header).
    pub fn add_anchor(&mut self, store: &str, anchor: &TrustAnchor<'_>) {
        use x509_parser::prelude::FromDer;
        let der = sequence(anchor.subject.as_ref());
        if let Ok((_, name)) = x509_parser::x509::X509Name::from_der(&der) {
            self.insert(store, name.to_string());
        }
    }

    fn insert(&mut self, store: &str, subject: String) {
        let stores = self.by_subject.entry(subject).or_default();
        if !stores.iter().any(|s| s == store) {
            stores.push(store.to_string());
        }
    }

    /// The anchor of a chain that verified, given its certificates' issuers in order: the
    /// first issuer that is an anchor.
    pub fn anchor_of<'a>(&self, issuers: impl IntoIterator<Item = &'a str>) -> Option<Anchored> {
        issuers.into_iter().find_map(|issuer| {
            self.by_subject.get(issuer).map(|stores| Anchored {
                subject: issuer.to_string(),
                stores: stores.clone(),
            })
        })
    }
}

/// How the operating system's store is named in messages: what `rustls-native-certs` read.
pub fn system_store_label() -> String {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    // rustls-native-certs reads these instead of the platform store, on every platform.
    if let Some(file) = env("SSL_CERT_FILE") {
        return format!("SSL_CERT_FILE {file}");
    }
    if let Some(dir) = env("SSL_CERT_DIR") {
        return format!("SSL_CERT_DIR {dir}");
    }
    if cfg!(windows) {
        "the Windows certificate store (Trusted Root Certification Authorities)".into()
    } else if cfg!(target_os = "macos") {
        "the macOS keychain".into()
    } else {
        "the system store".into()
    }
}

/// The built-in set's name in messages.
pub const BUILT_IN: &str = "the built-in Mozilla roots";

/// `contents` wrapped in a DER SEQUENCE header.
fn sequence(contents: &[u8]) -> Vec<u8> {
    let len = contents.len();
    let mut out = vec![0x30];
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(contents);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_anchors_are_named_as_certificates_name_their_issuers() {
        let mut index = AnchorIndex::default();
        for anchor in webpki_roots::TLS_SERVER_ROOTS {
            index.add_anchor(BUILT_IN, anchor);
        }
        let digicert = "C=US, O=DigiCert Inc, OU=www.digicert.com, CN=DigiCert Global Root G2";
        let issuers = [
            "C=US, O=Microsoft Corporation, CN=Microsoft Azure RSA TLS Issuing CA 03",
            digicert,
        ];
        let found = index.anchor_of(issuers).unwrap();
        assert_eq!(found.subject, digicert);
        assert_eq!(found.to_string(), format!("`{digicert}` from {BUILT_IN}"));
    }

    #[test]
    fn a_name_in_two_stores_names_both_and_unknown_chains_none() {
        let mut index = AnchorIndex::default();
        index.insert(
            "the Windows certificate store",
            "CN=Corp Inspection CA".into(),
        );
        index.insert("--ca-file corp.pem", "CN=Corp Inspection CA".into());
        index.insert("--ca-file corp.pem", "CN=Corp Inspection CA".into());
        let found = index.anchor_of(["CN=Corp Inspection CA"]).unwrap();
        assert_eq!(
            found.stores,
            ["the Windows certificate store", "--ca-file corp.pem"]
        );
        assert_eq!(index.anchor_of(["CN=Someone Else"]), None);
        assert_eq!(index.anchor_of([]), None);
    }

    #[test]
    fn long_names_get_a_long_form_length() {
        let contents = vec![0u8; 300];
        let der = sequence(&contents);
        assert_eq!(&der[..4], &[0x30, 0x82, 0x01, 0x2c]);
        assert_eq!(der.len(), 304);
        assert_eq!(sequence(&[1, 2]), [0x30, 2, 1, 2]);
    }
}
