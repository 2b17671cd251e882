//! NTLM proxy authentication with explicit credentials (MS-NLMP), NTLMv2 only: the NEGOTIATE
//! message (Type 1) to start, and the AUTHENTICATE message (Type 3) that answers the proxy's
//! CHALLENGE (Type 2). The `ntlmclient` crate computes the NTLMv2 response and writes the
//! messages; the challenge is read here, liberally, because real proxies send shorter ones than
//! the crate's parser accepts (Squid's helper: no target info, no version field).

use base64::Engine;
use ntlmclient::{Flags, Message, NegotiateMessage};
use std::time::{SystemTime, UNIX_EPOCH};

/// Unicode strings, the target's information, and the NTLM2 session security a current client
/// asks for; no signing or sealing (the tunnel carries TLS already).
fn flags() -> Flags {
    Flags::NEGOTIATE_UNICODE
        | Flags::NEGOTIATE_OEM
        | Flags::REQUEST_TARGET
        | Flags::NEGOTIATE_NTLM
        | Flags::NEGOTIATE_ALWAYS_SIGN
        | Flags::NEGOTIATE_NTLM2_KEY
        | Flags::NEGOTIATE_TARGET_INFO
}

/// Why the NTLM handshake cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum NtlmError {
    /// `message`: `negotiate` or `authenticate`.
    #[error("cannot build the NTLM {message} message: {error}")]
    Build {
        message: &'static str,
        error: ntlmclient::StoringError,
    },
    #[error("the proxy's NTLM challenge is not base64")]
    NotBase64,
    #[error("the proxy's NTLM challenge is not an NTLM message")]
    NotNtlm,
    #[error("the proxy's NTLM answer is not a challenge message")]
    NotChallenge,
}

/// The `Proxy-Authorization` value that opens the handshake: `NTLM <Type 1>`.
pub fn negotiate() -> Result<String, NtlmError> {
    let message = Message::Negotiate(NegotiateMessage {
        flags: flags(),
        supplied_domain: String::new(),
        supplied_workstation: String::new(),
        os_version: Default::default(),
    });
    let bytes = message.to_bytes().map_err(|error| NtlmError::Build {
        message: "negotiate",
        error,
    })?;
    Ok(format!("NTLM {}", encode(&bytes)))
}

/// What the answer needs from a CHALLENGE_MESSAGE (MS-NLMP 2.2.1.2).
struct Challenge {
    flags: Flags,
    server_challenge: [u8; 8],
    /// The AV pairs, verbatim; empty when the proxy sent none.
    target_info: Vec<u8>,
}

/// Reads the signature, type, flags and server challenge (the first 32 bytes every version
/// of the message has), and the target info when the flags announce it and its fields point
/// into the payload. Squid's helper, for one, echoes the client's flags without sending target
/// info fields: out-of-place ones are taken as absent (the NTLMv2 blob then carries none).
fn read_challenge(m: &[u8]) -> Result<Challenge, NtlmError> {
    if m.len() < 32 || &m[..8] != b"NTLMSSP\0" {
        return Err(NtlmError::NotNtlm);
    }
    let u32_at = |at: usize| u32::from_le_bytes([m[at], m[at + 1], m[at + 2], m[at + 3]]);
    if u32_at(8) != 2 {
        return Err(NtlmError::NotChallenge);
    }
    let flags = Flags::from_bits_truncate(u32_at(20));
    let mut server_challenge = [0u8; 8];
    server_challenge.copy_from_slice(&m[24..32]);
    let mut target_info = Vec::new();
    if flags.contains(Flags::NEGOTIATE_TARGET_INFO) && m.len() >= 48 {
        let len = usize::from(u16::from_le_bytes([m[40], m[41]]));
        let offset = u32_at(44) as usize;
        if offset >= 48 {
            if let Some(pairs) = offset.checked_add(len).and_then(|end| m.get(offset..end)) {
                target_info = pairs.to_vec();
            }
        }
    }
    Ok(Challenge {
        flags,
        server_challenge,
        target_info,
    })
}

