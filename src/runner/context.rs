//! Run stage: the values templates see — `env`, `vars`, `steps.<id>`, `run`.
use std::collections::BTreeMap;

use minijinja::Value;

use super::Clock;
use crate::secrets::Redactor;

/// Everything a template may read during a run.
pub struct RunContext {
    /// Env variables (dotenv files, process environment, defaults).
    pub env: BTreeMap<String, String>,
    /// Rendered vars.
    pub vars: BTreeMap<String, serde_json::Value>,
    /// Finished steps' views, by id.
    pub steps: BTreeMap<String, Value>,
    /// Masks secrets.
    pub redactor: Redactor,
    /// The clock.
    pub clock: Clock,
    /// Scenario name.
    pub scenario: String,
    /// The `--env-file` files, as absolute paths (for `docker run --env-file`).
    pub env_files: Vec<String>,
    /// Env and var names whose values are secrets (masked whole in the record).
    pub secret_names: Vec<String>,
    env_value: Value,
    vars_value: Value,
}

impl RunContext {
    /// A context before any var is rendered.
    pub fn new(
        env: BTreeMap<String, String>,
        redactor: Redactor,
        clock: Clock,
        scenario: String,
    ) -> Self {
        let env_value = crate::template::to_value(&env);
        RunContext {
            env,
            vars: BTreeMap::new(),
            steps: BTreeMap::new(),
            redactor,
            clock,
            scenario,
            env_files: Vec::new(),
            secret_names: Vec::new(),
            env_value,
            vars_value: Value::from(BTreeMap::<String, Value>::new()),
        }
    }

    /// Sets a rendered var.
    pub fn set_var(&mut self, name: &str, value: serde_json::Value) {
        self.vars.insert(name.to_string(), value);
        self.vars_value = crate::template::to_value(&self.vars);
    }

    /// The template context, with extra top-level values (`response`, `page`, `step`).
    pub fn value(&self, extra: &[(&str, Value)]) -> Value {
        let mut map: BTreeMap<&str, Value> = BTreeMap::new();
        map.insert("env", self.env_value.clone());
        map.insert("vars", self.vars_value.clone());
        map.insert(
            "steps",
            Value::from(
                self.steps
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect::<BTreeMap<_, _>>(),
            ),
        );
        map.insert(
            "run",
            crate::template::to_value(serde_json::json!({
                "scenario": self.scenario,
                "started_at": self.clock.format(self.clock.start()),
                "env_files": self.env_files,
            })),
        );
        for (k, v) in extra {
            map.insert(k, v.clone());
        }
        Value::from(map)
    }
}
