//! Load stage: durations written as `500ms`, `1s`, `2m`, `48h` or a number of seconds.
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A non-negative duration as written in a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DurationSpec(pub Duration);

/// What a duration written as text looks like, as a regular expression: the schema's
/// `pattern` and the first check [`DurationSpec::parse`] makes, so an editor and
/// `validate` accept the same strings. Three forms, blanks (spaces, tabs) around allowed:
/// - a number of seconds: `30`, `1.5`;
/// - units from hours down, each at most once and largest first, the number and the unit
///   optionally apart by a space and the parts by a space: `500ms`, `2s`, `5m`, `48h`,
///   `1h 30m`, `1h30m`, `2 hours`, `1.5s` (a fraction only in the last part); units `h`,
///   `hr`, `hrs`, `hour`, `hours`; `m`, `min`, `mins`, `minute`, `minutes`; `s`, `sec`,
///   `secs`, `second`, `seconds`; `ms`, `msec`, `msecs`, `millisecond`, `milliseconds`;
/// - ISO 8601 time durations: `PT30S`, `PT1H30M`, `PT0.5S` (either case).
///
/// Numbers have at most 9 digits before and 9 after the point, so every match parses.
pub static PATTERN: std::sync::LazyLock<String> = std::sync::LazyLock::new(build_pattern);

/// The integer part of a number.
const INT: &str = "[0-9]{1,9}";
/// A number with an optional fraction.
const DEC: &str = "[0-9]{1,9}(?:\\.[0-9]{1,9})?";

fn build_pattern() -> String {
    let friendly = [
        "(?:h|hrs?|hours?)",
        "(?:m|mins?|minutes?)",
        "(?:s|secs?|seconds?)",
        "(?:ms|msecs?|milliseconds?)",
    ];
    let iso = ["[Hh]", "[Mm]", "[Ss]"];
    // Parts in order, each optional, the last one present and the only one with a
    // fraction: one alternative per possible last part.
    let ordered = |units: &[&str], num_sep: &str, part_sep: &str| -> String {
        (0..units.len())
            .map(|last| {
                let mut alt: String = units[..last]
                    .iter()
                    .map(|u| format!("(?:{INT}{num_sep}{u}{part_sep})?"))
                    .collect();
                alt.push_str(&format!("{DEC}{num_sep}{}", units[last]));
                alt
            })
            .collect::<Vec<_>>()
            .join("|")
    };
    format!(
        "^[ \\t]*(?:{DEC}|{}|[Pp][Tt](?:{}))[ \\t]*$",
        ordered(&friendly, " ?", " ?"),
        ordered(&iso, "", "")
    )
}

static REGEX: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(&PATTERN).unwrap_or_else(|e| panic!("the duration pattern: {e}"))
});

impl DurationSpec {
    /// Parses `500ms`, `1.5s`, `2m`, `48h`, `1h 30m`, a number of seconds or ISO 8601
    /// `PT1S`: exactly the strings [`PATTERN`] matches.
    pub fn parse(text: &str) -> Result<Self, String> {
        if !REGEX.is_match(text) {
            return Err(format!(
                "invalid duration `{text}`: write it like `500ms`, `2s`, `5m`, `48h`, `1h 30m` or a number of seconds"
            ));
        }
        let trimmed = text.trim_matches([' ', '\t']);
        if let Ok(secs) = trimmed.parse::<f64>() {
            return Duration::try_from_secs_f64(secs)
                .map(DurationSpec)
                .map_err(|_| format!("invalid duration `{text}`"));
        }
        let signed: jiff::SignedDuration = trimmed
            .parse()
            .map_err(|e| format!("invalid duration `{text}`: {e}"))?;
        Duration::try_from(signed)
            .map(DurationSpec)
            .map_err(|_| format!("duration `{text}` must not be negative"))
    }
}

impl<'de> Deserialize<'de> for DurationSpec {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = DurationSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a duration such as `500ms`, `2s`, `5m` or a number of seconds")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<DurationSpec, E> {
                Ok(DurationSpec(Duration::from_secs(v)))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<DurationSpec, E> {
                u64::try_from(v)
                    .map(|s| DurationSpec(Duration::from_secs(s)))
                    .map_err(|_| E::custom("a duration must not be negative"))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<DurationSpec, E> {
                Duration::try_from_secs_f64(v)
                    .map(DurationSpec)
                    .map_err(|_| E::custom(format!("invalid duration `{v}`")))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<DurationSpec, E> {
                DurationSpec::parse(v).map_err(E::custom)
            }
        }
        de.deserialize_any(Visitor)
    }
}

