//! `--namespace-from FILE`: the relay namespaces password writeback actually uses, read from
//! its own events. Any text will do (an event log exported as text, XML or CSV, a binary
//! `.evtx`, a pasted error): every Service Bus host name in it is a namespace to check, as
//! `--relay-namespace` checks one.

use std::path::{Path, PathBuf};

/// A `--namespace-from` file that names no namespace.
#[derive(Debug, thiserror::Error)]
pub enum NamespaceFromError {
    #[error("--namespace-from {}: larger than {} MiB, so not an export of writeback's events; {}", .0.display(), MAX_FILE_BYTES / (1024 * 1024), EVENTS_HINT)]
    TooLarge(PathBuf),
    #[error("--namespace-from {}: cannot read it ({source})", .path.display())]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    /// `gateways`: the gateway names found, which alone say nothing of the namespace.
    #[error("--namespace-from {}: no relay namespace in it{}: looked for host names ending in .{}, .{} or .{}, and for names beginning with {}; {}", .path.display(), gateways_clause(.gateways), SUFFIXES[0], SUFFIXES[1], SUFFIXES[2], WRITEBACK_PREFIX, EVENTS_HINT)]
    NoNamespace {
        path: PathBuf,
        gateways: Vec<String>,
    },
}

impl crate::error::UserError for NamespaceFromError {}

fn gateways_clause(gateways: &[String]) -> String {
    if gateways.is_empty() {
        String::new()
    } else {
        format!(
            " (only gateway names: {}, which belong to a namespace)",
            gateways.join(", ")
        )
    }
}

/// The relay suffixes of the three clouds.
pub const SUFFIXES: [&str; 3] = [
    "servicebus.windows.net",
    "servicebus.usgovcloudapi.net",
    "servicebus.chinacloudapi.cn",
];

/// The prefix of writeback's dedicated relay namespaces (`ssprdedicatedsbprodfra-1`,
/// `ssprdedicatedsbmcprodcne`): a bare label with it is a namespace even without a suffix.
pub const WRITEBACK_PREFIX: &str = "ssprdedicatedsb";

/// Which events name the namespaces, and one command that exports them.
pub const EVENTS_HINT: &str = "export the Application log events 31019, 31034, 32002 and 32011 of source PasswordResetService on the sync server, e.g. wevtutil qe Application /q:\"*[System[Provider[@Name='PasswordResetService'] and (EventID=31019 or EventID=31034 or EventID=32002 or EventID=32011)]]\" /f:text > writeback-events.txt";

/// Larger files are not event exports (the Application log's default maximum is 20 MB).
const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// What a text names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    /// Namespace host names (`name.servicebus.windows.net`) and bare writeback labels, in order
    /// of first appearance.
    pub namespaces: Vec<String>,
    /// Gateway host names (`g3-prod-fra-001-sb.servicebus.windows.net`): not namespaces; the
    /// namespaces' gateway check covers them.
    pub gateways: Vec<String>,
}

/// Every relay name in `text`.
pub fn extract(text: &str) -> Found {
    let lower = text.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut hits: Vec<(usize, String, bool)> = Vec::new();
    for suffix in SUFFIXES {
        let dotted = format!(".{suffix}");
        for (at, _) in lower.match_indices(&dotted) {
            if continues_as_host(bytes, at + dotted.len()) {
                continue;
            }
            let mut start = at;
            while start > 0 && is_label_byte(bytes[start - 1]) {
                start -= 1;
            }
            let mut label = &lower[start..at];
            // A URL-encoded separator (`%2F`) leaves its hex digits in front of the name.
            if start > 0 && bytes[start - 1] == b'%' && label.len() > 2 {
                label = &label[2..];
            }
            if is_gateway(label) {
                hits.push((start, format!("{label}.{suffix}"), true));
            } else if is_namespace(label) {
                hits.push((start, format!("{label}.{suffix}"), false));
            }
        }
    }
    for (at, _) in lower.match_indices(WRITEBACK_PREFIX) {
        if at > 0 && (is_label_byte(bytes[at - 1]) || bytes[at - 1] == b'.') {
            continue;
        }
        let mut end = at;
        while end < bytes.len() && is_label_byte(bytes[end]) {
            end += 1;
        }
        let label = &lower[at..end];
        if bytes.get(end) == Some(&b'.') && continues_as_host(bytes, end) || !is_namespace(label) {
            continue;
        }
        hits.push((at, label.to_string(), false));
    }
    hits.sort_by_key(|(at, _, _)| *at);
    let mut found = Found::default();
    for (_, name, gateway) in hits {
        let list = if gateway {
            &mut found.gateways
        } else {
            &mut found.namespaces
        };
        if !list.contains(&name) {
            list.push(name);
        }
    }
    // A bare label that also appears with its suffix is the same namespace.
    let full = found.namespaces.clone();
    found
        .namespaces
        .retain(|n| n.contains('.') || !full.iter().any(|f| f.starts_with(&format!("{n}."))));
    found
}