/// The MsvAvTimestamp (AV id 7) of the target info, if any.
fn av_timestamp(mut pairs: &[u8]) -> Option<i64> {
    while pairs.len() >= 4 {
        let id = u16::from_le_bytes([pairs[0], pairs[1]]);
        let len = usize::from(u16::from_le_bytes([pairs[2], pairs[3]]));
        let value = pairs.get(4..4 + len)?;
        match id {
            0 => return None,
            7 => return value.try_into().ok().map(i64::from_le_bytes),
            _ => pairs = &pairs[4 + len..],
        }
    }
    None
}

/// The `Proxy-Authorization` value answering the proxy's challenge (`token68`, the base64 of its
/// Type 2 message) for `user` (`DOMAIN\user`, `user@domain` or a bare name) and `password`.
pub fn authenticate(challenge: &str, user: &str, password: &str) -> Result<String, NtlmError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(challenge)
        .map_err(|_| NtlmError::NotBase64)?;
    let challenge = read_challenge(&bytes)?;
    let (domain, user) = split_user(user);
    let credentials = ntlmclient::Credentials {
        username: user.to_string(),
        password: password.to_string(),
        domain: domain.to_string(),
    };
    // MS-NLMP 3.1.5.1.2: with the server's MsvAvTimestamp, use its time and send Z(24) as the
    // LM response.
    let server_time = av_timestamp(&challenge.target_info);
    let mut response = ntlmclient::respond_challenge_ntlm_v2(
        challenge.server_challenge,
        &challenge.target_info,
        server_time.unwrap_or_else(filetime_now),
        &credentials,
    );
    if server_time.is_some() {
        response.lm_response = vec![0; 24];
    }
    // No key exchange was negotiated: the session key field stays empty (MS-NLMP 2.2.1.3).
    response.session_key = Vec::new();
    // Strings in the character set the proxy chose.
    let mut answer_flags = flags() - Flags::NEGOTIATE_UNICODE - Flags::NEGOTIATE_OEM;
    answer_flags |= if challenge.flags.contains(Flags::NEGOTIATE_UNICODE) {
        Flags::NEGOTIATE_UNICODE
    } else {
        Flags::NEGOTIATE_OEM
    };
    let message = response.to_message(&credentials, "", answer_flags);
    let bytes = message.to_bytes().map_err(|error| NtlmError::Build {
        message: "authenticate",
        error,
    })?;
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

    /// What Squid's ntlm_fake_auth really sends: 49 bytes, OEM, no target info, no version,
    /// a target-name offset pointing nowhere.
    #[test]
    fn squids_short_challenge_is_answered_in_oem() {
        let squid = "TlRMTVNTUAACAAAACQAJAK6qqqoGgggAa/t4ncAj66IAAAAAAAA6AFdPUktHUk9VUA==";
        let m = decode(&authenticate(squid, r"LAB\agent", "p").unwrap());
        let flags = Flags::from_bits_truncate(u32::from_le_bytes(m[60..64].try_into().unwrap()));
        assert!(flags.contains(Flags::NEGOTIATE_OEM) && !flags.contains(Flags::NEGOTIATE_UNICODE));
        assert_eq!((field(&m, 28), field(&m, 36)), (&b"LAB"[..], &b"agent"[..]));
        // NTProofStr + blob header (28) + no AV pairs + Z(4).
        assert_eq!(field(&m, 20).len(), 16 + 28 + 4);
    }

    #[test]
    fn target_info_out_of_place_is_taken_as_absent() {
        let full = decode(&format!("NTLM {}", challenge(None).0));
        let mut wild = full.clone();
        wild[44..48].copy_from_slice(&u32::MAX.to_le_bytes());
        let mut overlapping = full.clone();
        overlapping[44..48].copy_from_slice(&8u32.to_le_bytes());
        for m in [&full[..60], &wild[..], &overlapping[..]] {
            let answer = decode(&authenticate(&encode(m), "u", "p").unwrap());
            assert_eq!(field(&answer, 20).len(), 16 + 28 + 4);
        }
    }

    #[test]
    fn user_names_split_into_domain_and_user() {
        assert_eq!(split_user(r"CORP\alice"), ("CORP", "alice"));
        assert_eq!(split_user("alice@corp.example"), ("", "alice@corp.example"));
        assert_eq!(split_user("alice"), ("", "alice"));
    }

    #[test]
    fn a_bad_challenge_is_an_error_not_a_panic() {
        let truncated = &decode(&format!("NTLM {}", challenge(None).0))[..31];
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
