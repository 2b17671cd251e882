//! Certificates: loaded from PEM files, or generated at start with rcgen (a CA plus a leaf).
//!
//! Generated material lets a rehearsal use the real writeback host names through a DNS or
//! hosts-file override: the client trusts the CA file the relay writes, and the leaf names
//! match. A certificate fault (`cert:...`) bends the [`LeafPlan`] before the leaf is signed.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// Names the generated leaf covers when no `--hostname` is given: loopback, and the password
/// writeback host names, so a hosts-file override can point the real names at the mock.
pub const DEFAULT_HOSTNAMES: &[&str] = &[
    "localhost",
    "127.0.0.1",
    "::1",
    "passwordreset.microsoftonline.com",
    "*.passwordreset.microsoftonline.com",
    "*.servicebus.windows.net",
    "ssprdedicatedsbprodscu.servicebus.windows.net",
    "ssprdedicatedsbprodncu.servicebus.windows.net",
];

/// Where the server certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertificateSource {
    /// PEM files: the chain (leaf first) and its private key.
    Files { cert: PathBuf, key: PathBuf },
    /// Generate a CA and a leaf for these names (DNS names, wildcards or IP addresses).
    Generate { hostnames: Vec<String> },
}

impl Default for CertificateSource {
    fn default() -> Self {
        CertificateSource::Generate {
            hostnames: DEFAULT_HOSTNAMES.iter().map(|s| s.to_string()).collect(),
        }
    }
}

impl CertificateSource {
    /// The same source, with `host` added to a generated certificate's names unless one of
    /// them already covers it (exactly, or as a wildcard's label), so that the host the
    /// connection string names is in the certificate. Loaded files are left as they are.
    pub fn covering(&self, host: &str) -> CertificateSource {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        match self {
            CertificateSource::Generate { hostnames } if !covered(hostnames, host) => {
                let mut hostnames = hostnames.clone();
                hostnames.push(host.to_string());
                CertificateSource::Generate { hostnames }
            }
            other => other.clone(),
        }
    }
}

/// Whether a certificate for `names` is valid for `host` (RFC 6125: a wildcard covers one label).
fn covered(names: &[String], host: &str) -> bool {
    names.iter().any(|name| {
        name.eq_ignore_ascii_case(host)
            || name.strip_prefix("*.").is_some_and(|parent| {
                host.split_once('.').is_some_and(|(label, rest)| {
                    !label.is_empty() && rest.eq_ignore_ascii_case(parent)
                })
            })
    })
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Pem { path: PathBuf, message: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("the certificate and key do not make a TLS configuration: {0}")]
    Config(#[from] rustls::Error),
    #[error("certificate faults need a generated certificate; drop --cert/--key")]
    FaultWithFiles,
}

/// A server certificate ready for rustls, with PEM copies of what was generated.
pub struct Material {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    /// The CA that clients should trust (generated material only).
    pub ca_pem: Option<String>,
    /// The leaf certificate and key in PEM (generated material only).
    pub leaf_pem: Option<String>,
    pub key_pem: Option<String>,
}

impl Material {
    /// Loads or generates the certificate; `bend` (a certificate fault) changes a generated
    /// leaf and cannot apply to loaded files.
    pub fn obtain(
        source: &CertificateSource,
        bend: Option<&dyn Fn(&mut LeafPlan)>,
    ) -> Result<Material, TlsError> {
        match source {
            CertificateSource::Files { .. } if bend.is_some() => Err(TlsError::FaultWithFiles),
            CertificateSource::Files { cert, key } => load(cert, key),
            CertificateSource::Generate { hostnames } => generate(hostnames, bend),
        }
    }

    /// A rustls server configuration (ring provider, TLS 1.2 and 1.3, ALPN http/1.1).
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), self.key.clone_key())?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

fn load(cert: &Path, key: &Path) -> Result<Material, TlsError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|source| TlsError::Read {
            path: path.to_path_buf(),
            source,
        })
    };
    let pem_err = |path: &Path, message: String| TlsError::Pem {
        path: path.to_path_buf(),
        message,
    };
    let chain = CertificateDer::pem_slice_iter(&read(cert)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_err(cert, e.to_string()))?;
    if chain.is_empty() {
        return Err(pem_err(cert, "no CERTIFICATE block".into()));
    }
    let key_der = PrivateKeyDer::from_pem_slice(&read(key)?)
        .map_err(|e| pem_err(key, format!("no usable private key ({e})")))?;
    Ok(Material {
        chain,
        key: key_der,
        ca_pem: None,
        leaf_pem: None,
        key_pem: None,
    })
}

/// What the generated leaf certificate will be: a certificate fault changes it before signing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafPlan {
    /// The subject alternative names; the first is also the common name.
    pub names: Vec<String>,
    /// When the certificate is generated; the validity is set around it.
    pub issued_at: OffsetDateTime,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    /// Signed by its own key instead of the CA.
    pub self_signed: bool,
}

impl LeafPlan {
    /// A good leaf for `names`, valid from a day ago for 90 days, signed by the CA.
    fn new(names: &[String], now: OffsetDateTime) -> LeafPlan {
        LeafPlan {
            names: names.to_vec(),
            issued_at: now,
            not_before: now - Duration::days(1),
            not_after: now + Duration::days(90),
            self_signed: false,
        }
    }
}

