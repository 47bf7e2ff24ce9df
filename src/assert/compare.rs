//! Assert stage: comparing JSON values — numbers by value, RFC 3339 datetimes as instants.
use std::cmp::Ordering;

use serde_json::Value;

use crate::template::parse_instant;

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        // ClickHouse and friends send 64-bit integers as strings.
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
}

fn looks_like_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[7] == b'-'
}

fn integer(v: &Value) -> Option<i128> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from)),
        Value::String(s) => s.trim().parse::<i128>().ok(),
        _ => None,
    }
}

/// `parse_instant`, remembering the last few texts parsed — actual values (`side` 0)
/// apart from expected ones (1): an `all: {gte, lt}` over a million items parses its two
/// bounds once, and each item's value once, not four times.
fn instant(text: &str, side: usize) -> Option<jiff::Timestamp> {
    const SLOTS: usize = 4;
    const WIDTH: usize = 40;
    type Slot = (u8, [u8; WIDTH], Option<jiff::Timestamp>);
    thread_local! {
        static SEEN: std::cell::RefCell<[([Slot; SLOTS], usize); 2]> =
            const { std::cell::RefCell::new([([(u8::MAX, [0; WIDTH], None); SLOTS], 0); 2]) };
    }
    let bytes = text.as_bytes();
    if bytes.len() >= WIDTH {
        return parse_instant(text);
    }
    SEEN.with(|seen| {
        let mut seen = seen.borrow_mut();
        let (slots, next) = &mut seen[side];
        let hit = slots
            .iter()
            .find(|(len, b, _)| *len as usize == bytes.len() && &b[..bytes.len()] == bytes);
        if let Some((_, _, t)) = hit {
            return *t;
        }
        let t = parse_instant(text);
        let slot = &mut slots[*next];
        slot.0 = bytes.len() as u8;
        slot.1[..bytes.len()].copy_from_slice(bytes);
        slot.2 = t;
        *next = (*next + 1) % SLOTS;
        t
    })
}

/// Orders two values when they are comparable: both numbers (numeric strings count),
/// both datetimes with offsets (as instants), or both plain strings.
pub fn compare(actual: &Value, expected: &Value) -> Option<Ordering> {
    // Integers compare exactly, 64-bit ones sent as strings included.
    if let (Some(a), Some(b)) = (integer(actual), integer(expected)) {
        return Some(a.cmp(&b));
    }
    if let (Value::String(a), Value::String(b)) = (actual, expected) {
        match (instant(a, 0), instant(b, 1)) {
            (Some(a), Some(b)) => return Some(a.cmp(&b)),
            // A datetime without an offset (ClickHouse's `2025-11-05 16:46:54`) is not an
            // instant: comparing it as text with one would give a wrong answer.
            (Some(_), None) if looks_like_date(b) => return None,
            (None, Some(_)) if looks_like_date(a) => return None,
            _ => {}
        }
    }
    if matches!(actual, Value::Number(_)) || matches!(expected, Value::Number(_)) {
        if let (Some(a), Some(b)) = (number(actual), number(expected)) {
            return a.partial_cmp(&b);
        }
        return None;
    }
    match (actual, expected) {
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

/// Equality that forgives representation: `1234` equals `"1234"`, two datetimes at the
/// same instant are equal whatever their offsets.
pub fn loose_equals(actual: &Value, expected: &Value) -> bool {
    if actual == expected {
        return true;
    }
    match (actual, expected) {
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| loose_equals(x, y))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| loose_equals(v, w)))
        }
        (Value::Bool(_), _) | (_, Value::Bool(_)) | (Value::Null, _) | (_, Value::Null) => false,
        _ => compare(actual, expected) == Some(Ordering::Equal),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn datetimes_compare_as_instants_across_offsets() {
        let a = json!("2025-11-05T16:46:54+03:00");
        let b = json!("2025-11-05T13:46:54Z");
        assert!(loose_equals(&a, &b));
        assert_eq!(
            compare(&json!("2025-11-05T16:00:00+03:00"), &b),
            Some(Ordering::Less)
        );
    }

    #[test]
    fn a_datetime_without_offset_is_not_compared_with_an_instant() {
        assert_eq!(
            compare(
                &json!("2025-11-05 16:46:54"),
                &json!("2025-11-05T10:00:00+03:00")
            ),
            None
        );
        assert_eq!(
            compare(&json!("2025-11-05"), &json!("2025-11-04")),
            Some(Ordering::Greater)
        );
    }

    #[test]
    fn numbers_and_numeric_strings() {
        assert!(loose_equals(&json!(1234), &json!("1234")));
        assert_eq!(
            compare(&json!("18446744073709551615"), &json!(1)),
            Some(Ordering::Greater)
        );
        assert!(!loose_equals(&json!(true), &json!(1)));
        let max = json!("18446744073709551615");
        assert_eq!(
            compare(&max, &json!(18446744073709551614u64)),
            Some(Ordering::Greater)
        );
        assert!(!loose_equals(&max, &json!(18446744073709551614u64)));
        assert_eq!(compare(&json!({}), &json!(1)), None);
    }
}
