//! Load stage: `limits:` — what bounds the memory and time a run may take, each with a
//! default a scenario can raise (or lower).
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Bounds on memory and time. Each has a default; write only the ones to change, e.g.
/// `limits: { body_in_memory: 32MiB, template_fuel: 50000000 }`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// A response body up to this size is held in memory. A larger one is streamed to a
    /// file in the run folder (`<step id>-<n>.body`, secrets masked): results.json and
    /// the report keep its start and the file's name, and checks that need all of it
    /// (JSONPath, `body`, captures) read it from that file. Default `8MiB`.
    #[serde(default = "default_body_in_memory")]
    pub body_in_memory: ByteSize,
    /// A response body is cut beyond this size, in memory or on disk (the file ends with
    /// a note saying so). Default `1GiB`.
    #[serde(default = "default_max_body")]
    pub max_body: ByteSize,
    /// How much of a program's output (`exec`, `docker`) is held in memory: the last
    /// lines up to this size, of stdout, stderr and both. Checks, captures and
    /// results.json see this tail; every line goes to the step's `log:` file as it comes.
    /// Default `1MiB`.
    #[serde(default = "default_output_tail")]
    pub output_tail: ByteSize,
    /// The work one template may do each time it is evaluated (minijinja's fuel: about
    /// one unit per instruction and per 64 bytes it makes). A template that uses it up
    /// fails with an error naming where it stands. Report templates are not bounded.
    /// Default `10000000` (a few seconds at most).
    #[serde(default = "default_template_fuel")]
    #[schemars(range(min = 1))]
    pub template_fuel: u64,
    /// A scenario file (or an included one) larger than this is refused before it is
    /// parsed. Default `16MiB`.
    #[serde(default = "default_max_scenario_size")]
    pub max_scenario_size: ByteSize,
    /// How deeply YAML collections (mappings, lists, `[`/`{` flow collections) may nest
    /// in a scenario file; deeper is refused before it is parsed, at the line and column
    /// where it gets too deep. Default `64`; at most `128` (the YAML reader's own limit).
    #[serde(default = "default_max_depth")]
    #[schemars(range(min = 1, max = 128))]
    pub max_depth: usize,
    /// How many items a page walk (`paginate.collect`) holds in memory. Beyond it the
    /// walk writes every item it collects, one JSON line each (secrets masked), to
    /// `<step id>.items.jsonl` in the run folder and holds none: `items:` checks and
    /// reconcile sides (`items: <step id>`) read them as they stream, and
    /// `steps.<id>.items` in a template is refused with a message naming the file.
    /// Default `10000` (an order of 130 bytes of JSON takes about 1.4 KB held: 10,000
    /// take some 15 MiB).
    #[serde(default = "default_items_in_memory")]
    pub items_in_memory: u64,
}

/// The deepest nesting `limits.max_depth` may allow.
pub const MAX_DEPTH_CEILING: usize = 128;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body_in_memory: default_body_in_memory(),
            max_body: default_max_body(),
            output_tail: default_output_tail(),
            template_fuel: default_template_fuel(),
            max_scenario_size: default_max_scenario_size(),
            max_depth: default_max_depth(),
            items_in_memory: default_items_in_memory(),
        }
    }
}

fn default_body_in_memory() -> ByteSize {
    ByteSize(8 << 20)
}
fn default_max_body() -> ByteSize {
    ByteSize(1 << 30)
}
fn default_output_tail() -> ByteSize {
    ByteSize(1 << 20)
}
fn default_template_fuel() -> u64 {
    10_000_000
}
fn default_max_scenario_size() -> ByteSize {
    ByteSize(16 << 20)
}
fn default_max_depth() -> usize {
    64
}
fn default_items_in_memory() -> u64 {
    10_000
}

