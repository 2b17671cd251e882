//! Durations given on the command line in (possibly fractional) seconds.

use std::time::Duration;

/// The longest duration any option accepts: one day.
pub const MAX_SECONDS: f64 = 86_400.0;

/// Parses `"2"`, `"1.5"` or `"0.25"` seconds into a [`Duration`].
///
/// Zero, negative, non-finite and over-a-day values are refused with a message that says why.
pub fn parse_seconds(text: &str) -> Result<Duration, SecondsError> {
    let given = || text.to_string();
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| SecondsError::NotANumber(given()))?;
    if !value.is_finite() || value <= 0.0 {
        return Err(SecondsError::NotPositive(given()));
    }
    if value > MAX_SECONDS {
        return Err(SecondsError::OverADay(given()));
    }
    Ok(Duration::from_secs_f64(value))
}

/// Why a number of seconds was refused; each variant holds the text as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecondsError {
    #[error("`{0}` is not a number of seconds (e.g. 30 or 1.5)")]
    NotANumber(String),
    #[error("`{0}` must be a positive number of seconds")]
    NotPositive(String),
    #[error("`{0}` is more than a day ({MAX_SECONDS} s)")]
    OverADay(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_whole_and_fractional_seconds() {
        assert_eq!(parse_seconds("2").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_seconds("1.5").unwrap(), Duration::from_millis(1500));
    }

    #[test]
    fn refuses_nonsense() {
        for bad in ["", "x", "0", "-1", "NaN", "inf", "100000"] {
            assert!(parse_seconds(bad).is_err(), "{bad}");
        }
    }
}
