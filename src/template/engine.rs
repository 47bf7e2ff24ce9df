//! Render stage: the one minijinja environment of a run; every template and expression
//! of a scenario is compiled into it once, at load time, and checked for unknown names.
use std::collections::HashSet;
use std::sync::Arc;

use minijinja::machinery::{Token, tokenize};
use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, UndefinedBehavior, Value};

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

/// A template that did not compile or render.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    /// What went wrong, in minijinja's words.
    pub message: String,
    /// 1-based line inside the template text, when known.
    pub line: Option<usize>,
}

impl TemplateError {
    fn from_mj(err: &minijinja::Error) -> Self {
        let mut message = match err.detail() {
            Some(detail) => format!("{}: {detail}", err.kind()),
            None => err.kind().to_string(),
        };
        let mut source = std::error::Error::source(err);
        while let Some(inner) = source {
            message.push_str(&format!(": {inner}"));
            source = inner.source();
        }
        TemplateError {
            message,
            line: err.line(),
        }
    }

    fn new(message: String) -> Self {
        TemplateError {
            message,
            line: None,
        }
    }
}

/// A name a template reads from the run: `env.X`, `vars.X`, `steps.ID.captures.C`, …
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameRef {
    /// The context root (`env`, `vars`, `steps`, `response`, …).
    pub root: String,
    /// The attribute names after the root (`["captures", "token"]`).
    pub path: Vec<String>,
    /// Read through `| default(…)` or tested with `is defined`: it may be absent.
    pub guarded: bool,
    /// Where the template stands in the scenario (a YAML path such as
    /// `steps[2].http.headers.Authorization`).
    pub origin: Arc<str>,
}

impl NameRef {
    /// `vars.window_from`, `steps.auth.captures.token`.
    pub fn dotted(&self) -> String {
        std::iter::once(self.root.as_str())
            .chain(self.path.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(".")
    }
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

/// Names a template may use besides the engine's functions.
const CONTEXT_ROOTS: &[&str] = &[
    "env",
    "vars",
    "steps",
    "response",
    "request",
    "page",
    "step",
    "run",
    "item",
    "row",
    "each",
    "each_index",
];
const BUILTIN_GLOBALS: &[&str] = &["range", "dict", "debug", "namespace"];
const BUILTIN_FILTERS: &[&str] = &[
    "abs",
    "attr",
    "batch",
    "bool",
    "capitalize",
    "chain",
    "count",
    "d",
    "default",
    "dictsort",
    "e",
    "escape",
    "first",
    "float",
    "format",
    "groupby",
    "indent",
    "int",
    "items",
    "join",
    "last",
    "length",
    "lines",
    "list",
    "lower",
    "map",
    "max",
    "min",
    "pprint",
    "reject",
    "rejectattr",
    "replace",
    "reverse",
    "round",
    "safe",
    "select",
    "selectattr",
    "slice",
    "sort",
    "split",
    "string",
    "sum",
    "title",
    "tojson",
    "trim",
    "unique",
    "upper",
    "urlencode",
    "zip",
];
const BUILTIN_TESTS: &[&str] = &[
    "undefined",
    "defined",
    "none",
    "safe",
    "escaped",
    "boolean",
    "odd",
    "even",
    "divisibleby",
    "number",
    "integer",
    "int",
    "float",
    "string",
    "sequence",
    "iterable",
    "mapping",
    "startingwith",
    "endingwith",
    "lower",
    "upper",
    "sameas",
    "eq",
    "equalto",
    "ne",
    "lt",
    "lessthan",
    "le",
    "gt",
    "greaterthan",
    "ge",
    "in",
    "true",
    "false",
    "filter",
    "test",
];
const OWN_FILTERS: &[&str] = &[
    "fromjson",
    "md",
    "mdcell",
    "mdcodespan",
    "mdcode",
    "markdown",
    "excerpt",
    "lastlines",
    "timeline",
    "code",
    "has_more",
];

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
        crate::report::register_filters(&mut env);
        env.add_filter("has_more", |v: Value| super::paging::has_more(&v));
        let filters = BUILTIN_FILTERS
            .iter()
            .chain(time::FILTERS)
            .chain(OWN_FILTERS)
            .copied()
            .collect();
        let globals = CONTEXT_ROOTS
            .iter()
            .chain(BUILTIN_GLOBALS)
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
        let refs = self.check_tokens(&source, false)?;
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
        let name_refs = self.check_tokens(source, in_expr)?;
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

    /// Unknown filters and tests, from the tokens (minijinja finds them only at render);
    /// the names the template reads from the run.
    fn check_tokens(&self, source: &str, in_expr: bool) -> Result<Vec<NameRef>, TemplateError> {
        let tokens = tokenize(source, in_expr, SyntaxConfig::default())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TemplateError::from_mj(&e))?;
        for (i, (token, span)) in tokens.iter().enumerate() {
            let Token::Ident(name) = token else { continue };
            let prev = |back: usize| i.checked_sub(back).map(|j| &tokens[j].0);
            let line = Some(span.start_line as usize);
            if matches!(prev(1), Some(Token::Pipe)) && !self.filters.contains(name) {
                return Err(TemplateError {
                    message: format!("unknown filter `{name}`"),
                    line,
                });
            }
            let after_is = matches!(prev(1), Some(Token::Ident("is")))
                || (matches!(prev(1), Some(Token::Ident("not")))
                    && matches!(prev(2), Some(Token::Ident("is"))));
            if after_is && *name != "not" && !BUILTIN_TESTS.contains(name) {
                return Err(TemplateError {
                    message: format!("unknown test `{name}`"),
                    line,
                });
            }
        }
        let tokens: Vec<Token> = tokens.into_iter().map(|(t, _)| t).collect();
        Ok(name_refs(&tokens, &self.origin))
    }