/// A size in bytes, written as a number of bytes or with a unit: `512KiB`, `8MiB`,
/// `1GiB` (powers of 1024) or `500KB`, `8MB`, `1GB` (powers of 1000).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// Parses `8MiB`, `8 MiB`, `512KB`, `1048576`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let split = t
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(t.len());
        let (number, unit) = (t[..split].trim(), t[split..].trim());
        let factor: u64 = match unit.to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "k" | "kib" => 1 << 10,
            "m" | "mib" => 1 << 20,
            "g" | "gib" => 1 << 30,
            "kb" => 1_000,
            "mb" => 1_000_000,
            "gb" => 1_000_000_000,
            _ => {
                return Err(format!(
                    "invalid size `{text}`: write it like `512KiB`, `8MiB`, `1GiB` or a number of bytes"
                ));
            }
        };
        let value: f64 = number
            .parse()
            .map_err(|_| format!("invalid size `{text}`: write it like `8MiB`"))?;
        let bytes = value * factor as f64;
        if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 {
            return Err(format!("invalid size `{text}`"));
        }
        Ok(ByteSize(bytes as u64))
    }

    /// The size as a person reads it: `8MiB`, `1.5MiB`, `700B`.
    pub fn display(self) -> String {
        let units = [(1u64 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
        for (size, unit) in units {
            if self.0 >= size {
                let v = self.0 as f64 / size as f64;
                return if self.0 % size == 0 {
                    format!("{}{unit}", self.0 / size)
                } else {
                    format!("{v:.1}{unit}")
                };
            }
        }
        format!("{}B", self.0)
    }

    /// The size as `usize` (saturating).
    pub fn bytes(self) -> usize {
        usize::try_from(self.0).unwrap_or(usize::MAX)
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = ByteSize;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a size such as `8MiB`, `512KiB` or a number of bytes")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ByteSize, E> {
                Ok(ByteSize(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ByteSize, E> {
                u64::try_from(v)
                    .map(ByteSize)
                    .map_err(|_| E::custom("a size must not be negative"))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ByteSize, E> {
                ByteSize::parse(v).map_err(E::custom)
            }
        }
        de.deserialize_any(Visitor)
    }
}

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.display())
    }
}

impl JsonSchema for ByteSize {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ByteSize".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A size: a number of bytes, or `512KiB`, `8MiB`, `1GiB` (powers of 1024) or `500KB`, `8MB`, `1GB` (powers of 1000).",
            "oneOf": [
                { "type": "string", "pattern": "^\\s*[0-9]+(\\.[0-9]+)?\\s*([kKmMgG]i?[bB]?|[bB])?\\s*$" },
                { "type": "integer", "minimum": 0 }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_with_units() {
        assert_eq!(ByteSize::parse("8MiB").unwrap().0, 8 << 20);
        assert_eq!(ByteSize::parse("8 MiB").unwrap().0, 8 << 20);
        assert_eq!(ByteSize::parse("512KiB").unwrap().0, 512 << 10);
        assert_eq!(ByteSize::parse("1.5MiB").unwrap().0, 3 << 19);
        assert_eq!(ByteSize::parse("2MB").unwrap().0, 2_000_000);
        assert_eq!(ByteSize::parse("100").unwrap().0, 100);
        assert!(ByteSize::parse("8 parsecs").is_err());
        assert!(ByteSize::parse("MiB").is_err());
        assert_eq!(ByteSize(8 << 20).display(), "8MiB");
        assert_eq!(ByteSize(3 << 19).display(), "1.5MiB");
        assert_eq!(ByteSize(700).display(), "700B");
    }

    #[test]
    fn every_key_has_a_default() {
        let l: Limits = serde_yaml::from_str("{}").unwrap();
        assert_eq!(l, Limits::default());
        let l: Limits = serde_yaml::from_str("{body_in_memory: 1KiB, max_depth: 10}").unwrap();
        assert_eq!((l.body_in_memory.0, l.max_depth), (1024, 10));
        assert!(serde_yaml::from_str::<Limits>("{body_in_memry: 1KiB}").is_err());
    }
}
