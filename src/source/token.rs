//! Measuring how many characters a YAML token occupies on its first line.
//!
//! The YAML parsers report where a node starts but not where it ends; these
//! helpers look at the source line to find a sensible underline length. All
//! functions take `rest`, the characters of the line from the token start
//! on, and return at least 1.
use yaml_rust2::parser::Event;
use yaml_rust2::scanner::TScalarStyle;

/// Flow indicators that end an alias inside `[...]` or `{...}`.
const FLOW_INDICATORS: [char; 5] = [',', '[', ']', '{', '}'];

/// Length of a plain scalar whose parsed value is `value`: the longest
/// prefix of `rest` that matches the value (multi-line plain scalars are
/// folded, so only the first line matches).
pub(crate) fn plain_len(rest: &[char], value: &str) -> usize {
    rest.iter()
        .zip(value.chars())
        .take_while(|(a, b)| *a == b)
        .count()
        .max(1)
}

/// Length of a quoted scalar starting with `'` or `"`, closing quote
/// included; a scalar continuing on the next lines extends to the end of
/// this line.
pub(crate) fn quoted_len(rest: &[char]) -> usize {
    let Some(&quote) = rest.first() else {
        return 1;
    };
    let mut i = 1;
    while i < rest.len() {
        let c = rest[i];
        if quote == '"' && c == '\\' {
            i += 2;
            continue;
        }
        if c == quote {
            if quote == '\'' && rest.get(i + 1) == Some(&'\'') {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    trimmed_len(rest)
}

/// Length of an alias (`*name`) or anchor (`&name`) token.
pub(crate) fn alias_len(rest: &[char]) -> usize {
    1 + rest
        .iter()
        .skip(1)
        .take_while(|c| !c.is_whitespace() && !FLOW_INDICATORS.contains(c))
        .count()
}

/// Length of `rest` without trailing whitespace, at least 1.
pub(crate) fn trimmed_len(rest: &[char]) -> usize {
    rest.iter()
        .rposition(|c| !c.is_whitespace())
        .map_or(1, |i| i + 1)
}

/// An empty plain scalar: `key:` or `-` with nothing after it.
pub(crate) fn is_implicit_null(event: &Event) -> bool {
    matches!(event, Event::Scalar(v, TScalarStyle::Plain, ..) if v.is_empty())
}

/// A single- or double-quoted scalar.
pub(crate) fn is_quoted(style: TScalarStyle) -> bool {
    matches!(
        style,
        TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn plain() {
        assert_eq!(plain_len(&chars("GET  # c"), "GET"), 3);
        assert_eq!(plain_len(&chars("a b"), "a b c"), 3);
        assert_eq!(plain_len(&chars(""), ""), 1);
        assert_eq!(plain_len(&chars("Привет, мир"), "Привет, мир"), 11);
    }

    #[test]
    fn quoted() {
        assert_eq!(quoted_len(&chars(r#""a\"b" # x"#)), 6);
        assert_eq!(quoted_len(&chars("'it''s' x")), 7);
        assert_eq!(quoted_len(&chars("\"open  ")), 5);
        assert_eq!(quoted_len(&chars("\"\\")), 2);
        assert_eq!(quoted_len(&chars("")), 1);
    }

    #[test]
    fn others() {
        assert_eq!(alias_len(&chars("*base, x")), 5);
        assert_eq!(trimmed_len(&chars("   ")), 1);
        assert_eq!(trimmed_len(&chars("ab  ")), 2);
    }
}
