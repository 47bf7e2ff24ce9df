//! Load stage: durations written as `500ms`, `1s`, `2m`, `48h` or a number of seconds.
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A non-negative duration as written in a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DurationSpec(pub Duration);

impl DurationSpec {
    /// Parses `500ms`, `1.5s`, `2m`, `48h`, `1h 30m` or ISO-8601 `PT1S`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let trimmed = text.trim();
        if let Ok(secs) = trimmed.parse::<f64>() {
            return Duration::try_from_secs_f64(secs)
                .map(DurationSpec)
                .map_err(|_| format!("invalid duration `{text}`"));
        }
        let signed: jiff::SignedDuration = trimmed.parse().map_err(|_| {
            format!("invalid duration `{text}`: write it like `500ms`, `2s`, `5m` or `48h`")
        })?;
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
                DurationSpec::parse(&v.to_string()).map_err(E::custom)
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
            "description": "A duration: `500ms`, `2s`, `5m`, `48h`, or a number of seconds.",
            "oneOf": [
                { "type": "string", "pattern": "^\\s*[0-9]" },
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
}
