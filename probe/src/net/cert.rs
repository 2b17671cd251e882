//! One presented certificate, as a network team needs to see it: names, validity, fingerprint,
//! and the revocation URLs its extensions name.

use rustls_pki_types::CertificateDer;

/// One presented certificate, as parsed (the result document's own `CertInfo` is mapped from
/// it in `check/facts.rs`).
#[derive(Debug, Clone, PartialEq)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    pub sans: Vec<String>,
    pub not_before: String,
    pub not_after: String,
    pub sha256: String,
    /// CRL distribution points (plain HTTP URLs the client fetches to check revocation).
    pub crl_urls: Vec<String>,
    /// Authority Information Access: OCSP responders.
    pub ocsp_urls: Vec<String>,
    /// Authority Information Access: where the issuer's certificate can be fetched.
    pub ca_issuer_urls: Vec<String>,
}

impl CertInfo {
    pub fn parse(der: &CertificateDer<'_>) -> CertInfo {
        let sha256 = ring::digest::digest(&ring::digest::SHA256, der.as_ref())
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let Ok((_, cert)) = x509_parser::parse_x509_certificate(der.as_ref()) else {
            return CertInfo {
                subject: "(unparsable certificate)".into(),
                issuer: String::new(),
                sans: Vec::new(),
                not_before: String::new(),
                not_after: String::new(),
                sha256,
                crl_urls: Vec::new(),
                ocsp_urls: Vec::new(),
                ca_issuer_urls: Vec::new(),
            };
        };
        let rfc3339 = |t: x509_parser::time::ASN1Time| {
            t.to_datetime()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default()
        };
        let sans = cert
            .subject_alternative_name()
            .ok()
            .flatten()
            .map(|ext| {
                ext.value
                    .general_names
                    .iter()
                    .filter_map(|n| match n {
                        x509_parser::extensions::GeneralName::DNSName(d) => Some(d.to_string()),
                        x509_parser::extensions::GeneralName::IPAddress(b) => ip_from_bytes(b),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let (crl_urls, ocsp_urls, ca_issuer_urls) = revocation_urls(&cert);
        CertInfo {
            crl_urls,
            ocsp_urls,
            ca_issuer_urls,
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            sans,
            not_before: rfc3339(cert.validity().not_before),
            not_after: rfc3339(cert.validity().not_after),
            sha256,
        }
    }
}

/// `(CRL, OCSP, CA issuers)` URLs named by the certificate's extensions.
fn revocation_urls(
    cert: &x509_parser::certificate::X509Certificate<'_>,
) -> (Vec<String>, Vec<String>, Vec<String>) {
    use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
    use x509_parser::oid_registry::{
        OID_PKIX_ACCESS_DESCRIPTOR_CA_ISSUERS, OID_PKIX_ACCESS_DESCRIPTOR_OCSP,
    };
    let (mut crl, mut ocsp, mut issuers) = (Vec::new(), Vec::new(), Vec::new());
    for ext in cert.iter_extensions() {
        match ext.parsed_extension() {
            ParsedExtension::CRLDistributionPoints(points) => {
                for point in &points.points {
                    if let Some(DistributionPointName::FullName(names)) = &point.distribution_point
                    {
                        crl.extend(names.iter().filter_map(|n| match n {
                            GeneralName::URI(u) => Some(u.to_string()),
                            _ => None,
                        }));
                    }
                }
            }
            ParsedExtension::AuthorityInfoAccess(aia) => {
                for desc in &aia.accessdescs {
                    let GeneralName::URI(uri) = &desc.access_location else {
                        continue;
                    };
                    if desc.access_method == OID_PKIX_ACCESS_DESCRIPTOR_OCSP {
                        ocsp.push(uri.to_string());
                    } else if desc.access_method == OID_PKIX_ACCESS_DESCRIPTOR_CA_ISSUERS {
                        issuers.push(uri.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    (crl, ocsp, issuers)
}

fn ip_from_bytes(b: &[u8]) -> Option<String> {
    match b.len() {
        4 => Some(std::net::Ipv4Addr::from(<[u8; 4]>::try_from(b).ok()?).to_string()),
        16 => Some(std::net::Ipv6Addr::from(<[u8; 16]>::try_from(b).ok()?).to_string()),
        _ => None,
    }
}
