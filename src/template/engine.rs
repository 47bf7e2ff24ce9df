//! Render stage: the one minijinja environment of a run; every template and expression
//! of a scenario is compiled into it once, at load time, and checked for unknown names.
use std::collections::HashSet;
use std::sync::Arc;

use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, UndefinedBehavior, Value};

use super::error::TemplateError;
use super::names::{self, NameRef, lone_expression, step_refs_in};
use super::time;

/// A compiled template: a plain string, a text template, or a single expression whose
/// native value (number, list, datetime…) is kept.
#[derive(Clone, Debug)]
pub enum Compiled {
    /// No template syntax at all.
    Literal(Arc<str>),
    /// A text template, by its name in the environment.
    Text(Arc<str>),
    /// `{{ expr }}` alone, or an expression field (`when`, `expr`, `until`).
    Expr(Arc<str>),
}

/// What the engine keeps of a compiled template to explain a failure at run time.
#[derive(Debug)]
struct TemplateInfo {
    source: String,
    origin: Arc<str>,
    refs: Vec<NameRef>,
}

/// Turns a YAML path into `file:line:col` and the line's text, for run-time errors.
pub type Locator = Arc<dyn Fn(&str) -> Option<(String, String)> + Send + Sync>;

/// The run's template environment.
pub struct Templates {
    env: Environment<'static>,
    count: usize,
    filters: HashSet<&'static str>,
    globals: HashSet<&'static str>,
    /// Compiled template text → its name and the step ids it reads, so repeated texts
    /// compile once.
    compiled: std::collections::HashMap<String, (Arc<str>, Vec<String>)>,
    /// Step ids read by the templates compiled since the last `take_step_refs`.
    step_refs: Vec<String>,
    /// Names read by the templates compiled since the last `take_refs`.
    refs: Vec<NameRef>,
    /// The YAML path of the value being compiled.
    origin: Arc<str>,
    /// Each template by name: its source, where it stands, what it reads.
    infos: std::collections::HashMap<Arc<str>, TemplateInfo>,
    /// YAML path → `file:line:col`, set once the scenario is validated.
    locator: Option<Locator>,
    /// The work one evaluation may do (`limits.template_fuel`); none: unbounded.
    fuel: Option<u64>,
    /// The same templates without fuel, for the reports (their work grows with the run).
    unfueled: std::sync::OnceLock<Environment<'static>>,
}

