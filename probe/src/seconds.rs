//! Spans of time the result document writes in seconds: one type for all of them, so a time is
//! never a bare number, two of them compare exactly (no `1e-9` slack), the document keeps its
//! numbers (seconds as a JSON number), and people read them one way ("1.5", "240").

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::ops::{Add, Sub};
use std::time::Duration;

/// A span of time, to the nanosecond, written as a number of seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Seconds(Duration);

impl Seconds {
    pub const ZERO: Seconds = Seconds(Duration::ZERO);

    /// Whole seconds.
    pub const fn new(secs: u64) -> Seconds {
        Seconds(Duration::from_secs(secs))
    }

    /// Milliseconds.
    pub const fn from_millis(ms: u64) -> Seconds {
        Seconds(Duration::from_millis(ms))
    }

    /// `secs` seconds, to the nearest nanosecond; a negative or not-a-number value is zero and
    /// one too large for a `Duration` is its maximum.
    pub fn from_f64(secs: f64) -> Seconds {
        if secs.is_nan() || secs <= 0.0 {
            return Seconds::ZERO;
        }
        let nanos = (secs * 1e9).round();
        if nanos >= u64::MAX as f64 {
            return Seconds(Duration::MAX);
        }
        Seconds(Duration::from_nanos(nanos as u64))
    }

    /// `d` to the nearest millisecond, as the document reports measured times.
    pub fn rounded_to_ms(d: Duration) -> Seconds {
        let ms = (d.as_nanos() + 500_000) / 1_000_000;
        Seconds(Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX)))
    }

    /// The number of seconds (the one correctly rounded `f64`).
    pub fn as_f64(self) -> f64 {
        match u64::try_from(self.0.as_nanos()) {
            Ok(n) if n < (1 << 53) => n as f64 / 1e9,
            _ => self.0.as_secs_f64(),
        }
    }

    pub const fn duration(self) -> Duration {
        self.0
    }

    /// `self` less `other`, or zero.
    pub fn saturating_sub(self, other: Seconds) -> Seconds {
        Seconds(self.0.saturating_sub(other.0))
    }
}

impl From<Duration> for Seconds {
    fn from(d: Duration) -> Seconds {
        Seconds(d)
    }
}

impl From<Seconds> for Duration {
    fn from(s: Seconds) -> Duration {
        s.0
    }
}

impl Add for Seconds {
    type Output = Seconds;
    fn add(self, other: Seconds) -> Seconds {
        Seconds(self.0.saturating_add(other.0))
    }
}

impl Sub for Seconds {
    type Output = Seconds;
    /// Saturates at zero.
    fn sub(self, other: Seconds) -> Seconds {
        self.saturating_sub(other)
    }
}

/// The seconds for people: whole seconds without a needless `.0`, others to a tenth ("1.5",
/// "240"); the unit is the sentence's.
impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.as_f64();
        if (v - v.round()).abs() < 1e-9 {
            write!(f, "{}", v.round() as i64)
        } else {
            write!(f, "{v:.1}")
        }
    }
}

impl Serialize for Seconds {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_f64())
    }
}

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Seconds, D::Error> {
        let v = f64::deserialize(d)?;
        if !v.is_finite() || v < 0.0 {
            return Err(serde::de::Error::custom(format!(
                "{v} is not a number of seconds"
            )));
        }
        Ok(Seconds::from_f64(v))
    }
}

/// `s` for people (see [`Seconds`]'s `Display`).
pub fn fmt_s(s: Seconds) -> String {
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_seconds_as_the_document_did() {
        for v in [0.0, 0.001, 1.5, 12.345, 179.999, 240.0, 3599.5] {
            let s = Seconds::from_f64(v);
            assert_eq!(s.as_f64(), v);
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, serde_json::to_string(&v).unwrap());
            assert_eq!(serde_json::from_str::<Seconds>(&json).unwrap(), s);
        }
        assert!(serde_json::from_str::<Seconds>("-1").is_err());
    }

    #[test]
    fn rounds_measured_times_to_the_millisecond() {
        let d = Duration::from_micros(12_345_678);
        assert_eq!(Seconds::rounded_to_ms(d).as_f64(), 12.346);
        assert_eq!(
            Seconds::rounded_to_ms(d).as_f64(),
            (d.as_secs_f64() * 1000.0).round() / 1000.0
        );
    }

    #[test]
    fn reads_for_people() {
        assert_eq!(Seconds::new(240).to_string(), "240");
        assert_eq!(Seconds::from_millis(1500).to_string(), "1.5");
        assert_eq!(Seconds::from_f64(2.9999999999).to_string(), "3");
        assert_eq!(
            Seconds::from_millis(1250).to_string(),
            format!("{:.1}", 1.25)
        );
    }
}
