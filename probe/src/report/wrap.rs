//! Wrapping report lines to the terminal's width, continuation lines hanging under the text
//! they continue. Off a terminal nothing is wrapped: files and pipes keep one line per fact, for
//! `grep`.

/// Below this many columns for the text, continuation lines hang at [`NARROW_INDENT`] instead
/// of under the text's column (a wide table on a narrow terminal).
const MIN_TEXT: usize = 30;
const NARROW_INDENT: usize = 4;

/// The width of the terminal on stdout; `None` when stdout is not a terminal.
pub fn stdout_width() -> Option<usize> {
    terminal_size::terminal_size_of(std::io::stdout()).map(|(w, _)| usize::from(w.0))
}

/// `prefix` then `text`, as one line without a width, else wrapped to `width` columns with
/// continuation lines indented by `prefix_cols` (the printed width of `prefix`, which may carry
/// colour). Words are never split, not even at hyphens (host names have them): a word longer
/// than the line overflows it. Every line ends with a newline.
pub fn hanging(prefix: &str, prefix_cols: usize, text: &str, width: Option<usize>) -> String {
    let Some(width) = width else {
        return format!("{prefix}{text}\n");
    };
    let indent = if width.saturating_sub(prefix_cols) >= MIN_TEXT {
        prefix_cols
    } else {
        NARROW_INDENT.min(prefix_cols)
    };
    let first = " ".repeat(prefix_cols);
    let rest = " ".repeat(indent);
    let options = textwrap::Options::new(width)
        .initial_indent(&first)
        .subsequent_indent(&rest)
        .break_words(false)
        .word_splitter(textwrap::WordSplitter::NoHyphenation);
    let lines = textwrap::wrap(text, options);
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        if i == 0 {
            out.push_str(prefix);
            out.push_str(line.get(prefix_cols..).unwrap_or_default());
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    if lines.is_empty() {
        out.push_str(prefix);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_lines_hang_under_the_text() {
        let text = "no answer for sspr-relay-scu.servicebus.windows.net within 10 s";
        let out = hanging("  dns  fail  ", 13, text, Some(50));
        assert_eq!(
            out,
            "  dns  fail  no answer for\n             sspr-relay-scu.servicebus.windows.net\n             within 10 s\n"
        );
    }

    #[test]
    fn no_width_no_wrapping_and_a_narrow_table_hangs_at_four() {
        let text = "a b c d e f g h i j k l m n o p q r s t u v w x y z";
        assert_eq!(hanging("> ", 2, text, None), format!("> {text}\n"));
        let out = hanging(&"x".repeat(20), 20, text, Some(40));
        assert!(
            out.lines()
                .skip(1)
                .all(|l| l.starts_with("    ") && !l.starts_with("     ")),
            "{out}"
        );
        assert!(out.lines().all(|l| l.chars().count() <= 40), "{out}");
    }

    #[test]
    fn colour_in_the_prefix_does_not_count() {
        let out = hanging("\u{1b}[1mab\u{1b}[0m ", 3, "one two three", Some(9));
        assert_eq!(out, "\u{1b}[1mab\u{1b}[0m one\n   two\n   three\n");
    }
}
