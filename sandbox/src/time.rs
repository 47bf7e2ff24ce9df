//! Datetime helpers: Moscow rendering and the classification of filter values by offset shape.

use std::sync::LazyLock;

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::{self, TimeZone};

/// Europe/Moscow (UTC+3 without DST since 2014), from the database compiled into the
/// binary; a fixed +03:00 if it lacks the zone.
static MOSCOW: LazyLock<TimeZone> = LazyLock::new(|| {
    jiff::tz::TimeZoneDatabase::bundled()
        .get("Europe/Moscow")
        .unwrap_or_else(|_| TimeZone::fixed(tz::offset(3)))
});

/// The time zone the sandbox renders timestamps in.
pub(crate) fn moscow() -> TimeZone {
    MOSCOW.clone()
}

/// Renders an instant the way QTickets does: `2025-11-05T16:46:54+03:00`.
pub(crate) fn render(ts: Timestamp) -> String {
    ts.to_zoned_datetime(moscow())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// Renders whole Unix seconds like [`render`] (an out-of-range value renders empty).
pub(crate) fn render_secs(secs: i64) -> String {
    Timestamp::from_second(secs).map(render).unwrap_or_default()
}

/// What kind of offset a datetime-looking string carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateTimeShape {
    /// RFC 3339: a colon offset (`+03:00`) or `Z`.
    Rfc3339,
    /// A compact offset: `+0300` or `+03`.
    CompactOffset,
    /// No offset at all: `2025-11-05T16:46:54`.
    NoOffset,
}

fn digits(b: &[u8], from: usize, count: usize) -> bool {
    b.get(from..from + count)
        .is_some_and(|s| s.iter().all(u8::is_ascii_digit))
}

/// Classifies `s` if it looks like `YYYY-MM-DD[T ]HH:MM[:SS[.fff]][offset]`.
pub(crate) fn shape(s: &str) -> Option<DateTimeShape> {
    let b = s.as_bytes();
    let date_ok = digits(b, 0, 4)
        && b.get(4) == Some(&b'-')
        && digits(b, 5, 2)
        && b.get(7) == Some(&b'-')
        && digits(b, 8, 2);
    let time_ok = matches!(b.get(10), Some(b'T' | b't' | b' '))
        && digits(b, 11, 2)
        && b.get(13) == Some(&b':')
        && digits(b, 14, 2);
    if !(date_ok && time_ok) {
        return None;
    }
    let mut i = 16;
    if b.get(i) == Some(&b':') && digits(b, i + 1, 2) {
        i += 3;
    }
    if matches!(b.get(i), Some(b'.' | b',')) {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    let rest = b.get(i..)?;
    match rest {
        [] => Some(DateTimeShape::NoOffset),
        [b'Z' | b'z'] => Some(DateTimeShape::Rfc3339),
        [b'+' | b'-', h1, h2, b':', m1, m2]
            if [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()) =>
        {
            Some(DateTimeShape::Rfc3339)
        }
        [b'+' | b'-', rest @ ..]
            if (rest.len() == 4 || rest.len() == 2) && rest.iter().all(u8::is_ascii_digit) =>
        {
            Some(DateTimeShape::CompactOffset)
        }
        _ => None,
    }
}

/// Parses `s` as an instant only if it is RFC 3339 (colon offset or `Z`).
pub(crate) fn parse_instant(s: &str) -> Option<Timestamp> {
    match shape(s)? {
        DateTimeShape::Rfc3339 => s.parse::<Timestamp>().ok(),
        _ => None,
    }
}

/// Parses any datetime shape: compact offsets are normalised and a missing offset
/// means Europe/Moscow.
pub(crate) fn parse_lenient(s: &str) -> Option<Timestamp> {
    match shape(s)? {
        DateTimeShape::Rfc3339 => s.parse::<Timestamp>().ok(),
        DateTimeShape::CompactOffset => {
            let sign_at = s.rfind(['+', '-'])?;
            let (head, offset) = s.split_at(sign_at);
            let normalised = if offset.len() == 5 {
                format!("{head}{}:{}", &offset[..3], &offset[3..])
            } else {
                format!("{head}{offset}:00")
            };
            normalised.parse::<Timestamp>().ok()
        }
        DateTimeShape::NoOffset => {
            let civil = s.replace(' ', "T").parse::<DateTime>().ok()?;
            civil
                .to_zoned_datetime(moscow())
                .ok()
                .map(|zdt| zdt.timestamp())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_offsets() {
        assert_eq!(
            shape("2025-11-05T16:46:54+03:00"),
            Some(DateTimeShape::Rfc3339)
        );
        assert_eq!(shape("2025-11-05T13:46:54Z"), Some(DateTimeShape::Rfc3339));
        assert_eq!(
            shape("2025-11-05 16:46:54.123-05:30"),
            Some(DateTimeShape::Rfc3339)
        );
        assert_eq!(
            shape("2025-11-05T16:46:54+0300"),
            Some(DateTimeShape::CompactOffset)
        );
        assert_eq!(
            shape("2025-11-05T16:46+03"),
            Some(DateTimeShape::CompactOffset)
        );
        assert_eq!(shape("2025-11-05T16:46:54"), Some(DateTimeShape::NoOffset));
        assert_eq!(shape("2025-11-05"), None);
        assert_eq!(shape("hello"), None);
        assert_eq!(shape("2025-11-05T16:46:54+03:00[Europe/Moscow]"), None);
    }

    #[test]
    fn parses_all_shapes_to_the_same_instant() {
        let expected = parse_instant("2025-11-05T13:46:54Z");
        assert!(expected.is_some());
        assert_eq!(parse_instant("2025-11-05T16:46:54+03:00"), expected);
        assert_eq!(parse_instant("2025-11-05T16:46:54+0300"), None);
        assert_eq!(parse_lenient("2025-11-05T16:46:54+0300"), expected);
        assert_eq!(parse_lenient("2025-11-05T16:46:54+03"), expected);
        assert_eq!(parse_lenient("2025-11-05T16:46:54"), expected);
        assert_eq!(parse_lenient("2025-11-05 16:46:54"), expected);
    }

    #[test]
    fn renders_moscow_with_colon_offset() {
        let ts = parse_instant("2025-11-05T13:46:54Z");
        assert_eq!(ts.map(render).as_deref(), Some("2025-11-05T16:46:54+03:00"));
        assert_eq!(render_secs(0), "1970-01-01T03:00:00+03:00");
    }
}
