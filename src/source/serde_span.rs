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
