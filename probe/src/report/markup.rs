//! Escaping for the markup formats (JUnit XML, HTML, inline SVG): one place, so no format
//! forgets a character.

/// Text content: `&`, `<`, `>` escaped; characters XML 1.0 forbids are dropped.
pub fn text(s: &str) -> String {
    escape(s, false)
}

/// An attribute value in double quotes: also `"` and `'`, and line breaks as character
/// references so they survive attribute normalisation.
pub fn attr(s: &str) -> String {
    escape(s, true)
}

fn escape(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\'' if attribute => out.push_str("&#39;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\r' if attribute => out.push_str("&#13;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if allowed(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
    out
}

/// The XML 1.0 `Char` production (without the three whitespace controls handled above).
fn allowed(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_forbidden_characters() {
        assert_eq!(text("a<b>&c"), "a&lt;b&gt;&amp;c");
        assert_eq!(attr("\"x'\ny"), "&quot;x&#39;&#10;y");
        assert_eq!(text("bell\u{7}"), "bell\u{FFFD}");
        let doc = format!("<a b=\"{}\">{}</a>", attr("<\"&\n"), text("]]>&\u{0}"));
        let parsed = roxmltree::Document::parse(&doc).expect("well-formed");
        assert_eq!(parsed.root_element().attribute("b"), Some("<\"&\n"));
    }
}
