//! Load stage: assertions (subject + predicate) and captures as written.
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// One check. Name exactly one subject (`status`, `header`, `jsonpath`, `items`, `body`,
/// `expr`, `all_of`, `any_of`); then the predicate inline (`equals: 200`) or per element
/// with `all:`/`any:`/`none:`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssertionSpec {
    /// Describes the check in the report.
    #[serde(default)]
    pub name: Option<String>,
    /// A failure is recorded as a warning and does not fail the step.
    #[serde(default)]
    pub soft: bool,

    /// The HTTP status (`status: 200` or `status: {one_of: [200, 503]}`).
    #[serde(default)]
    pub status: Option<Predicate>,
    /// A response header, by name (case-insensitive).
    #[serde(default)]
    pub header: Option<String>,
    /// A JSONPath over the response JSON.
    #[serde(default)]
    pub jsonpath: Option<String>,
    /// A JSONPath over the items a paginated step collected (`$[*].payed_at`).
    #[serde(default)]
    pub items: Option<String>,
    /// The response body, or a program's combined output, as text
    /// (`body: {contains: "ok"}`).
    #[serde(default)]
    pub body: Option<Predicate>,
    /// A program's exit code (`exit_code: 0`).
    #[serde(default)]
    pub exit_code: Option<Predicate>,
    /// A file in the run folder (an artifact or log), as text; the predicate goes inline.
    #[serde(default)]
    pub file: Option<String>,
    /// A template expression that must be true, over `steps`, `vars`, `env`, `response`.
    #[serde(default)]
    pub expr: Option<String>,
    /// Every nested check must pass.
    #[serde(default)]
    pub all_of: Option<Vec<AssertionSpec>>,
    /// At least one nested check must pass.
    #[serde(default)]
    pub any_of: Option<Vec<AssertionSpec>>,

    /// Every selected value satisfies this predicate (false when nothing is selected
    /// unless `allow_empty`).
    #[serde(default)]
    pub all: Option<Predicate>,
    /// At least one selected value satisfies it.
    #[serde(default)]
    pub any: Option<Predicate>,
    /// No selected value satisfies it.
    #[serde(default)]
    pub none: Option<Predicate>,
    /// With `all`: an empty selection passes.
    #[serde(default)]
    pub allow_empty: bool,

    /// Equal (numbers by value, datetimes as instants).
    #[serde(default)]
    pub equals: Option<Value>,
    /// Not equal.
    #[serde(default)]
    pub not_equals: Option<Value>,
    /// Less than (numbers, or RFC 3339 datetimes compared as instants).
    #[serde(default)]
    pub lt: Option<Value>,
    /// Less than or equal.
    #[serde(default)]
    pub lte: Option<Value>,
    /// Greater than.
    #[serde(default)]
    pub gt: Option<Value>,
    /// Greater than or equal.
    #[serde(default)]
    pub gte: Option<Value>,
    /// Substring of a string, element of a list, or key of an object.
    #[serde(default)]
    pub contains: Option<Value>,
    /// The opposite of `contains`.
    #[serde(default)]
    pub not_contains: Option<Value>,
    /// A regular expression that the string matches.
    #[serde(default)]
    pub matches: Option<String>,
    /// A regular expression that the string does not match.
    #[serde(default)]
    pub not_matches: Option<String>,
    /// Whether the subject selects anything.
    #[serde(default)]
    pub exists: Option<bool>,
    /// A predicate on the length of a string, list or object.
    #[serde(default)]
    pub length: Option<Box<Predicate>>,
    /// A predicate on the number of lines of a text.
    #[serde(default)]
    pub lines: Option<Box<Predicate>>,
    /// `string`, `number`, `integer`, `boolean`, `array`, `object`, `null` or `datetime`.
    #[serde(default)]
    pub r#type: Option<String>,
    /// One of these values.
    #[serde(default)]
    pub one_of: Option<Vec<Value>>,
}