impl Serialize for DurationSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{}ms", self.0.as_millis()))
    }
}

impl JsonSchema for DurationSpec {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A duration: `500ms`, `2s`, `5m`, `48h`, `1h 30m`, `PT30S`, or a number of seconds.",
            "oneOf": [
                { "type": "string", "pattern": PATTERN.as_str() },
                { "type": "number", "minimum": 0 }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_friendly_units() {
        assert_eq!(
            DurationSpec::parse("500ms").unwrap().0,
            Duration::from_millis(500)
        );
        assert_eq!(DurationSpec::parse("2s").unwrap().0, Duration::from_secs(2));
        assert_eq!(
            DurationSpec::parse("48h").unwrap().0,
            Duration::from_secs(48 * 3600)
        );
        assert_eq!(
            DurationSpec::parse("1.5").unwrap().0,
            Duration::from_millis(1500)
        );
    }

    #[test]
    fn rejects_garbage_and_negative() {
        assert!(DurationSpec::parse("soon").is_err());
        assert!(DurationSpec::parse("-5s").is_err());
    }

    /// The schema's pattern and the parser agree: what one takes the other takes.
    #[test]
    #[allow(clippy::needless_range_loop)]
    fn the_pattern_and_the_parser_agree() {
        let re = regex::Regex::new(&PATTERN).unwrap();
        let valid = [
            "500ms",
            "2s",
            "5m",
            "48h",
            "30",
            "1.5",
            " 2s ",
            "\t10s",
            "1h 30m",
            "1h30m",
            "2 hours",
            "1 hour",
            "3 mins",
            "1 minute",
            "10 secs",
            "1 second",
            "250 msec",
            "2 milliseconds",
            "1h 30m 15s",
            "1m 0.5s",
            "1.5s",
            "0.25ms",
            "1.5h",
            "PT30S",
            "pt1h30m",
            "PT0.5S",
            "PT1H",
            "PT1.5H",
            "PT1H1.5M",
            "1.5m",
            "0",
            "0s",
            "999999999h",
        ];
        let invalid = [
            "5 parsecs",
            "soon",
            "",
            " ",
            "-5s",
            "+5s",
            "5s ago",
            "1e3",
            "inf",
            "NaN",
            ".5",
            "5.",
            "1.5h 30m",
            "30m 1h",
            "1h 1h",
            "5  s",
            "5s  3ms",
            "1h, 30m",
            "P1D",
            "PT",
            "2d",
            "1w",
            "5 S",
            "01:30:00",
            "1000000000s",
            "1.1234567891s",
            "5sec s",
            "s",
            "\n5s",
            "5s\n",
            "5 μs",
            "3ns",
        ];
        for text in valid {
            assert!(re.is_match(text), "the pattern rejects `{text}`");
            assert!(
                DurationSpec::parse(text).is_ok(),
                "the parser rejects `{text}`"
            );
        }
        for text in invalid {
            assert!(!re.is_match(text), "the pattern takes `{text}`");
            assert!(
                DurationSpec::parse(text).is_err(),
                "the parser takes `{text}`"
            );
        }
        // Every combination of units, spellings and separators the pattern takes parses.
        let spellings: [&[&str]; 4] = [
            &["h", "hr", "hrs", "hour", "hours"],
            &["m", "min", "mins", "minute", "minutes"],
            &["s", "sec", "secs", "second", "seconds"],
            &["ms", "msec", "msecs", "millisecond", "milliseconds"],
        ];
        let mut checked = 0;
        for mask in 1u32..16 {
            for spelling in 0..5 {
                for (num_sep, part_sep) in [("", ""), (" ", " "), ("", " "), (" ", "")] {
                    let units: Vec<&str> = (0..4)
                        .filter(|i| mask & (1 << i) != 0)
                        .map(|i| spellings[i][spelling])
                        .collect();
                    for fraction in ["", ".5"] {
                        let text = units
                            .iter()
                            .enumerate()
                            .map(|(i, u)| {
                                let f = if i + 1 == units.len() { fraction } else { "" };
                                format!("{}{f}{num_sep}{u}", i + 1)
                            })
                            .collect::<Vec<_>>()
                            .join(part_sep);
                        assert_eq!(
                            re.is_match(&text),
                            DurationSpec::parse(&text).is_ok(),
                            "`{text}`"
                        );
                        if re.is_match(&text) {
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(checked > 400, "{checked}");
        assert_eq!(
            DurationSpec::parse("1h 30m").unwrap().0,
            Duration::from_secs(5400)
        );
        assert_eq!(
            DurationSpec::parse("PT0.5S").unwrap().0,
            Duration::from_millis(500)
        );
    }
}
