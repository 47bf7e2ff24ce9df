//! Query-string decoding and encoding (`application/x-www-form-urlencoded` rules).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// Everything except RFC 3986 unreserved characters is escaped.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn decode(raw: &str) -> String {
    percent_decode_str(&raw.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// Splits a raw query string into decoded `(name, value)` pairs, in order.
/// `+` means a space; invalid UTF-8 is replaced rather than rejected.
pub(crate) fn decode_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|part| !part.is_empty())
        .map(|part| match part.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(part), String::new()),
        })
        .collect()
}

/// Percent-encodes one query component (`+`, `:` and `"` included).
pub(crate) fn encode_component(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

/// Joins `(name, value)` pairs into an encoded query string (without the `?`).
pub(crate) fn encode_pairs(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_json_with_offsets() {
        let value =
            r#"[{"column":"payed_at","operator":">=","value":"2025-11-05T16:46:54+03:00"}]"#;
        let pairs = vec![
            ("where".to_owned(), value.to_owned()),
            ("page".to_owned(), "2".to_owned()),
        ];
        let encoded = encode_pairs(&pairs);
        assert!(encoded.contains("%2B03%3A00"));
        assert_eq!(decode_query(&encoded), pairs);
    }

    #[test]
    fn plus_is_space_and_bare_keys_are_empty() {
        assert_eq!(
            decode_query("a=b+c&flag&&x=%D0%98"),
            vec![
                ("a".to_owned(), "b c".to_owned()),
                ("flag".to_owned(), String::new()),
                ("x".to_owned(), "И".to_owned()),
            ]
        );
    }
}
