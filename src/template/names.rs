//! Render stage: what a template reads, found from its tokens before it runs — the
//! names it takes from the run (`env.X`, `steps.ID…`, guarded or not), the step ids it
//! depends on, and the names of the filters, tests and globals the engine knows.
use std::collections::HashSet;
use std::sync::Arc;

use minijinja::machinery::{Token, tokenize};
use minijinja::syntax::SyntaxConfig;

use super::error::TemplateError;

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

/// Names a template may use besides the engine's functions.
pub(super) const CONTEXT_ROOTS: &[&str] = &[
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
pub(super) const BUILTIN_GLOBALS: &[&str] = &["range", "dict", "debug", "namespace"];
pub(super) const BUILTIN_FILTERS: &[&str] = &[
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
pub(super) const BUILTIN_TESTS: &[&str] = &[
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
/// The engine's own filters (the report adds its Markdown filters with
/// [`super::Templates::add_filters`]).
pub(super) const OWN_FILTERS: &[&str] = &["fromjson", "has_more"];

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
pub(super) fn lone_expression(source: &str) -> Option<&str> {
    let inner = source.trim().strip_prefix("{{")?.strip_suffix("}}")?;
    let inner = inner.trim_start_matches('-').trim_end_matches('-');
    if inner.contains("{{") || inner.contains("}}") || inner.contains("{%") {
        return None;
    }
    Some(inner.trim())
}

/// Unknown filters and tests, from the tokens (minijinja finds them only at render);
/// the names the template reads from the run.
pub(super) fn scan(
    source: &str,
    in_expr: bool,
    filters: &HashSet<&'static str>,
    origin: &Arc<str>,
) -> Result<Vec<NameRef>, TemplateError> {
    let tokens = tokenize(source, in_expr, SyntaxConfig::default())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TemplateError::from_mj(&e))?;
    for (i, (token, span)) in tokens.iter().enumerate() {
        let Token::Ident(name) = token else { continue };
        let prev = |back: usize| i.checked_sub(back).map(|j| &tokens[j].0);
        let line = Some(span.start_line as usize);
        if matches!(prev(1), Some(Token::Pipe)) && !filters.contains(name) {
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
    Ok(name_refs(&tokens, origin))
}
