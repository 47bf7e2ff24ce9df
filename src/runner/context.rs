//! Run stage: the values templates see — `env`, `vars`, `steps.<id>`, `run`.
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use minijinja::Value;
use minijinja::value::{Enumerator, Object, ObjectRepr};

use super::Clock;
use crate::secrets::Redactor;

/// Everything a template may read during a run.
pub struct RunContext {
    /// Env variables (dotenv files, process environment, defaults).
    pub env: BTreeMap<String, String>,
    /// Rendered vars.
    pub vars: BTreeMap<String, serde_json::Value>,
    /// Finished steps' views, by id, shared with every template context (a context costs
    /// the same whatever the number of steps).
    steps: Arc<StepsView>,
    /// Masks secrets.
    pub redactor: Redactor,
    /// The clock.
    pub clock: Clock,
    /// Scenario name.
    pub scenario: String,
    /// The `--env-file` files, as absolute paths (for `docker run --env-file`).
    env_files: Vec<String>,
    /// Env and var names whose values are secrets (masked whole in the record).
    pub secret_names: Vec<String>,
    /// The scenario file's folder: relative paths in the scenario (`tls.ca_file`) start
    /// here.
    pub scenario_dir: PathBuf,
    /// OAuth2 tokens fetched during the run.
    pub tokens: super::TokenCache,
    /// The item a `for_each` step runs for, and its index (`each`, `each_index`).
    pub each: Option<(Value, usize)>,
    /// The scenario's `limits:`.
    pub limits: crate::scenario::Limits,
    env_value: Value,
    vars_value: Value,
    run_value: Value,
}

/// `steps` in templates: finished steps by id, looked up on access.
#[derive(Debug, Default)]
pub struct StepsView(RwLock<BTreeMap<String, Value>>);

impl Object for StepsView {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.0.read().ok()?.get(key.as_str()?).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let keys: Vec<Value> = self
            .0
            .read()
            .map(|m| m.keys().map(|k| Value::from(k.as_str())).collect())
            .unwrap_or_default();
        Enumerator::Values(keys)
    }
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
            steps: Arc::new(StepsView::default()),
            redactor,
            clock,
            scenario,
            env_files: Vec::new(),
            secret_names: Vec::new(),
            scenario_dir: PathBuf::new(),
            tokens: Default::default(),
            each: None,
            limits: Default::default(),
            env_value,
            vars_value: Value::from(BTreeMap::<String, Value>::new()),
            run_value: Value::UNDEFINED,
        }
        .with_run_value()
    }

    /// `run` in templates: the scenario, the start time and the `--env-file` paths.
    fn with_run_value(mut self) -> Self {
        self.run_value = crate::template::to_value(serde_json::json!({
            "scenario": self.scenario,
            "started_at": self.clock.format(self.clock.start()),
            "env_files": self.env_files,
        }));
        self
    }

    /// Sets the `--env-file` paths templates see as `run.env_files`.
    pub fn set_env_files(self, files: Vec<String>) -> Self {
        RunContext {
            env_files: files,
            ..self
        }
        .with_run_value()
    }

    /// Records a finished step's view.
    pub fn set_step(&self, id: &str, view: Value) {
        if let Ok(mut m) = self.steps.0.write() {
            m.insert(id.to_string(), view);
        }
    }

    /// A finished step's view.
    pub(crate) fn step(&self, id: &str) -> Option<Value> {
        self.steps.0.read().ok()?.get(id).cloned()
    }

    /// Records a step's view unless it has one.
    pub fn set_step_if_absent(&self, id: &str, view: impl FnOnce() -> Value) {
        if let Ok(mut m) = self.steps.0.write() {
            m.entry(id.to_string()).or_insert_with(view);
        }
    }

    /// Sets a rendered var.
    pub fn set_var(&mut self, name: &str, value: serde_json::Value) {
        self.vars.insert(name.to_string(), value);
        self.vars_value = crate::template::to_value(&self.vars);
    }

    /// A rendered `tls.ca_file`, relative to the scenario file; an empty one is none.
    pub fn ca_file(
        &self,
        plan: Option<&crate::plan::CaFilePlan>,
        t: &crate::template::Templates,
        ctx: &Value,
    ) -> Result<Option<PathBuf>, String> {
        let Some(plan) = plan else {
            return Ok(None);
        };
        let path = t
            .render_string(&plan.path, ctx)
            .map_err(|e| format!("{}: {}", plan.at, e.message))?;
        let path = path.trim();
        Ok((!path.is_empty()).then(|| self.scenario_dir.join(path)))
    }

    /// The template context, with extra top-level values (`response`, `page`, `step`).
    pub fn value(&self, extra: &[(&str, Value)]) -> Value {
        let mut map: BTreeMap<&str, Value> = BTreeMap::new();
        map.insert("env", self.env_value.clone());
        map.insert("vars", self.vars_value.clone());
        map.insert("steps", Value::from_dyn_object(self.steps.clone()));
        map.insert("run", self.run_value.clone());
        // The escaping filters (`md`, `mdcell`, …) mask secrets before they escape them:
        // an escaped secret would no longer match its mask.
        map.insert(
            crate::template::REDACTOR_KEY,
            Value::from_object(crate::template::RedactorValue(self.redactor.clone())),
        );
        if let Some((item, index)) = &self.each {
            map.insert("each", item.clone());
            map.insert("each_index", Value::from(*index));
        }
        for (k, v) in extra {
            map.insert(k, v.clone());
        }
        Value::from(map)
    }
}
