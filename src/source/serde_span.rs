//! Turning a `serde_yaml` error location into a [`Span`].

use super::file::split_lines;
use super::span::Span;
use super::token;

/// The span a `serde_yaml` error points at in `text`, if it has a location.
///
/// serde_yaml reports 1-based line and column (in characters) plus a byte
/// index; the line/column pair is used when it fits in `text`, the index
/// otherwise. The length is widened to the offending token where the
/// message says which: the identifier of ``unknown field `x` `` and
/// ``unknown variant `x` `` errors (quotes included if quoted), or the
/// scalar at the position for `invalid type`/`invalid value`/`invalid
/// length`/`duplicate entry` errors. Otherwise the span is one character.
pub fn span_of_serde_yaml_error(err: &serde_yaml::Error, text: &str) -> Option<Span> {
    let loc = err.location()?;
    let (line, col0) = resolve(text, loc.line(), loc.column(), loc.index());
    let line_text = split_lines(text).nth(line - 1).unwrap_or("");
    let before: Vec<char> = line_text.chars().take(col0).collect();
    let rest: Vec<char> = line_text.chars().skip(col0).collect();
    let message = err.to_string();
    let len = if let Some(name) = ["unknown field `", "unknown variant `"]
        .iter()
        .find_map(|marker| backticked_after(&message, marker))
    {
        identifier_len(&rest, name).unwrap_or_else(|| token::guess_len(&rest, in_flow(&before)))
    } else if [
        "invalid type",
        "invalid value",
        "invalid length",
        "duplicate entry",
    ]
    .iter()
    .any(|m| message.contains(m))
    {
        token::guess_len(&rest, in_flow(&before))
    } else {
        1
    };
    Some(Span::new(line, col0 + 1, len))
}

/// Finds a (1-based line, 0-based column) in `text` for a serde_yaml location.
fn resolve(text: &str, line: usize, column: usize, index: usize) -> (usize, usize) {
    let col0 = column.saturating_sub(1);
    let fits = line >= 1
        && split_lines(text)
            .nth(line - 1)
            .is_some_and(|l| col0 <= l.chars().count());
    if fits {
        return (line, col0);
    }
    if let Some(prefix) = text.get(..index) {
        let last = split_lines(prefix).enumerate().last();
        if let Some((i, l)) = last {
            return (i + 1, l.chars().count());
        }
    }
    (line.max(1), col0)
}

/// The text between backticks right after `marker` in `message`.
fn backticked_after<'m>(message: &'m str, marker: &str) -> Option<&'m str> {
    let start = message.find(marker)? + marker.len();
    let tail = &message[start..];
    let end = tail.find('`')?;
    Some(&tail[..end])
}

/// The length of `name` at the start of `rest`, plain or quoted.
fn identifier_len(rest: &[char], name: &str) -> Option<usize> {
    let name: Vec<char> = name.chars().collect();
    if name.is_empty() {
        return None;
    }
    if rest.starts_with(&name) {
        return Some(name.len());
    }
    let quote = *rest.first().filter(|c| matches!(c, '"' | '\''))?;
    let inner = rest.get(1..=name.len())?;
    (inner == name.as_slice() && rest.get(name.len() + 1) == Some(&quote)).then_some(name.len() + 2)
}

/// Whether a line prefix leaves a flow collection open.
fn in_flow(before: &[char]) -> bool {
    let opened = before.iter().filter(|c| matches!(c, '[' | '{')).count();
    let closed = before.iter().filter(|c| matches!(c, ']' | '}')).count();
    opened > closed
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Http {
        method: String,
        #[serde(default)]
        path: String,
        #[serde(default)]
        retries: u32,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Step {
        name: String,
        http: Http,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Scenario {
        steps: Vec<Step>,
    }

    fn span_for<T: serde::de::DeserializeOwned + std::fmt::Debug>(text: &str) -> Span {
        let err = serde_yaml::from_str::<T>(text).unwrap_err();
        span_of_serde_yaml_error(&err, text).unwrap()
    }

    #[test]
    fn unknown_field_points_at_key() {
        let text = "steps:\n  - name: a\n    http:\n      methd: GET\n";
        assert_eq!(span_for::<Scenario>(text), Span::new(4, 7, 5));
    }

    #[test]
    fn unknown_field_quoted_key_and_cyrillic() {
        let text = "steps:\n  - name: имя\n    http: {method: GET, \"метод\": x}\n";
        assert_eq!(span_for::<Scenario>(text), Span::new(3, 25, 7));
    }

    #[test]
    fn unknown_field_crlf_and_tabs() {
        let text = "steps:\r\n  - name: a\r\n    http:\r\n      method: GET\r\n      bogus:\t1\r\n";
        assert_eq!(span_for::<Scenario>(text), Span::new(5, 7, 5));
    }

    #[test]
    fn invalid_type_widens_to_scalar() {
        let text = "steps:\n  - name: a\n    http:\n      method: GET\n      retries: many # c\n";
        assert_eq!(span_for::<Scenario>(text), Span::new(5, 16, 4));
    }

    #[test]
    fn missing_field_is_a_point() {
        let text = "steps:\n  - name: a\n    http:\n      path: /x\n";
        let span = span_for::<Scenario>(text);
        assert_eq!(span.len, 1);
        assert!(span.line >= 3, "{span:?}");
    }

    #[test]
    fn syntax_error_has_location() {
        let text = "a: [1, 2\nb: 3\n";
        let span = span_for::<BTreeMap<String, serde_yaml::Value>>(text);
        assert!(span.line >= 1 && span.len == 1, "{span:?}");
    }

    #[test]
    fn resolve_falls_back_to_index() {
        assert_eq!(resolve("ab\ncd", 9, 9, 4), (2, 1));
        assert_eq!(resolve("ab\ncd", 2, 2, 99), (2, 1));
        assert_eq!(resolve("", 5, 5, 0), (1, 0));
        assert_eq!(resolve("жж", 7, 1, 1), (7, 0));
    }

    #[test]
    fn helpers() {
        assert_eq!(
            backticked_after("unknown field `x`, expected", "unknown field `"),
            Some("x")
        );
        assert_eq!(
            backticked_after("unknown field `x", "unknown field `"),
            None
        );
        let c = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(identifier_len(&c("'ab': 1"), "ab"), Some(4));
        assert_eq!(identifier_len(&c("'ab: 1"), "ab"), None);
        assert_eq!(identifier_len(&c("x"), ""), None);
        assert!(in_flow(&c("a: {b: 1, ")));
        assert!(!in_flow(&c("a: [1] ")));
    }
}
