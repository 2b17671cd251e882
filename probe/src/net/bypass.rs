//! WinHTTP's proxy bypass list (`netsh winhttp set proxy ... bypass-list=...`): host name
//! patterns with `*` wildcards, and `<local>` for every name without a period.

/// A WinHTTP bypass list: host names with `*` wildcards, and `<local>` for every name without a
/// period. Matching ignores case.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BypassList {
    entries: Vec<String>,
}

impl BypassList {
    pub fn parse(list: &str) -> BypassList {
        BypassList {
            entries: split_list(list).map(str::to_ascii_lowercase).collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether WinHTTP connects to `host` directly.
    pub fn matches(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.entries.iter().any(|entry| {
            if entry == "<local>" {
                return !host.contains('.') && host.parse::<std::net::IpAddr>().is_err();
            }
            let pattern = entry.split_once("://").map_or(entry.as_str(), |(_, p)| p);
            wildcard_match(pattern.as_bytes(), host.as_bytes())
        })
    }
}

impl std::fmt::Display for BypassList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.entries.join(";"))
    }
}

pub(super) fn split_list(list: &str) -> impl Iterator<Item = &str> {
    list.split(|c: char| c == ';' || c.is_whitespace())
        .map(str::trim)
        .filter(|e| !e.is_empty())
}

/// `*` matches any run of characters (also none); everything else matches itself. Greedy with
/// one backtrack point, so linear in practice and never exponential.
fn wildcard_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}
