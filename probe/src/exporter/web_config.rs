//! `--web-config FILE`: TLS and basic authentication for the exporter of `probe serve` and
//! `probe watch`, in the format of Prometheus' exporter-toolkit, so a fleet configures the probe
//! as it configures its node_exporters:
//!
//! ```yaml
//! tls_server_config:
//!   cert_file: /etc/probe/tls.crt
//!   key_file: /etc/probe/tls.key
//!   client_auth_type: RequireAndVerifyClientCert   # optional, with client_ca_file
//!   client_ca_file: /etc/probe/clients.pem
//!   min_version: TLS12
//! basic_auth_users:
//!   prometheus: $2y$10$...   # a bcrypt hash (htpasswd -nBC 10 prometheus)
//! http_server_config:
//!   headers:
//!     Strict-Transport-Security: max-age=31536000
//! ```
//!
//! `/results` and `/events` name internal hosts and proxies: whatever the file guards, it
//! guards every path. An unknown or unsupported key is an error naming it, never ignored: a
//! typo in a security setting must not serve in the clear.

use super::basic_auth::{BadUser, BasicAuth};
use crate::error::ConfigError;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The file, checked and ready: what the HTTP side applies to every connection and request.
#[derive(Default)]
pub struct WebConfig {
    /// `None`: plain HTTP.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// `None`: no authentication.
    pub auth: Option<BasicAuth>,
    /// Added to every response (`http_server_config.headers`).
    pub headers: Vec<(http::HeaderName, http::HeaderValue)>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct File {
    tls_server_config: Option<TlsFile>,
    #[serde(default)]
    basic_auth_users: BTreeMap<String, String>,
    http_server_config: Option<HttpFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsFile {
    cert_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
    #[serde(default)]
    client_auth_type: ClientAuth,
    client_ca_file: Option<PathBuf>,
    min_version: Option<TlsVersion>,
    max_version: Option<TlsVersion>,
}

#[derive(Deserialize, Default, Clone, Copy, PartialEq, Eq, Debug)]
enum ClientAuth {
    #[default]
    NoClientCert,
    RequestClientCert,
    RequireAnyClientCert,
    VerifyClientCertIfGiven,
    RequireAndVerifyClientCert,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum TlsVersion {
    TLS10,
    TLS11,
    TLS12,
    TLS13,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpFile {
    /// Accepted for compatibility; the exporter speaks HTTP/1.1 only.
    #[serde(default)]
    #[expect(dead_code, reason = "read by serde only, so the key is accepted")]
    http2: Option<bool>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

/// The response headers exporter-toolkit allows to be set.
const SETTABLE_HEADERS: [&str; 5] = [
    "Content-Security-Policy",
    "Strict-Transport-Security",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "X-XSS-Protection",
];

/// `--web-config` cannot be used: unreadable, or a field at fault.
#[derive(Debug, thiserror::Error)]
pub enum WebConfigError {
    #[error("--web-config {}: cannot read it: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("--web-config {}: {problem}", path.display())]
    Invalid { path: PathBuf, problem: Problem },
}

impl crate::error::UserError for WebConfigError {}

/// What is wrong inside the file.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    /// Not YAML, or a key or value of the wrong kind (serde's message, with the field's path).
    #[error("{0}")]
    Syntax(String),
    /// `at`: the field (and file) at fault.
    #[error("{at}: {why}")]
    Field { at: String, why: String },
    #[error(transparent)]
    User(#[from] BadUser),
}

fn field(at: impl Into<String>, why: impl std::fmt::Display) -> Problem {
    Problem::Field {
        at: at.into(),
        why: why.to_string(),
    }
}

impl WebConfig {
    /// The configuration `--web-config` names, or plain HTTP without authentication.
    pub fn from_flag(path: Option<&Path>) -> Result<Arc<WebConfig>, ConfigError> {
        Ok(Arc::new(match path {
            Some(path) => WebConfig::load(path)?,
            None => WebConfig::default(),
        }))
    }

    /// Reads and checks `path`; every error names the file and the field.
    pub fn load(path: &Path) -> Result<WebConfig, WebConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| WebConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        WebConfig::parse(&text, base).map_err(|problem| WebConfigError::Invalid {
            path: path.to_path_buf(),
            problem,
        })
    }

    /// Parses the file's text; relative paths in it are taken from `base` (the file's folder,
    /// as exporter-toolkit does).
    pub fn parse(text: &str, base: &Path) -> Result<WebConfig, Problem> {
        let file: File = if text.trim().is_empty() {
            File::default()
        } else {
            let de = serde_yaml_ng::Deserializer::from_str(text);
            serde_path_to_error::deserialize(de).map_err(|e| {
                let field = e.path().to_string();
                let inner = e.into_inner().to_string();
                Problem::Syntax(if field == "." {
                    inner
                } else {
                    format!("{field}: {inner}")
                })
            })?
        };
        Ok(WebConfig {
            tls: file
                .tls_server_config
                .map(|t| tls_config(&t, base))
                .transpose()?
                .map(Arc::new),
            auth: if file.basic_auth_users.is_empty() {
                None
            } else {
                Some(BasicAuth::new(file.basic_auth_users)?)
            },
            headers: headers(
                file.http_server_config
                    .map(|h| h.headers)
                    .unwrap_or_default(),
            )?,
        })
    }

    /// `https` or `http`, for messages that show the address.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() {
            "https"
        } else {
            "http"
        }
    }
}

fn tls_config(t: &TlsFile, base: &Path) -> Result<rustls::ServerConfig, Problem> {
    let (Some(cert_file), Some(key_file)) = (&t.cert_file, &t.key_file) else {
        return Err(field(
            "tls_server_config",
            "cert_file and key_file are both required",
        ));
    };
    let cert_path = base.join(cert_file);
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_path)
        .and_then(|i| i.collect::<Result<_, _>>())
        .map_err(|e| {
            field(
                format!("tls_server_config.cert_file {}", cert_path.display()),
                e,
            )
        })?;
    if certs.is_empty() {
        return Err(field(
            format!("tls_server_config.cert_file {}", cert_path.display()),
            "no PEM certificate in it",
        ));
    }
    let key_path = base.join(key_file);
    let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| {
        field(
            format!("tls_server_config.key_file {}", key_path.display()),
            e,
        )
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions = versions(t.min_version, t.max_version)?;
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| field("tls_server_config", e))?;
    let builder = match t.client_auth_type {
        ClientAuth::NoClientCert => {
            if t.client_ca_file.is_some() {
                return Err(field("tls_server_config.client_ca_file", "given, but client_auth_type is NoClientCert (use RequireAndVerifyClientCert)"));
            }
            builder.with_no_client_auth()
        }
        ClientAuth::RequestClientCert | ClientAuth::RequireAnyClientCert => {
            return Err(field(
                "tls_server_config.client_auth_type",
                format!("{:?} is not supported (a client certificate nobody verifies proves nothing); use RequireAndVerifyClientCert or VerifyClientCertIfGiven with client_ca_file",
                t.client_auth_type)
            ))
        }
        kind @ (ClientAuth::VerifyClientCertIfGiven | ClientAuth::RequireAndVerifyClientCert) => {
            let Some(ca_file) = &t.client_ca_file else {
                return Err(field(
                    "tls_server_config.client_ca_file",
                    format!("required with client_auth_type {kind:?}"),
                ));
            };
            let ca_path = base.join(ca_file);
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_file_iter(&ca_path)
                .map_err(|e| field(format!("tls_server_config.client_ca_file {}", ca_path.display()), e))?
            {
                let cert = cert.map_err(|e| {
                    field(format!("tls_server_config.client_ca_file {}", ca_path.display()), e)
                })?;
                roots.add(cert).map_err(|e| {
                    field(format!("tls_server_config.client_ca_file {}", ca_path.display()), e)
                })?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let verifier = if kind == ClientAuth::VerifyClientCertIfGiven {
                verifier.allow_unauthenticated()
            } else {
                verifier
            };
            let verifier = verifier.build().map_err(|e| {
                field(format!("tls_server_config.client_ca_file {}", ca_path.display()), e)
            })?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_single_cert(certs, key).map_err(|e| {
        field(
            format!("tls_server_config.key_file {}", key_path.display()),
            e,
        )
    })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The versions between `min` (default TLS 1.2) and `max`; rustls speaks nothing older than
/// TLS 1.2, so an older minimum means 1.2.
fn versions(
    min: Option<TlsVersion>,
    max: Option<TlsVersion>,
) -> Result<Vec<&'static rustls::SupportedProtocolVersion>, Problem> {
    let min = min.unwrap_or(TlsVersion::TLS12).max(TlsVersion::TLS12);
    let max = max.unwrap_or(TlsVersion::TLS13);
    if max < TlsVersion::TLS12 {
        return Err(field(
            "tls_server_config.max_version",
            format!("{max:?} is below TLS12, the oldest version served"),
        ));
    }
    if max < min {
        return Err(field(
            "tls_server_config.max_version",
            format!("{max:?} is below min_version {min:?}"),
        ));
    }
    let mut out = Vec::new();
    if min <= TlsVersion::TLS12 {
        out.push(&rustls::version::TLS12);
    }
    if max >= TlsVersion::TLS13 {
        out.push(&rustls::version::TLS13);
    }
    Ok(out)
}

fn headers(
    given: BTreeMap<String, String>,
) -> Result<Vec<(http::HeaderName, http::HeaderValue)>, Problem> {
    given
        .into_iter()
        .map(|(name, value)| {
            if !SETTABLE_HEADERS
                .iter()
                .any(|h| h.eq_ignore_ascii_case(&name))
            {
                return Err(field(
                    format!("http_server_config.headers.{name}"),
                    format!(
                        "not a header that can be set (one of {})",
                        SETTABLE_HEADERS.join(", ")
                    ),
                ));
            }
            let header = http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| field(format!("http_server_config.headers.{name}"), e))?;
            let value = http::HeaderValue::from_str(&value)
                .map_err(|e| field(format!("http_server_config.headers.{name}"), e))?;
            Ok((header, value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        match WebConfig::parse(text, Path::new("/nonexistent")) {
            Ok(_) => panic!("accepted: {text}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn an_empty_file_serves_plain_http_without_auth() {
        let c = WebConfig::parse("", Path::new(".")).unwrap();
        assert!(c.tls.is_none() && c.auth.is_none() && c.headers.is_empty());
        assert_eq!(c.scheme(), "http");
    }

    #[test]
    fn unknown_keys_are_named() {
        assert!(err("basic_auth_user:\n  a: b\n").contains("basic_auth_user"));
        let e = err("tls_server_config:\n  cert_file: a\n  key_file: b\n  cert_fil: c\n");
        assert!(e.starts_with("tls_server_config"), "{e}");
        assert!(e.contains("cert_fil"), "{e}");
        let e = err("tls_server_config:\n  client_auth_type: Sometimes\n");
        assert!(e.contains("tls_server_config.client_auth_type"), "{e}");
        let e = err("tls_server_config:\n  min_version: TLS9\n");
        assert!(e.contains("tls_server_config.min_version"), "{e}");
    }

    #[test]
    fn tls_needs_a_certificate_and_a_key() {
        assert!(err("tls_server_config:\n  cert_file: a.pem\n").contains("key_file"));
        let e = err("tls_server_config:\n  cert_file: a.pem\n  key_file: k.pem\n");
        assert!(
            e.contains("tls_server_config.cert_file /nonexistent/a.pem"),
            "{e}"
        );
    }

    #[test]
    fn versions_are_bounded_by_what_rustls_speaks() {
        assert_eq!(versions(None, None).unwrap().len(), 2);
        assert_eq!(versions(Some(TlsVersion::TLS10), None).unwrap().len(), 2);
        assert_eq!(
            versions(Some(TlsVersion::TLS13), None).unwrap(),
            [&rustls::version::TLS13]
        );
        assert!(versions(None, Some(TlsVersion::TLS11)).is_err());
        assert!(versions(Some(TlsVersion::TLS13), Some(TlsVersion::TLS12)).is_err());
    }

    #[test]
    fn only_security_headers_can_be_set() {
        let c = WebConfig::parse(
            "http_server_config:\n  headers:\n    X-Frame-Options: deny\n",
            Path::new("."),
        )
        .unwrap();
        assert_eq!(c.headers.len(), 1);
        let e = err("http_server_config:\n  headers:\n    Set-Cookie: a=b\n");
        assert!(e.contains("http_server_config.headers.Set-Cookie"), "{e}");
    }

    #[test]
    fn a_user_without_a_bcrypt_hash_is_named() {
        let e = err("basic_auth_users:\n  alice: plaintext\n");
        assert!(e.contains("basic_auth_users.alice"), "{e}");
        assert!(!e.contains("plaintext"), "{e}");
    }
}