/// Every relay name in a file's bytes, whatever its encoding: read as text, and for files with
/// NUL bytes (UTF-16 without a mark, `.evtx`) also as UTF-16LE at both alignments.
pub fn extract_bytes(bytes: &[u8]) -> Found {
    let mut found = extract(&crate::windows_text::decode(bytes));
    if bytes.contains(&0) {
        for offset in [0, 1] {
            let more = extract(&crate::windows_text::utf16le_at(bytes, offset));
            for n in more.namespaces {
                if !found.namespaces.contains(&n) {
                    found.namespaces.push(n);
                }
            }
            for g in more.gateways {
                if !found.gateways.contains(&g) {
                    found.gateways.push(g);
                }
            }
        }
    }
    found
}

/// Reads `path` for `--namespace-from`: the names found, and a note for the report. A file that
/// cannot be read or names nothing is a usage error saying what was looked for.
pub fn read(path: &Path) -> Result<(Vec<String>, String), NamespaceFromError> {
    let shown = path.display();
    let too_big = std::fs::metadata(path)
        .map(|m| m.len() > MAX_FILE_BYTES)
        .unwrap_or(false);
    if too_big {
        return Err(NamespaceFromError::TooLarge(path.to_path_buf()));
    }
    let bytes = std::fs::read(path).map_err(|source| NamespaceFromError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    let found = extract_bytes(&bytes);
    if found.namespaces.is_empty() {
        return Err(NamespaceFromError::NoNamespace {
            path: path.to_path_buf(),
            gateways: found.gateways,
        });
    }
    let mut note = format!(
        "--namespace-from {shown}: {} relay namespace(s) found and checked: {}",
        found.namespaces.len(),
        found.namespaces.join(", ")
    );
    if !found.gateways.is_empty() {
        note.push_str(&format!(
            "; gateway names left to the namespaces' gateway check: {}",
            found.gateways.join(", ")
        ));
    }
    Ok((found.namespaces, note))
}

fn is_label_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}

/// Whether the name goes on past `at` (`...servicebus.windows.net.example.com`,
/// `...servicebus.windows.network`): then it is another domain's name.
fn continues_as_host(bytes: &[u8], at: usize) -> bool {
    match bytes.get(at) {
        Some(&b) if is_label_byte(b) => true,
        Some(b'.') => bytes
            .get(at + 1)
            .is_some_and(|&b| b.is_ascii_alphanumeric()),
        _ => false,
    }
}

/// Azure's rule for a Service Bus namespace name: 6 to 50 letters, digits and hyphens, starting
/// with a letter and ending with a letter or digit.
fn is_namespace(label: &str) -> bool {
    let b = label.as_bytes();
    (6..=50).contains(&b.len())
        && b[0].is_ascii_alphabetic()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|&c| is_label_byte(c))
}