impl Templates {
    /// An environment whose `now()` is `now` (the run's clock, fixed by `--now`).
    pub fn new(now: jiff::Timestamp) -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        if let Ok(syntax) = SyntaxConfig::builder().keep_trailing_newline(true).build() {
            env.set_syntax(syntax);
        }
        time::register(&mut env, now);
        env.add_filter("fromjson", |s: String| -> Result<Value, minijinja::Error> {
            serde_json::from_str::<serde_json::Value>(&s)
                .map(|v| crate::template::to_value(&v))
                .map_err(|e| {
                    minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string())
                })
        });
        env.add_filter("has_more", |v: Value| super::paging::has_more(&v));
        let filters = names::BUILTIN_FILTERS
            .iter()
            .chain(time::FILTERS)
            .chain(names::OWN_FILTERS)
            .copied()
            .collect();
        let globals = names::CONTEXT_ROOTS
            .iter()
            .chain(names::BUILTIN_GLOBALS)
            .chain(time::FUNCTIONS)
            .copied()
            .collect();
        Templates {
            env,
            count: 0,
            filters,
            globals,
            compiled: std::collections::HashMap::new(),
            step_refs: Vec::new(),
            refs: Vec::new(),
            origin: Arc::from(""),
            infos: std::collections::HashMap::new(),
            locator: None,
            fuel: None,
            unfueled: std::sync::OnceLock::new(),
        }
    }

    /// Bounds the work of each evaluation of a scenario template (`limits.template_fuel`):
    /// one that uses it up fails with an error naming where the template stands.
    pub fn set_fuel(&mut self, fuel: u64) {
        self.env.set_fuel(Some(fuel));
        self.fuel = Some(fuel);
    }

    /// Adds filters a later stage defines (the report's Markdown filters): `names` are
    /// what templates may write, `register` adds them to the environment.
    pub fn add_filters(
        &mut self,
        names: &[&'static str],
        register: impl FnOnce(&mut Environment<'static>),
    ) {
        register(&mut self.env);
        self.filters.extend(names.iter().copied());
    }

    /// Renders a report template (added with [`Templates::add_named`]): not bounded by
    /// fuel, as its work grows with the run it reports.
    pub fn render_report(&self, name: &str, ctx: &Value) -> Result<String, TemplateError> {
        if self.fuel.is_none() {
            return self.render_named(name, ctx);
        }
        let env = self.unfueled.get_or_init(|| {
            let mut env = self.env.clone();
            env.set_fuel(None);
            env
        });
        let tmpl = env
            .get_template(name)
            .map_err(|e| TemplateError::from_mj(&e))?;
        tmpl.render(ctx).map_err(|e| self.explain(name, &e, ctx))
    }

    /// Every filter a template may use, sorted.
    pub fn filter_names(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self.filters.iter().copied().collect();
        names.sort_unstable();
        names
    }

    /// Where the templates compiled next stand in the scenario (a YAML path).
    pub fn set_origin(&mut self, path: &str) {
        if &*self.origin != path {
            self.origin = Arc::from(path);
        }
    }

    /// Lets run-time errors name `file:line:col` of their template.
    pub fn set_locator(&mut self, locator: Locator) {
        self.locator = Some(locator);
    }

    /// The names read by the templates compiled since the last call.
    pub fn take_refs(&mut self) -> Vec<NameRef> {
        std::mem::take(&mut self.refs)
    }

    /// Compiles a string value: a literal, a text template, or a lone `{{ expr }}`.
    pub fn compile_text(&mut self, source: &str) -> Result<Compiled, TemplateError> {
        if !source.contains("{{") && !source.contains("{%") && !source.contains("{#") {
            return Ok(Compiled::Literal(Arc::from(source)));
        }
        if let Some(expr) = lone_expression(source) {
            return self.compile_expr(expr);
        }
        self.add(source, false, source.to_string(), &[])
            .map(Compiled::Text)
    }

    /// Compiles an expression (`when`, `until`, `expr`); `{{ }}` around it is allowed.
    pub fn compile_expr(&mut self, expr: &str) -> Result<Compiled, TemplateError> {
        let expr = lone_expression(expr).unwrap_or(expr).trim();
        if expr.is_empty() {
            return Err(TemplateError::new("empty expression".into()));
        }
        self.add(expr, true, format!("{{% set __value = ({expr}) %}}"), &[])
            .map(Compiled::Expr)
    }

    /// Adds a whole template file (a report), checked like any other template.
    pub fn add_named(
        &mut self,
        name: &str,
        source: String,
        roots: &[&str],
    ) -> Result<(), TemplateError> {
        let refs = names::scan(&source, false, &self.filters, &self.origin)?;
        self.env
            .add_template_owned(name.to_string(), source.clone())
            .map_err(|e| TemplateError::from_mj(&e))?;
        self.check_free_names(name, roots)?;
        self.remember(Arc::from(name), source, refs);
        Ok(())
    }

    fn remember(&mut self, name: Arc<str>, source: String, refs: Vec<NameRef>) {
        self.refs.extend(refs.iter().cloned());
        self.infos.insert(
            name,
            TemplateInfo {
                source,
                origin: self.origin.clone(),
                refs,
            },
        );
    }

    /// Renders a named template added with [`Templates::add_named`].
    pub fn render_named(&self, name: &str, ctx: &Value) -> Result<String, TemplateError> {
        let tmpl = self
            .env
            .get_template(name)
            .map_err(|e| TemplateError::from_mj(&e))?;
        tmpl.render(ctx).map_err(|e| self.explain(name, &e, ctx))
    }

    /// Checks `source` (filters, tests, free names) and compiles `stored` once; the same
    /// template text written in many steps is compiled once and shared.
    fn add(
        &mut self,
        source: &str,
        in_expr: bool,
        stored: String,
        roots: &[&str],
    ) -> Result<Arc<str>, TemplateError> {
        if let Some((name, refs)) = self.compiled.get(&stored) {
            self.step_refs.extend(refs.iter().cloned());
            let origin = self.origin.clone();
            if let Some(info) = self.infos.get(name) {
                // The same text elsewhere: its names, read from here.
                self.refs.extend(info.refs.iter().map(|r| NameRef {
                    origin: origin.clone(),
                    ..r.clone()
                }));
            }
            return Ok(name.clone());
        }
        let name_refs = names::scan(source, in_expr, &self.filters, &self.origin)?;
        self.count += 1;
        let name = format!("t{}", self.count);
        self.env
            .add_template_owned(name.clone(), stored.clone())
            .map_err(|e| TemplateError::from_mj(&e))?;
        if let Err(e) = self.check_free_names(&name, roots) {
            self.env.remove_template(&name);
            return Err(e);
        }
        let name: Arc<str> = Arc::from(name);
        let refs = step_refs_in(source);
        self.step_refs.extend(refs.iter().cloned());
        self.remember(name.clone(), source.to_string(), name_refs);
        self.compiled.insert(stored, (name.clone(), refs));
        Ok(name)
    }

    /// The step ids (`steps.<id>`) read by the templates compiled since the last call.
    pub fn take_step_refs(&mut self) -> Vec<String> {
        std::mem::take(&mut self.step_refs)
    }

    /// Evaluates to a native value.
    pub fn eval(&self, compiled: &Compiled, ctx: &Value) -> Result<Value, TemplateError> {
        match compiled {
            Compiled::Literal(s) => Ok(Value::from(&**s)),
            Compiled::Text(name) => self.render_named(name, ctx).map(Value::from),
            Compiled::Expr(name) => {
                let tmpl = self
                    .env
                    .get_template(name)
                    .map_err(|e| TemplateError::from_mj(&e))?;
                let captured = tmpl
                    .render_captured(ctx)
                    .map_err(|e| self.explain(name, &e, ctx))?;
                let value = captured.state().lookup("__value").unwrap_or_default();
                if value.is_undefined() {
                    // Strict: a name that is not there is an error, not a quiet null.
                    if let Some(e) = self.undefined_name(name, ctx) {
                        return Err(e);
                    }
                    return Ok(Value::from(()));
                }
                Ok(value)
            }
        }
    }

    /// Evaluates to a string (datetimes render as ISO-8601 with a colon offset).
    pub fn render_string(&self, compiled: &Compiled, ctx: &Value) -> Result<String, TemplateError> {
        match compiled {
            Compiled::Literal(s) => Ok(s.to_string()),
            Compiled::Text(name) => self.render_named(name, ctx),
            Compiled::Expr(_) => {
                let v = self.eval(compiled, ctx)?;
                Ok(if v.is_none() || v.is_undefined() {
                    String::new()
                } else {
                    v.to_string()
                })
            }
        }
    }

    /// Evaluates a condition with Jinja truthiness.
    pub fn eval_bool(&self, compiled: &Compiled, ctx: &Value) -> Result<bool, TemplateError> {
        self.eval(compiled, ctx).map(|v| v.is_true())
    }

    /// Evaluates to JSON (datetimes become ISO strings).
    pub fn eval_json(
        &self,
        compiled: &Compiled,
        ctx: &Value,
    ) -> Result<serde_json::Value, TemplateError> {
        let v = self.eval(compiled, ctx)?;
        to_json(&v)
    }

    /// Free names of a compiled template must be context roots or functions.
    fn check_free_names(&self, name: &str, roots: &[&str]) -> Result<(), TemplateError> {
        let tmpl = self
            .env
            .get_template(name)
            .map_err(|e| TemplateError::from_mj(&e))?;
        let mut unknown: Vec<String> = tmpl
            .undeclared_variables(false)
            .into_iter()
            .filter(|n| !self.globals.contains(n.as_str()) && !roots.contains(&n.as_str()))
            .collect();
        unknown.sort();
        if let Some(name) = unknown.first() {
            return Err(TemplateError::new(format!(
                "unknown variable or function `{name}` (known: env, vars, steps, response, page, now(), datetime(), duration())"
            )));
        }
        Ok(())
    }
}

/// A minijinja value as JSON; objects that render (datetimes) become strings.
pub fn to_json(v: &Value) -> Result<serde_json::Value, TemplateError> {
    serde_json::to_value(v).map_err(|e| TemplateError::new(format!("cannot convert to JSON: {e}")))
}

mod explain;

#[cfg(test)]
mod tests;
