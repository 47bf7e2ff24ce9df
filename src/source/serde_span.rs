//! Load stage (source): where a `serde_yaml` error points — its own `location()` — with
//! the caret as wide as the token the source map holds there.

use super::file::split_lines;
use super::map::SourceMap;
use super::span::Span;

/// The span a `serde_yaml` error points at in `text`, if it has a location.
///
/// serde_yaml reports a 1-based line and column (in characters) plus a byte index; the
/// line/column pair is used when it fits in `text`, else the end of the text. The width
/// is that of the key or value token of `map` starting there (a key rather than the
/// mapping it opens), else one character.
pub fn span_of_serde_yaml_error(
    err: &serde_yaml::Error,
    text: &str,
    map: &SourceMap,
) -> Option<Span> {
    let loc = err.location()?;
    let (line, col) = (loc.line().max(1), loc.column().max(1));
    let fits = split_lines(text)
        .nth(line - 1)
        .is_some_and(|l| col <= l.chars().count() + 1);
    if !fits {
        let (i, last) = split_lines(text).enumerate().last()?;
        return Some(Span::point(i + 1, last.chars().count() + 1));
    }
    let len = map.token_at(line, col).map_or(1, |s| s.len);
    Some(Span::new(line, col, len))
}

/// The unknown field and the expected ones of an ``unknown field `x`, expected …`` error
/// (serde gives them only in its message).
pub fn unknown_field(message: &str) -> Option<(&str, Vec<&str>)> {
    let rest = message.split_once("unknown field `")?.1;
    let (name, rest) = rest.split_once('`')?;
    let expected = rest.split_once(", expected ")?.1;
    let expected = expected.strip_prefix("one of ").unwrap_or(expected);
    let expected = expected.split(" at line ").next().unwrap_or(expected);
    Some((
        name,
        expected.split(", ").map(|s| s.trim_matches('`')).collect(),
    ))
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
        let map = SourceMap::build(text).unwrap_or_default();
        span_of_serde_yaml_error(&err, text, &map).unwrap()
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
        assert!(span.line >= 3, "{span:?}");
    }

    #[test]
    fn syntax_error_has_location() {
        let text = "a: [1, 2\nb: 3\n";
        let span = span_for::<BTreeMap<String, serde_yaml::Value>>(text);
        assert!(span.line >= 1 && span.len == 1, "{span:?}");
    }

    #[test]
    fn unknown_field_message() {
        let m = "steps[0].http: unknown field `methd`, expected one of `method`, `path` at line 4 column 7";
        assert_eq!(unknown_field(m), Some(("methd", vec!["method", "path"])));
        let m = "unknown field `x`, expected `y`";
        assert_eq!(unknown_field(m), Some(("x", vec!["y"])));
        assert_eq!(unknown_field("invalid type: map"), None);
    }
}
