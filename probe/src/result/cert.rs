//! A presented certificate as the document shows it (the tls check maps it from what `net`
//! parsed).

use serde::{Deserialize, Serialize};

/// One presented certificate, as a network team needs to see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    pub sans: Vec<String>,
    pub not_before: String,
    pub not_after: String,
    pub sha256: String,
    /// CRL distribution points (plain HTTP URLs the client fetches to check revocation).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub crl_urls: Vec<String>,
    /// Authority Information Access: OCSP responders.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ocsp_urls: Vec<String>,
    /// Authority Information Access: where the issuer's certificate can be fetched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ca_issuer_urls: Vec<String>,
}

impl CertInfo {
    /// `not_after` in seconds since the Unix epoch, for expiry alerts.
    pub fn not_after_unix(&self) -> Option<i64> {
        time::OffsetDateTime::parse(
            &self.not_after,
            &time::format_description::well_known::Rfc3339,
        )
        .ok()
        .map(|t| t.unix_timestamp())
    }
}
