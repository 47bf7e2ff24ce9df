//! Render stage: a JSON document shown to templates without copying it — a response
//! body of 25 KB per page, or 10,000 collected items, is converted only where a template
//! actually reads it.
use std::sync::Arc;

use minijinja::Value;
use minijinja::value::{Enumerator, Object, ObjectRepr};

/// A node of a shared JSON document, by its path from the root.
#[derive(Debug)]
pub struct JsonView {
    root: Arc<serde_json::Value>,
    path: Vec<Step>,
}

#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

impl JsonView {
    /// A template value for `root` (scalars directly, containers as views).
    pub fn value(root: Arc<serde_json::Value>) -> Value {
        Self::wrap(root, Vec::new())
    }

    fn wrap(root: Arc<serde_json::Value>, path: Vec<Step>) -> Value {
        let node = resolve(&root, &path);
        match node {
            Some(serde_json::Value::Object(_) | serde_json::Value::Array(_)) => {
                Value::from_object(JsonView { root, path })
            }
            Some(scalar) => scalar_value(scalar),
            None => Value::UNDEFINED,
        }
    }

    fn node(&self) -> Option<&serde_json::Value> {
        resolve(&self.root, &self.path)
    }

    fn child(&self, step: Step) -> Value {
        let mut path = self.path.clone();
        path.push(step);
        Self::wrap(self.root.clone(), path)
    }
}

fn resolve<'a>(root: &'a serde_json::Value, path: &[Step]) -> Option<&'a serde_json::Value> {
    path.iter().try_fold(root, |node, step| match step {
        Step::Key(k) => node.get(k.as_str()),
        Step::Index(i) => node.get(*i),
    })
}

fn scalar_value(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::from(()),
        serde_json::Value::Bool(b) => Value::from(*b),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Value::from(i),
            (None, Some(u), _) => Value::from(u),
            (_, _, Some(f)) => Value::from(f),
            _ => Value::from(n.to_string()),
        },
        serde_json::Value::String(s) => Value::from(s.as_str()),
        other => crate::template::to_value(other),
    }
}

impl Object for JsonView {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        match self.node() {
            Some(serde_json::Value::Array(_)) => ObjectRepr::Seq,
            _ => ObjectRepr::Map,
        }
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let value = match self.node()? {
            serde_json::Value::Object(map) => {
                let k = key.as_str()?;
                map.contains_key(k)
                    .then(|| self.child(Step::Key(k.to_string())))?
            }
            serde_json::Value::Array(items) => {
                let i = super::seq_index(key.as_i64()?, items.len())?;
                self.child(Step::Index(i))
            }
            _ => return None,
        };
        Some(value)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        match self.node() {
            Some(serde_json::Value::Object(map)) => {
                Enumerator::Values(map.keys().map(|k| Value::from(k.as_str())).collect())
            }
            Some(serde_json::Value::Array(items)) => Enumerator::Seq(items.len()),
            _ => Enumerator::Empty,
        }
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        match self.node() {
            Some(serde_json::Value::Object(map)) => Some(map.len()),
            Some(serde_json::Value::Array(items)) => Some(items.len()),
            _ => Some(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::Environment;

    #[test]
    fn templates_read_a_shared_document_like_plain_values() {
        let doc = Arc::new(
            serde_json::json!({"data": [{"id": 1, "payed_at": "x"}, {"id": 2}], "meta": {"has_next": false}}),
        );
        let env = Environment::new();
        let ctx = minijinja::context! { r => JsonView::value(doc.clone()), same => crate::template::to_value(&*doc) };
        let out = env
            .render_str(
                "{{ r.data | length }} {{ r.data[1].id }} {{ r.data[-1].id }} {{ r.meta.has_next }} {{ r.data[0] | tojson }} {{ r == same }} {{ r.data is sequence }} {{ r.nope is defined }}",
                ctx,
            )
            .unwrap();
        assert_eq!(
            out,
            r#"2 2 2 False {"id": 1, "payed_at": "x"} True True False"#
        );
    }
}
