//! The JSON Schemas qtscen publishes: the scenario format, generated from the `*Spec`
//! types, and `results.json`, generated from the record types.
use schemars::generate::SchemaSettings;
use serde_json::{Value, json};

use crate::record::{RECORD_VERSION, RunRecord};
use crate::scenario::{Scenario, Step};

/// The scenario schema as pretty JSON, ending with a newline.
pub fn scenario_schema() -> String {
    let mut schema = serde_json::to_value(schemars::schema_for!(Scenario)).unwrap_or_default();
    if let Some(step) = schema.pointer_mut("/$defs/Step") {
        at_most_one_action(step);
    }
    pretty(&schema)
}

/// The results.json schema (what qtscen writes, so every field it always writes is
/// required) as pretty JSON, ending with a newline.
pub fn results_schema() -> String {
    let generator = SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator();
    let mut schema =
        serde_json::to_value(generator.into_root_schema_for::<RunRecord>()).unwrap_or_default();
    schema["title"] = json!("qtscen results.json");
    if let Some(version) = schema.pointer_mut("/properties/record_version") {
        version["const"] = json!(RECORD_VERSION);
    }
    pretty(&schema)
}

fn pretty(schema: &Value) -> String {
    let mut text = serde_json::to_string_pretty(schema).unwrap_or_default();
    text.push('\n');
    text
}

/// A step names at most one action (`http`, `sql`, `exec`, `docker`, `reconcile`); one
/// without any is a check or a computation, and then has `assert:` or `capture:`. As
/// `oneOf`, so that an editor flags a step with two actions (both alternatives match)
/// and a step that does nothing (none does). An action set to null counts as absent,
/// as it does for `validate`.
fn at_most_one_action(step: &mut Value) {
    let has = |action: &str| {
        json!({
            "required": [action],
            "properties": { action: { "type": "object" } }
        })
    };
    let mut alternatives: Vec<Value> = Step::ACTIONS
        .iter()
        .map(|a| {
            json!({
                "title": format!("a step with `{a}:`"),
                "required": [a],
                "properties": { *a: { "type": "object" } }
            })
        })
        .collect();
    alternatives.push(json!({
        "title": "a step without an action: a check (`assert:`) or values computed mid-run (`capture:`)",
        "not": { "anyOf": Step::ACTIONS.iter().map(|a| has(a)).collect::<Vec<_>>() },
        "anyOf": [
            { "required": ["assert"], "properties": { "assert": { "minItems": 1 } } },
            { "required": ["capture"], "properties": { "capture": { "minProperties": 1 } } }
        ]
    }));
    step["oneOf"] = Value::Array(alternatives);
}
