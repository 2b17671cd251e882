//! NTLM proxy authentication with explicit credentials (MS-NLMP), NTLMv2 only: the NEGOTIATE
//! message (Type 1) to start, and the AUTHENTICATE message (Type 3) that answers the proxy's
//! CHALLENGE (Type 2). The messages themselves come from the `ntlmclient` crate; this module
//! picks the flags, the user and domain, and the time, as MS-NLMP 3.1.5.1.2 asks.

use base64::Engine;
use ntlmclient::{Flags, Message, NegotiateMessage, TargetInfoType};
use std::time::{SystemTime, UNIX_EPOCH};

/// Unicode strings, the target's information, and the NTLM2 session security a current client
/// asks for; no signing or sealing (the tunnel carries TLS already).
fn flags() -> Flags {
    Flags::NEGOTIATE_UNICODE
        | Flags::REQUEST_TARGET
        | Flags::NEGOTIATE_NTLM
        | Flags::NEGOTIATE_ALWAYS_SIGN
        | Flags::NEGOTIATE_NTLM2_KEY
        | Flags::NEGOTIATE_TARGET_INFO
}

/// The `Proxy-Authorization` value that opens the handshake: `NTLM <Type 1>`.
pub fn negotiate() -> Result<String, String> {
    let message = Message::Negotiate(NegotiateMessage {
        flags: flags(),
        supplied_domain: String::new(),
        supplied_workstation: String::new(),
        os_version: Default::default(),
    });
    let bytes = message
        .to_bytes()
        .map_err(|e| format!("cannot build the NTLM negotiate message: {e}"))?;
    Ok(format!("NTLM {}", encode(&bytes)))
}

/// The `Proxy-Authorization` value answering the proxy's challenge (`token68`, the base64 of its
/// Type 2 message) for `user` (`DOMAIN\user`, `user@domain` or a bare name) and `password`.
pub fn authenticate(challenge: &str, user: &str, password: &str) -> Result<String, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(challenge)
        .map_err(|_| "the proxy's NTLM challenge is not base64".to_string())?;
    let challenge = match Message::try_from(bytes.as_slice()) {
        Ok(Message::Challenge(c)) => c,
        Ok(_) => return Err("the proxy's NTLM answer is not a challenge message".into()),
        Err(e) => return Err(format!("the proxy's NTLM challenge is malformed ({e})")),
    };
    let (domain, user) = split_user(user);
    let credentials = ntlmclient::Credentials {
        username: user.to_string(),
        password: password.to_string(),
        domain: domain.to_string(),
    };
    let target_info: Vec<u8> = challenge
        .target_information
        .iter()
        .flat_map(|entry| entry.to_bytes())
        .collect();
    // MS-NLMP 3.1.5.1.2: with the server's MsvAvTimestamp, use its time and send Z(24) as the
    // LM response.
    let server_time = challenge
        .target_information
        .iter()
        .find(|e| e.entry_type == TargetInfoType::Timestamp && e.data.len() == 8)
        .and_then(|e| e.data.as_slice().try_into().ok())
        .map(i64::from_le_bytes);
    let time = server_time.unwrap_or_else(filetime_now);
    let mut response = ntlmclient::respond_challenge_ntlm_v2(
        challenge.challenge,
        &target_info,
        time,
        &credentials,
    );
    if server_time.is_some() {
        response.lm_response = vec![0; 24];
    }
    // No key exchange was negotiated: the session key field stays empty (MS-NLMP 2.2.1.3).
    response.session_key = Vec::new();
    let message = response.to_message(&credentials, "", flags());
    let bytes = message
        .to_bytes()
        .map_err(|e| format!("cannot build the NTLM authenticate message: {e}"))?;
    Ok(format!("NTLM {}", encode(&bytes)))
}

/// `(domain, user)`: `DOMAIN\user` is split; `user@domain` (a UPN) is sent whole with an empty
/// domain, as Windows sends it; a bare name has no domain.
pub fn split_user(user: &str) -> (&str, &str) {
    match user.split_once('\\') {
        Some((domain, name)) => (domain, name),
        None => ("", user),
    }
}