    /// The error of template `name`, with the name that was undefined and where the
    /// template stands in the scenario.
    fn explain(&self, name: &str, err: &minijinja::Error, ctx: &Value) -> TemplateError {
        if err.kind() == minijinja::ErrorKind::UndefinedError {
            if let Some(e) = self.undefined_name(name, ctx) {
                return e;
            }
        }
        if err.kind() == minijinja::ErrorKind::OutOfFuel {
            return TemplateError {
                message: format!(
                    "template ran out of fuel (limits.template_fuel: {}): it did more work than one evaluation may (a loop over a huge range?){}; raise `limits: {{ template_fuel: … }}` if it is meant to",
                    self.fuel.unwrap_or_default(),
                    self.location(name)
                ),
                line: err.line(),
            };
        }
        let mut e = TemplateError::from_mj(err);
        e.message.push_str(&self.location(name));
        e
    }

    /// The first name the template reads that is not there (each prefix of each
    /// chain is tried, so `vars.a.b` names `vars.a` when `a` is missing).
    fn undefined_name(&self, name: &str, ctx: &Value) -> Option<TemplateError> {
        let info = self.infos.get(name)?;
        for r in info.refs.iter().filter(|r| !r.guarded) {
            let mut chain = r.root.clone();
            let mut parent = ctx.get_attr(&r.root).ok()?;
            if parent.is_undefined() {
                return Some(self.undefined_error(name, &chain, None));
            }
            for part in &r.path {
                let value = parent.get_attr(part).unwrap_or(Value::UNDEFINED);
                if value.is_undefined() {
                    let known = known_keys(&parent);
                    chain = format!("{chain}.{part}");
                    return Some(self.undefined_error(name, &chain, known));
                }
                chain = format!("{chain}.{part}");
                parent = value;
            }
        }
        None
    }

    fn undefined_error(&self, name: &str, chain: &str, known: Option<String>) -> TemplateError {
        let known = known.map(|k| format!(" ({k})")).unwrap_or_default();
        TemplateError::new(format!(
            "`{chain}` is undefined{known}; write `{chain} | default(…)` where it may be absent{}",
            self.location(name)
        ))
    }