/// The common name of every mock-relay CA: with [`CA_ORGANIZATION`], how the probe tells a
/// rehearsal against a mock-relay from a TLS-inspecting device.
pub const CA_COMMON_NAME: &str = "mock-relay test CA";
/// The organisation of every mock-relay CA.
pub const CA_ORGANIZATION: &str = "mock-relay (not a real authority)";

/// Generates a CA and a leaf for `hostnames`, bent by `bend` (a certificate fault) if given.
pub fn generate(
    hostnames: &[String],
    bend: Option<&dyn Fn(&mut LeafPlan)>,
) -> Result<Material, TlsError> {
    let now = OffsetDateTime::now_utc();

    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params
        .distinguished_name
        .push(DnType::CommonName, CA_COMMON_NAME);
    ca_params
        .distinguished_name
        .push(DnType::OrganizationName, CA_ORGANIZATION);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params.not_before = now - Duration::days(1);
    ca_params.not_after = now + Duration::days(365);
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let ca_pem = ca_cert.pem();
    let issuer = Issuer::new(ca_params, ca_key);

    let mut plan = LeafPlan::new(hostnames, now);
    if let Some(bend) = bend {
        bend(&mut plan);
    }
    let mut leaf = CertificateParams::new(plan.names.clone())?;
    let common_name = plan
        .names
        .first()
        .map(String::as_str)
        .unwrap_or("mock-relay");
    leaf.distinguished_name
        .push(DnType::CommonName, common_name);
    leaf.distinguished_name
        .push(DnType::OrganizationName, "mock-relay");
    leaf.not_before = plan.not_before;
    leaf.not_after = plan.not_after;
    let leaf_key = KeyPair::generate()?;
    let leaf_cert = if plan.self_signed {
        leaf.self_signed(&leaf_key)?
    } else {
        leaf.signed_by(&leaf_key, &issuer)?
    };
    Ok(Material {
        chain: vec![leaf_cert.der().clone()],
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        ca_pem: Some(ca_pem),
        leaf_pem: Some(leaf_cert.pem()),
        key_pem: Some(leaf_key.serialize_pem()),
    })
}

/// Writes a public file (a certificate).
pub fn write_public(path: &Path, contents: &str) -> Result<(), TlsError> {
    std::fs::write(path, contents).map_err(|source| TlsError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes a private key readable by its owner only (mode 0600 on Unix), also when the file
/// already existed with a wider mode.
pub fn write_private(path: &Path, contents: &str) -> Result<(), TlsError> {
    let wrap = |source| TlsError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options.open(path).map_err(wrap)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(wrap)?;
        write_all(file, contents).map_err(wrap)
    }
    #[cfg(not(unix))]
    {
        let file = options.open(path).map_err(wrap)?;
        write_all(file, contents).map_err(wrap)
    }
}

fn write_all(mut file: std::fs::File, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_namespace_host_is_added_only_when_not_covered() {
        let names = |source: CertificateSource| match source {
            CertificateSource::Generate { hostnames } => hostnames,
            CertificateSource::Files { .. } => panic!("files"),
        };
        let defaults = CertificateSource::default();
        assert_eq!(
            names(defaults.covering("127.0.0.1")),
            names(defaults.clone())
        );
        assert_eq!(names(defaults.covering("[::1]")), names(defaults.clone()));
        assert_eq!(
            names(defaults.covering("mock-relay.servicebus.windows.net")),
            names(defaults.clone())
        );
        let added = names(defaults.covering("198.18.0.1"));
        assert_eq!(added.last().map(String::as_str), Some("198.18.0.1"));
        assert!(!covered(&["*.lab".into()], "a.b.lab"));
        let files = CertificateSource::Files {
            cert: "c.pem".into(),
            key: "k.pem".into(),
        };
        assert_eq!(files.covering("198.18.0.1"), files);
    }

    fn default_names() -> Vec<String> {
        DEFAULT_HOSTNAMES.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn generated_material_makes_a_server_config() {
        let material = generate(&default_names(), None).unwrap();
        assert!(material
            .ca_pem
            .as_deref()
            .unwrap()
            .contains("BEGIN CERTIFICATE"));
        material.server_config().unwrap();
    }

    #[test]
    fn files_round_trip_and_keys_are_private() {
        let dir = std::env::temp_dir().join(format!("mock-relay-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let material = generate(&["localhost".into()], None).unwrap();
        let cert = dir.join("leaf.pem");
        let key = dir.join("leaf.key");
        write_public(&cert, material.leaf_pem.as_deref().unwrap()).unwrap();
        std::fs::write(&key, "old").unwrap();
        write_private(&key, material.key_pem.as_deref().unwrap()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let loaded = Material::obtain(
            &CertificateSource::Files {
                cert: cert.clone(),
                key: key.clone(),
            },
            None,
        )
        .unwrap();
        assert_eq!(loaded.chain, material.chain);
        let err = Material::obtain(
            &CertificateSource::Files { cert, key },
            Some(&|leaf: &mut LeafPlan| leaf.self_signed = true),
        )
        .err()
        .unwrap();
        assert!(matches!(err, TlsError::FaultWithFiles));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
