//! Proxy authentication with the logon's own credentials, as the sync service does it
//! (machine.config `<defaultProxy useDefaultCredentials="true">`): a security context from the
//! system, SSPI on Windows (`sspi`), GSSAPI with the Kerberos credential cache elsewhere
//! (`gssapi`). This module is what both share: the package asked for, the identity and SPN,
//! which mechanism a token carries, and why a context could not be made, in the user's words.

use std::fmt;

/// The security package asked for: `--proxy-auth negotiate` or `ntlm` without a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Package {
    /// SPNEGO: Kerberos, NTLM as the fallback (Windows; GSSAPI has NTLM only with gss-ntlmssp).
    Negotiate,
    Ntlm,
}

impl Package {
    /// The HTTP auth-scheme it answers.
    pub fn scheme(self) -> &'static str {
        match self {
            Package::Negotiate => "Negotiate",
            Package::Ntlm => "NTLM",
        }
    }
}

/// The mechanism a token carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    Kerberos,
    Ntlm,
}

impl Mechanism {
    pub fn as_str(self) -> &'static str {
        match self {
            Mechanism::Kerberos => "Kerberos",
            Mechanism::Ntlm => "NTLM",
        }
    }
}

/// Which mechanism a token the probe sends carries: an NTLM message (bare, or inside SPNEGO)
/// starts with `NTLMSSP\0`; a Kerberos one names the Kerberos OID (MIT's or Microsoft's) in its
/// header or SPNEGO's list, first.
pub fn mechanism_of(token: &[u8]) -> Option<Mechanism> {
    const KRB5: &[u8] = &[
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02,
    ];
    const MS_KRB5: &[u8] = &[
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02,
    ];
    const NTLM_OID: &[u8] = &[
        0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a,
    ];
    let at = |needle: &[u8]| token.windows(needle.len()).position(|w| w == needle);
    if token.starts_with(b"NTLMSSP\0") {
        return Some(Mechanism::Ntlm);
    }
    let kerberos = [at(KRB5), at(MS_KRB5)].into_iter().flatten().min();
    match (kerberos, at(NTLM_OID), at(b"NTLMSSP\0")) {
        (Some(k), ntlm, _) if ntlm.is_none_or(|n| k < n) => Some(Mechanism::Kerberos),
        (_, Some(_), _) | (_, _, Some(_)) => Some(Mechanism::Ntlm),
        _ => None,
    }
}

/// Who authenticated and to whom: what the result names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Logon {
    /// The principal or account (`svc@CORP.EXAMPLE`, `CORP\SERVER$`), when the system says.
    pub identity: Option<String>,
    /// The service principal asked for: `HTTP/<proxy name>`.
    pub spn: String,
    /// The mechanism of the last token sent.
    pub mechanism: Option<Mechanism>,
}

/// Why the system could not make a token: the cause in the user's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// No ticket or credentials for this logon (no `kinit`, an expired ticket, no keytab).
    NoCredentials,
    /// The KDC does not know `HTTP/<proxy name>`: the proxy was reached by an IP address or an
    /// alias that has no SPN.
    NoSpn,
    /// The clocks of this host, the KDC or the proxy differ by more than the realm allows.
    ClockSkew,
    /// No KDC of the realm answered.
    KdcUnreachable,
    /// No SSPI or GSSAPI to use here (a static build, Wine, no Kerberos library installed).
    Unavailable,
    /// Anything else the system said.
    Other,
}

/// A failure of the system's security library, with its own words (which name no secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub cause: Cause,
    pub detail: String,
}

impl Failure {
    pub fn new(cause: Cause, detail: impl Into<String>) -> Failure {
        Failure {
            cause,
            detail: detail.into(),
        }
    }

    /// The user's words for it, with what to change.
    pub fn advice(&self) -> &'static str {
        match self.cause {
            Cause::NoCredentials => "there is no ticket or credential for this logon: on Linux get one with kinit (or point KRB5_CLIENT_KTNAME at a keytab); on Windows run the probe as the sync service's account (a scheduled task as that account, or as SYSTEM for the computer account)",
            Cause::NoSpn => "the KDC has no service principal HTTP/<proxy name> for the name the proxy was reached by (an IP address or an alias): use the proxy's registered name in the proxy setting, or register the SPN on the proxy's account (setspn -S HTTP/<name> <account>); otherwise the service falls back to NTLM or fails",
            Cause::ClockSkew => "the clocks differ by more than the realm allows (5 minutes by default): synchronise this host, the KDC (domain controller) and the proxy with the domain's time source",
            Cause::KdcUnreachable => "no KDC (domain controller) of the realm answered: open TCP and UDP 88 to it, and check the realm's KDC names resolve",
            Cause::Unavailable => "this build or system cannot authenticate with the logon's own credentials",
            Cause::Other => "the system's security library refused to make a token",
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.advice(), self.detail)
    }
}

/// One step of a security context.
pub enum Step {
    /// A token to send; the context may want the proxy's answer.
    Send(Vec<u8>),
    /// The context is complete and has nothing more to send.
    Done,
}

/// A client security context of the system's, for one proxy.
pub trait Context: Send {
    /// Makes the next token, from the proxy's last one (`None` to begin).
    fn step(&mut self, input: Option<&[u8]>) -> Result<Step, Failure>;
    /// The logon's principal or account.
    fn identity(&self) -> Option<String>;
}

/// The most legs of a handshake: SPNEGO with Kerberos takes one or two, NTLM two.
pub const MAX_ROUNDS: usize = 4;

/// The largest token accepted from the proxy or sent to it (Kerberos tickets with a large PAC
/// reach ~12 KB; Windows' own limit for an HTTP header is 64 KB).
pub const MAX_TOKEN: usize = 48 * 1024;

/// The service principal for a proxy reached by `host`.
pub fn spn(host: &str) -> String {
    format!("HTTP/{}", host.trim_end_matches('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mechanism_is_read_from_the_token() {
        assert_eq!(mechanism_of(b"NTLMSSP\0\x01\0\0\0"), Some(Mechanism::Ntlm));
        // SPNEGO NegTokenInit, Kerberos first then NTLM.
        let mut spnego = vec![0x60, 0x30, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
        spnego.extend([
            0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02,
        ]);
        spnego.extend([
            0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a,
        ]);
        assert_eq!(mechanism_of(&spnego), Some(Mechanism::Kerberos));
        // NTLM first (no Kerberos to offer): an NTLM message inside.
        let mut ntlm = vec![0x60, 0x30, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
        ntlm.extend([
            0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a,
        ]);
        ntlm.extend(b"NTLMSSP\0");
        assert_eq!(mechanism_of(&ntlm), Some(Mechanism::Ntlm));
        assert_eq!(mechanism_of(b"\x60\x00"), None);
    }

    #[test]
    fn the_spn_is_http_slash_the_name_used() {
        assert_eq!(spn("proxy.corp.example."), "HTTP/proxy.corp.example");
        assert_eq!(spn("198.18.0.2"), "HTTP/198.18.0.2");
    }
}