    /// ` at file:line:col: `the line``, when the template's place is known.
    fn location(&self, name: &str) -> String {
        let Some(info) = self.infos.get(name) else {
            return String::new();
        };
        if info.origin.is_empty() {
            return String::new();
        }
        match self.locator.as_ref().and_then(|l| l(&info.origin)) {
            Some((at, line)) => format!(", at {at}: `{}`", line.trim()),
            None => format!(", in `{}` (`{}`)", info.origin, first_line(&info.source)),
        }
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

/// The keys of a map value, for a hint (`has: a, b, c`); none for other values.
fn known_keys(parent: &Value) -> Option<String> {
    if parent.kind() != minijinja::value::ValueKind::Map {
        return None;
    }
    let keys: Vec<String> = parent.try_iter().ok()?.map(|k| k.to_string()).collect();
    Some(if keys.is_empty() {
        "it has no names".to_string()
    } else if keys.len() > 12 {
        format!("it has {}, …", keys[..12].join(", "))
    } else {
        format!("it has {}", keys.join(", "))
    })
}

fn first_line(source: &str) -> &str {
    source.lines().next().unwrap_or("").trim()
}

/// The chains of names a template reads from the run's roots (`env.X`, `vars.X`,
/// `steps.ID.captures.C`, `steps['ID']…`), each marked guarded when the template reads
/// it (or a longer chain starting with it) through `default` or tests it with
/// `is [not] defined|undefined|none`.
fn name_refs(tokens: &[Token], origin: &Arc<str>) -> Vec<NameRef> {
    let mut out: Vec<NameRef> = Vec::new();
    let mut guarded_chains: Vec<Vec<String>> = Vec::new();
    for i in 0..tokens.len() {
        let Token::Ident(root) = &tokens[i] else {
            continue;
        };
        if !CONTEXT_ROOTS.contains(root) {
            continue;
        }
        if i > 0 && matches!(tokens[i - 1], Token::Dot | Token::Pipe) {
            continue;
        }
        let mut path = Vec::new();
        let mut j = i + 1;
        loop {
            match (tokens.get(j), tokens.get(j + 1), tokens.get(j + 2)) {
                (Some(Token::Dot), Some(Token::Ident(n)), _) => {
                    path.push(n.to_string());
                    j += 2;
                }
                (Some(Token::BracketOpen), Some(Token::Str(n)), Some(Token::BracketClose)) => {
                    path.push(n.to_string());
                    j += 3;
                }
                _ => break,
            }
        }
        // A method call (`x.items()`) reads the map, not a name in it.
        if matches!(tokens.get(j), Some(Token::ParenOpen)) {
            path.pop();
        }
        let guarded = match (tokens.get(j), tokens.get(j + 1), tokens.get(j + 2)) {
            (Some(Token::Pipe), Some(Token::Ident(f)), _) => matches!(*f, "default" | "d"),
            (Some(Token::Ident("is")), Some(Token::Ident(t)), next) => {
                let t = if *t == "not" {
                    match next {
                        Some(Token::Ident(t)) => t,
                        _ => "",
                    }
                } else {
                    t
                };
                matches!(t, "defined" | "undefined" | "none")
            }
            _ => false,
        };
        let mut full = vec![root.to_string()];
        full.extend(path.iter().cloned());
        if guarded {
            guarded_chains.push(full);
        }
        out.push(NameRef {
            root: root.to_string(),
            path,
            guarded,
            origin: origin.clone(),
        });
    }
    // `x.y if x.y is defined else …`: every read of a tested chain is guarded.
    for r in &mut out {
        let mut full = vec![r.root.clone()];
        full.extend(r.path.iter().cloned());
        if guarded_chains
            .iter()
            .any(|g| full.len() >= g.len() && full[..g.len()] == g[..])
        {
            r.guarded = true;
        }
    }
    out
}

/// The ids a template reads as `steps.<id>` or `steps['<id>']`.
pub fn step_refs_in(source: &str) -> Vec<String> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    if !source.contains("steps") {
        return Vec::new();
    }
    let re = RE.get_or_init(|| {
        regex::Regex::new(
            r#"\bsteps\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*['"]([^'"]+)['"]\s*\])"#,
        )
        .expect("the step-reference pattern is a valid regex")
    });
    re.captures_iter(source)
        .filter_map(|c| {
            c.get(1)
                .or_else(|| c.get(2))
                .map(|m| m.as_str().to_string())
        })
        .collect()
}

/// The expression inside `{{ … }}` when the string is that and nothing else.
fn lone_expression(source: &str) -> Option<&str> {
    let inner = source.trim().strip_prefix("{{")?.strip_suffix("}}")?;
    let inner = inner.trim_start_matches('-').trim_end_matches('-');
    if inner.contains("{{") || inner.contains("}}") || inner.contains("{%") {
        return None;
    }
    Some(inner.trim())
}

/// A minijinja value as JSON; objects that render (datetimes) become strings.
pub fn to_json(v: &Value) -> Result<serde_json::Value, TemplateError> {
    serde_json::to_value(v).map_err(|e| TemplateError::new(format!("cannot convert to JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Templates {
        Templates::new("2025-11-05T13:46:54Z".parse().unwrap())
    }

    #[test]
    fn lone_expression_keeps_native_value() {
        let mut t = engine();
        let c = t.compile_text("{{ vars.n + 1 }}").unwrap();
        let ctx = crate::template::to_value(serde_json::json!({"vars": {"n": 41}}));
        assert_eq!(t.eval_json(&c, &ctx).unwrap(), serde_json::json!(42));
    }

    #[test]
    fn text_template_renders_string() {
        let mut t = engine();
        let c = t.compile_text("id={{ vars.n }}!").unwrap();
        let ctx = crate::template::to_value(serde_json::json!({"vars": {"n": 7}}));
        assert_eq!(t.render_string(&c, &ctx).unwrap(), "id=7!");
    }

    #[test]
    fn unknown_filter_function_and_variable_are_rejected_at_compile_time() {
        let mut t = engine();
        let e = t.compile_text("{{ now() | isoformatt }}").unwrap_err();
        assert!(e.message.contains("unknown filter `isoformatt`"), "{e}");
        let e = t.compile_text("a {{ nowww() }}").unwrap_err();
        assert!(e.message.contains("`nowww`"), "{e}");
        let e = t.compile_expr("x is definedd").unwrap_err();
        assert!(e.message.contains("unknown test `definedd`"), "{e}");
        let e = t.compile_text("{{ vars.x ").unwrap_err();
        assert!(e.message.contains("syntax error"), "{e}");
    }

    #[test]
    fn expression_with_braces_or_without() {
        let mut t = engine();
        let ctx = crate::template::to_value(serde_json::json!({"vars": {"a": true}}));
        let a = t.compile_expr("vars.a and true").unwrap();
        let b = t.compile_expr("{{ not vars.a }}").unwrap();
        assert!(t.eval_bool(&a, &ctx).unwrap());
        assert!(!t.eval_bool(&b, &ctx).unwrap());
    }

    #[test]
    fn strict_undefined_is_an_error() {
        let mut t = engine();
        let c = t.compile_text("{{ steps.missing.status }}").unwrap();
        let ctx = crate::template::to_value(serde_json::json!({"steps": {}}));
        assert!(t.eval(&c, &ctx).is_err());
    }
}