/// Which elements of a selection must satisfy a predicate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantifier {
    /// The selection as one value (the single value, or the list when several).
    Value,
    /// Every element.
    All,
    /// At least one element.
    Any,
    /// No element.
    None,
}

/// Conditions on one value; all that are set must hold. A bare scalar means `equals`.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Predicate {
    /// Equal (numbers by value, datetimes as instants).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<Value>,
    /// Not equal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_equals: Option<Value>,
    /// Less than.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lt: Option<Value>,
    /// Less than or equal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lte: Option<Value>,
    /// Greater than.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gt: Option<Value>,
    /// Greater than or equal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gte: Option<Value>,
    /// Substring, list element or object key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains: Option<Value>,
    /// Not a substring, list element or object key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_contains: Option<Value>,
    /// A regular expression the string matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matches: Option<String>,
    /// A regular expression the string does not match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_matches: Option<String>,
    /// Whether there is a value at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exists: Option<bool>,
    /// A predicate on the length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<Box<Predicate>>,
    /// A predicate on the number of lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lines: Option<Box<Predicate>>,
    /// The JSON type (or `datetime`, `integer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    /// One of these values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_of: Option<Vec<Value>>,
}

impl Predicate {
    /// The operators that take one operand, with theirs (set or not).
    pub fn operands(&self) -> [(&'static str, &Option<serde_json::Value>); 8] {
        [
            ("equals", &self.equals),
            ("not_equals", &self.not_equals),
            ("gt", &self.gt),
            ("gte", &self.gte),
            ("lt", &self.lt),
            ("lte", &self.lte),
            ("contains", &self.contains),
            ("not_contains", &self.not_contains),
        ]
    }
}

/// Conditions on one value; all that are set must hold.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "PredicateMap")]
struct PredicateFields {
    /// Equal to this value (numbers by value: `"1234"` equals `1234`; RFC 3339
    /// datetimes as instants, whatever their offsets).
    #[serde(default)]
    equals: Option<Value>,
    /// Not equal to this value (compared as `equals` does).
    #[serde(default)]
    not_equals: Option<Value>,
    /// Less than this number or datetime.
    #[serde(default)]
    lt: Option<Value>,
    /// Less than or equal to this number or datetime.
    #[serde(default)]
    lte: Option<Value>,
    /// Greater than this number or datetime.
    #[serde(default)]
    gt: Option<Value>,
    /// Greater than or equal to this number or datetime.
    #[serde(default)]
    gte: Option<Value>,
    /// Holds this: a substring of a string, an element of a list, a key of an object.
    #[serde(default)]
    contains: Option<Value>,
    /// Does not hold this (the opposite of `contains`).
    #[serde(default)]
    not_contains: Option<Value>,
    /// A regular expression the string matches (anywhere; anchor it with `^…$`).
    #[serde(default)]
    matches: Option<String>,
    /// A regular expression the string does not match.
    #[serde(default)]
    not_matches: Option<String>,
    /// `true`: the subject selects something; `false`: it selects nothing.
    #[serde(default)]
    exists: Option<bool>,
    /// A predicate on the length of a string (characters), list or object (keys):
    /// `length: {gte: 1}` or `length: 3`.
    #[serde(default)]
    length: Option<Box<Predicate>>,
    /// A predicate on the number of lines of a text: `lines: {lte: 100}`.
    #[serde(default)]
    lines: Option<Box<Predicate>>,
    /// The value's type: `string`, `number`, `integer`, `boolean`, `array`, `object`,
    /// `null` or `datetime` (an RFC 3339 string).
    #[serde(default)]
    r#type: Option<String>,
    /// Equal to one of these values (each compared as `equals` does).
    #[serde(default)]
    one_of: Option<Vec<Value>>,
}

impl From<PredicateFields> for Predicate {
    fn from(f: PredicateFields) -> Self {
        Predicate {
            equals: f.equals,
            not_equals: f.not_equals,
            lt: f.lt,
            lte: f.lte,
            gt: f.gt,
            gte: f.gte,
            contains: f.contains,
            not_contains: f.not_contains,
            matches: f.matches,
            not_matches: f.not_matches,
            exists: f.exists,
            length: f.length,
            lines: f.lines,
            r#type: f.r#type,
            one_of: f.one_of,
        }
    }
}

impl<'de> Deserialize<'de> for Predicate {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Predicate;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a value to compare with, or a mapping such as `{gte: 1, lt: 10}`")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Predicate, A::Error> {
                let de = serde::de::value::MapAccessDeserializer::new(map);
                PredicateFields::deserialize(de).map(Predicate::from)
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Predicate, E> {
                Ok(Predicate::equal_to(Value::Bool(v)))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Predicate, E> {
                Ok(Predicate::equal_to(Value::from(v)))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Predicate, E> {
                Ok(Predicate::equal_to(Value::from(v)))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Predicate, E> {
                Ok(Predicate::equal_to(Value::from(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Predicate, E> {
                Ok(Predicate::equal_to(Value::from(v)))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Predicate, E> {
                Ok(Predicate::equal_to(Value::Null))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, _: A) -> Result<Predicate, A::Error> {
                Err(serde::de::Error::custom(
                    "a list is not a predicate: write `one_of: [...]` or `equals: [...]`",
                ))
            }
        }
        de.deserialize_any(Visitor)
    }
}

impl JsonSchema for Predicate {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Predicate".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let fields = generator.subschema_for::<PredicateFields>();
        schemars::json_schema!({
            "description": "A value to compare with (`equals`), or a mapping of conditions.",
            "anyOf": [
                { "type": ["string", "number", "boolean", "null"] },
                fields
            ]
        })
    }
}

impl Predicate {
    /// `equals: value`.
    pub fn equal_to(value: Value) -> Self {
        Predicate {
            equals: Some(value),
            ..Predicate::default()
        }
    }

    /// Whether no condition is set.
    pub fn is_empty(&self) -> bool {
        *self == Predicate::default()
    }
}

impl AssertionSpec {
    /// The inline predicate fields as one predicate.
    pub fn inline_predicate(&self) -> Predicate {
        Predicate {
            equals: self.equals.clone(),
            not_equals: self.not_equals.clone(),
            lt: self.lt.clone(),
            lte: self.lte.clone(),
            gt: self.gt.clone(),
            gte: self.gte.clone(),
            contains: self.contains.clone(),
            not_contains: self.not_contains.clone(),
            matches: self.matches.clone(),
            not_matches: self.not_matches.clone(),
            exists: self.exists,
            length: self.length.clone(),
            lines: self.lines.clone(),
            r#type: self.r#type.clone(),
            one_of: self.one_of.clone(),
        }
    }
}

/// A value kept for later steps. Name exactly one source.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaptureSpec {
    /// JSONPath over the response JSON.
    #[serde(default)]
    pub jsonpath: Option<String>,
    /// JSONPath over the collected items of a paginated step.
    #[serde(default)]
    pub items: Option<String>,
    /// A response header.
    #[serde(default)]
    pub header: Option<String>,
    /// A template expression.
    #[serde(default)]
    pub expr: Option<String>,
    /// A regular expression over the body or a program's output; the value is its named
    /// group `group` (default: the first group, or the whole match).
    #[serde(default)]
    pub regex: Option<String>,
    /// Which group of `regex` to keep.
    #[serde(default)]
    pub group: Option<String>,
    /// Keep every selected value as a list (default: the first, or null).
    #[serde(default)]
    pub all: bool,
    /// The value is a secret (a token from a login or OAuth step): from the moment it is
    /// captured it is masked in everything written — the answer that carried it, every
    /// later request that sends it, the console, reports and artifacts.
    #[serde(default)]
    pub secret: bool,
}