/// `g<N>-<deployment>-sb`: a relay gateway host's first label.
fn is_gateway(label: &str) -> bool {
    let Some(rest) = label.strip_prefix('g') else {
        return false;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0
        && rest[digits..].starts_with('-')
        && label.ends_with("-sb")
        && label.bytes().all(is_label_byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Event Viewer's text export of a 31034 event (shape of the real one; names made up where
    /// the tenant's would be).
    const EVENT_TEXT: &str = "Log Name:      Application\r\nSource:        PasswordResetService\r\nEvent ID:      31034\r\nLevel:         Error\r\nDescription:\r\nTrackingId: 0b9f2c1e, Reason: An error occurred on the Service Bus listener for endpoint sb://ssprdedicatedsbprodfra-1.servicebus.windows.net/5d1e4d0c-tenant/ : The remote certificate is invalid according to the validation procedure.\r\n";

    #[test]
    fn finds_the_namespace_of_an_event() {
        let f = extract(EVENT_TEXT);
        assert_eq!(
            f.namespaces,
            ["ssprdedicatedsbprodfra-1.servicebus.windows.net"]
        );
        assert!(f.gateways.is_empty());
    }

    #[test]
    fn every_cloud_xml_csv_and_duplicates() {
        let xml = "<Event><EventData><Data>https://SSPRDedicatedSBProdSCU.servicebus.windows.net:443/$hc/x</Data><Data>ssprdedicatedsbmcprodcne.servicebus.chinacloudapi.cn</Data></EventData></Event>";
        let csv = "Error,1/2/2026 10:00,PasswordResetService,31019,None,\"relay tenantrelay01.servicebus.usgovcloudapi.net, and https%3A%2F%2Fssprdedicatedsbprodscu.servicebus.windows.net%2F\"";
        let f = extract(&format!("{xml}\n{csv}"));
        assert_eq!(
            f.namespaces,
            [
                "ssprdedicatedsbprodscu.servicebus.windows.net",
                "ssprdedicatedsbmcprodcne.servicebus.chinacloudapi.cn",
                "tenantrelay01.servicebus.usgovcloudapi.net",
            ]
        );
    }

    #[test]
    fn bare_writeback_labels_and_gateways() {
        let f = extract("Listening on ssprdedicatedsbprodfra-1 and ssprdedicatedsbprodncu. Gateway g12-prod-am3-003-sb.servicebus.windows.net was reset.");
        assert_eq!(
            f.namespaces,
            ["ssprdedicatedsbprodfra-1", "ssprdedicatedsbprodncu"]
        );
        assert_eq!(f.gateways, ["g12-prod-am3-003-sb.servicebus.windows.net"]);
        // The bare label of a name given in full is not a second namespace.
        let both =
            extract("ssprdedicatedsbprodfra-1 (ssprdedicatedsbprodfra-1.servicebus.windows.net)");
        assert_eq!(
            both.namespaces,
            ["ssprdedicatedsbprodfra-1.servicebus.windows.net"]
        );
    }

    #[test]
    fn wildcards_lookalikes_and_other_domains_are_not_names() {
        let f = extract("allow *.servicebus.windows.net and x.servicebus.windows.net; evil.servicebus.windows.net.example.com; a.servicebus.windows.network; -bad-.servicebus.windows.net; ssprdedicatedsbprodscu.cloudapp.net");
        assert_eq!(f, Found::default());
    }

    #[test]
    fn utf16_exports_and_binary_evtx() {
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(EVENT_TEXT.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let mut evtx = b"ElfFile\0\x01\x02\x03".to_vec();
        evtx.extend(EVENT_TEXT.encode_utf16().flat_map(u16::to_le_bytes));
        for bytes in [&utf16, &evtx] {
            assert_eq!(
                extract_bytes(bytes).namespaces,
                ["ssprdedicatedsbprodfra-1.servicebus.windows.net"]
            );
        }
    }

    #[test]
    fn files_that_name_nothing_or_cannot_be_read_are_usage_errors() {
        let dir = std::env::temp_dir().join(format!("probe-nsfrom-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("none.txt");
        std::fs::write(&empty, "nothing relevant here").unwrap();
        let e = read(&empty).unwrap_err().to_string();
        assert!(
            e.contains("--namespace-from")
                && e.contains("31019")
                && e.contains(".servicebus.windows.net"),
            "{e}"
        );
        let e = read(&dir.join("missing.txt")).unwrap_err().to_string();
        assert!(e.contains("cannot read it"), "{e}");
        let ok = dir.join("events.txt");
        std::fs::write(&ok, EVENT_TEXT).unwrap();
        let (names, note) = read(&ok).unwrap();
        assert_eq!(names.len(), 1);
        assert!(note.contains("1 relay namespace(s) found"), "{note}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
