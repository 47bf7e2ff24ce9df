//! The JSON Schema of the scenario format, generated from the `*Spec` types.
use crate::scenario::Scenario;

/// The schema as pretty JSON, ending with a newline.
pub fn scenario_schema() -> String {
    let schema = schemars::schema_for!(Scenario);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
