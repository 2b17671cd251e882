//! Text files as Windows tools write them: UTF-16LE with a byte-order mark (`reg export`,
//! PowerShell 5's `Out-File`, Event Viewer's text export), UTF-16BE, or UTF-8 with or without a
//! mark. Undecodable bytes become U+FFFD: these files are read for names, never rewritten.

/// Decodes `bytes` by their byte-order mark; without one, as UTF-16LE when every other byte of
/// the start is zero (ASCII text in UTF-16), else as UTF-8.
pub fn decode(bytes: &[u8]) -> String {
    match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8_lossy(rest).into_owned(),
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes),
        _ if looks_like_utf16le(bytes) => utf16(bytes, u16::from_le_bytes),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// `bytes` read as UTF-16LE from `offset` (0 or 1), whatever they hold: binary files such as
/// `.evtx` keep their strings in UTF-16LE at either alignment.
pub fn utf16le_at(bytes: &[u8], offset: usize) -> String {
    utf16(bytes.get(offset..).unwrap_or_default(), u16::from_le_bytes)
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> String {
    let units = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

fn looks_like_utf16le(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(64)];
    head.len() >= 4 && head.iter().skip(1).step_by(2).all(|&b| b == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le(s: &str, bom: bool) -> Vec<u8> {
        let units = s.encode_utf16().flat_map(u16::to_le_bytes);
        let mark: &[u8] = if bom { &[0xFF, 0xFE] } else { &[] };
        mark.iter().copied().chain(units).collect()
    }

    #[test]
    fn every_encoding_windows_writes() {
        let text = "Log Name: Application\r\nSource: PasswordResetService";
        assert_eq!(decode(text.as_bytes()), text);
        assert_eq!(decode(&[b"\xEF\xBB\xBF", text.as_bytes()].concat()), text);
        assert_eq!(decode(&le(text, true)), text);
        assert_eq!(decode(&le(text, false)), text);
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(decode(&be), text);
    }

    #[test]
    fn utf16_inside_binary_at_either_alignment() {
        let mut bytes = vec![0x01, 0x02, 0x03];
        bytes.extend(le("relay", false));
        assert!(utf16le_at(&bytes, 1).contains("relay"));
        assert!(!utf16le_at(&bytes, 0).contains("relay"));
        assert_eq!(utf16le_at(&[], 1), "");
        assert_eq!(decode(&[0xFF, 0xFE, 0x00, 0xD8]), "\u{FFFD}");
    }
}
