//! Run stage: the few fields a reconcile side reads (`row.id`, `row.client.name`) taken
//! from one row's JSON text without building the rest of it — a million rows of a walk's
//! `.items.jsonl` or of a ClickHouse answer are scanned, not turned into maps.
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// The values at `paths` in `text` (a JSON object), in order; None where a path is not
/// there (or a step of it is not an object).
pub(super) fn extract(text: &str, paths: &[&[String]]) -> serde_json::Result<Vec<Option<Value>>> {
    let mut out = vec![None; paths.len()];
    let wanted: Vec<(usize, &[String])> = paths.iter().copied().enumerate().collect();
    let mut de = serde_json::Deserializer::from_str(text);
    Pick {
        wanted: &wanted,
        out: &mut out,
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok(out)
}

/// Fills `out` with the values of the `wanted` paths (output index, path left) below
/// the value being read.
struct Pick<'a, 'p> {
    wanted: &'a [(usize, &'p [String])],
    out: &'a mut Vec<Option<Value>>,
}

impl<'de> DeserializeSeed<'de> for Pick<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(self)
    }
}

/// An object key, compared with the paths' next names as it is read.
struct Key<'a, 'p>(&'a [(usize, &'p [String])]);

impl<'de> DeserializeSeed<'de> for Key<'_, '_> {
    type Value = Vec<usize>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Vec<usize>, D::Error> {
        de.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_, '_> {
    type Value = Vec<usize>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<Vec<usize>, E> {
        Ok((0..self.0.len())
            .filter(|i| self.0[*i].1.first().is_some_and(|n| n == key))
            .collect())
    }
}

impl<'de> Visitor<'de> for Pick<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(matching) = map.next_key_seed(Key(self.wanted))? {
            if matching.is_empty() {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let whole = matching.iter().any(|i| self.wanted[*i].1.len() == 1);
            if whole {
                // A path ends here: the value whole, and what deeper paths read of it.
                let v: Value = map.next_value()?;
                for i in matching {
                    let (at, path) = self.wanted[i];
                    self.out[at] = path[1..]
                        .iter()
                        .try_fold(&v, |v, k| v.as_object()?.get(k))
                        .cloned();
                }
            } else {
                let deeper: Vec<(usize, &[String])> = matching
                    .iter()
                    .map(|i| (self.wanted[*i].0, &self.wanted[*i].1[1..]))
                    .collect();
                map.next_value_seed(Pick {
                    wanted: &deeper,
                    out: &mut *self.out,
                })?;
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_paths_and_skips_the_rest() {
        let text = r#"{"id":4100000,"client":{"name":"Анна \"С\"","tags":[1,{"x":2}]},"n":null,"deep":{"a":{"b":[3]}}}"#;
        let p = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let (id, name, client, missing, n, b, through) = (
            p(&["id"]),
            p(&["client", "name"]),
            p(&["client"]),
            p(&["nope"]),
            p(&["n"]),
            p(&["deep", "a", "b"]),
            p(&["id", "x"]),
        );
        let got = extract(text, &[&id, &name, &client, &missing, &n, &b, &through]).unwrap();
        let doc: Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            got,
            [
                Some(json!(4100000)),
                Some(json!("Анна \"С\"")),
                Some(doc["client"].clone()),
                None,
                Some(Value::Null),
                Some(json!([3])),
                None,
            ]
        );
        assert!(extract("{\"id\": 1} x", &[&id]).is_err());
        assert_eq!(extract("[1, 2]", &[&id]).unwrap(), [None]);
    }
}