fn encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Now as a Windows FILETIME: 100 ns ticks since 1601-01-01.
fn filetime_now() -> i64 {
    const UNIX_EPOCH_AS_FILETIME: i64 = 116_444_736_000_000_000;
    let since_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let ticks = i64::try_from(since_unix.as_nanos() / 100).unwrap_or(0);
    UNIX_EPOCH_AS_FILETIME + ticks
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, Mac};

    fn decode(header: &str) -> Vec<u8> {
        let token = header.strip_prefix("NTLM ").expect("NTLM scheme");
        base64::engine::general_purpose::STANDARD
            .decode(token)
            .unwrap()
    }

    fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    fn av_pair(id: u16, value: &[u8]) -> Vec<u8> {
        let mut pair = id.to_le_bytes().to_vec();
        pair.extend_from_slice(&(value.len() as u16).to_le_bytes());
        pair.extend_from_slice(value);
        pair
    }

    /// The MS-NLMP 4.2.4 server challenge and target info (NetBIOS domain "Domain", computer
    /// "Server"), laid out by hand as a CHALLENGE_MESSAGE (2.2.1.2); with an MsvAvTimestamp when
    /// `timestamp` is given.
    fn challenge(timestamp: Option<i64>) -> (String, Vec<u8>) {
        let mut target_info = av_pair(2, &utf16("Domain"));
        target_info.extend(av_pair(1, &utf16("Server")));
        if let Some(t) = timestamp {
            target_info.extend(av_pair(7, &t.to_le_bytes()));
        }
        target_info.extend(av_pair(0, &[]));
        let name = utf16("Domain");
        let header = 56u32;
        let mut m = b"NTLMSSP\0".to_vec();
        m.extend_from_slice(&2u32.to_le_bytes());
        m.extend_from_slice(&(name.len() as u16).to_le_bytes());
        m.extend_from_slice(&(name.len() as u16).to_le_bytes());
        m.extend_from_slice(&header.to_le_bytes());
        m.extend_from_slice(&0xe28a_8233u32.to_le_bytes());
        m.extend_from_slice(&[0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]);
        m.extend_from_slice(&[0; 8]);
        m.extend_from_slice(&(target_info.len() as u16).to_le_bytes());
        m.extend_from_slice(&(target_info.len() as u16).to_le_bytes());
        m.extend_from_slice(&(header + name.len() as u32).to_le_bytes());
        m.extend_from_slice(&[6, 0, 0x70, 0x17, 0, 0, 0, 15]);
        m.extend_from_slice(&name);
        m.extend_from_slice(&target_info);
        (encode(&m), target_info)
    }

    /// A security buffer of an AUTHENTICATE_MESSAGE (2.2.1.3) at byte `at`.
    fn field(m: &[u8], at: usize) -> &[u8] {
        let len = u16::from_le_bytes([m[at], m[at + 1]]) as usize;
        let offset = u32::from_le_bytes(m[at + 4..at + 8].try_into().unwrap()) as usize;
        &m[offset..offset + len]
    }

    #[test]
    fn negotiate_is_a_type_1_asking_for_unicode_and_ntlm() {
        let m = decode(&negotiate().unwrap());
        assert_eq!(&m[..8], b"NTLMSSP\0");
        assert_eq!(u32::from_le_bytes(m[8..12].try_into().unwrap()), 1);
        let flags = Flags::from_bits_truncate(u32::from_le_bytes(m[12..16].try_into().unwrap()));
        assert!(flags.contains(Flags::NEGOTIATE_UNICODE | Flags::NEGOTIATE_NTLM));
        assert!(!flags.contains(Flags::NEGOTIATE_SEAL));
    }

    /// MS-NLMP 4.2.4: for User/Domain/Password, ResponseKeyNT is 0c868a40...; the NTProofStr
    /// must be HMAC_MD5 of it over the server challenge and the blob the message carries.
    #[test]
    fn authenticate_answers_with_the_ms_nlmp_ntlmv2_response() {
        let (token, target_info) = challenge(None);
        let header = authenticate(&token, r"Domain\User", "Password").unwrap();
        assert!(!header.contains("Password"));
        let m = decode(&header);
        assert_eq!(&m[..8], b"NTLMSSP\0");
        assert_eq!(u32::from_le_bytes(m[8..12].try_into().unwrap()), 3);
        let (lm, nt) = (field(&m, 12), field(&m, 20));
        assert_eq!(
            (field(&m, 28), field(&m, 36)),
            (&utf16("Domain")[..], &utf16("User")[..])
        );
        assert_eq!(lm.len(), 24);
        let blob = &nt[16..];
        assert_eq!(&blob[..2], &[1, 1], "blob version");
        assert_eq!(&blob[28..28 + target_info.len()], &target_info[..]);
        let response_key_nt = [
            0x0c, 0x86, 0x8a, 0x40, 0x3b, 0xfd, 0x7a, 0x93, 0xa3, 0x00, 0x1e, 0xf2, 0x2e, 0xf0,
            0x2e, 0x3f,
        ];
        let mut mac = Hmac::<md5::Md5>::new_from_slice(&response_key_nt).unwrap();
        mac.update(&[0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]);
        mac.update(blob);
        assert_eq!(&nt[..16], &mac.finalize().into_bytes()[..], "NTProofStr");
    }

    #[test]
    fn the_servers_timestamp_is_used_and_lm_is_zero() {
        let t = 0x01d9_1234_5678_9abc_i64;
        let m = decode(&authenticate(&challenge(Some(t)).0, "u", "p").unwrap());
        assert_eq!(field(&m, 12), &[0; 24]);
        assert_eq!(&field(&m, 20)[24..32], &t.to_le_bytes());
    }

    #[test]
    fn user_names_split_into_domain_and_user() {
        assert_eq!(split_user(r"CORP\alice"), ("CORP", "alice"));
        assert_eq!(split_user("alice@corp.example"), ("", "alice@corp.example"));
        assert_eq!(split_user("alice"), ("", "alice"));
    }

    #[test]
    fn a_bad_challenge_is_an_error_not_a_panic() {
        let truncated = &decode(&format!("NTLM {}", challenge(None).0))[..60];
        for bad in [
            "%%%".to_string(),
            String::new(),
            "TlRMTVNTUAABAAAA".into(),
            encode(b"NTLMSSP\0\x02\0\0\0short"),
            encode(truncated),
        ] {
            assert!(authenticate(&bad, "u", "p").is_err(), "{bad}");
        }
    }

    #[test]
    fn filetime_is_after_2020() {
        assert!(filetime_now() > 132_223_104_000_000_000);
    }
}
