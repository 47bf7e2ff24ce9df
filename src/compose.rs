//! Load stage: composition — `include:` of other YAML files, YAML merge keys (`<<:`) and
//! top-level `x-…` keys holding anchors — resolved into one YAML value before it is read
//! as a Scenario. YAML access stays here, in `load.rs` and in `source/`.
use std::path::{Path, PathBuf};

use serde_yaml::{Mapping, Value};

use crate::source::{Diagnostic, SourceMap, YamlPath};
use crate::yp;

/// Whether `text` uses anything this module resolves (otherwise it is read directly,
/// keeping serde_yaml's own error locations).
pub(crate) fn needs_compose(text: &str) -> bool {
    text.contains("<<")
        || text
            .lines()
            .any(|l| l.starts_with("x-") || l.starts_with("include:"))
}

/// The YAML of the file at `path` (its text `text`) with its includes merged in (paths
/// relative to it), merge keys applied and top-level `x-…` keys removed. `chain` holds
/// the files being included, outermost first, to refuse cycles.
pub(crate) fn compose(
    path: &Path,
    text: &str,
    chain: &mut Vec<PathBuf>,
    limits: &crate::scenario::Limits,
) -> Result<Value, Vec<Diagnostic>> {
    compose_with(path, text, chain, limits, None)
}

/// The `with:` an include gives: the params' values, and how to report one the included
/// file does not declare (given its name and the declared ones; located in the including
/// file).
struct With<'a> {
    values: &'a Mapping,
    unknown: &'a dyn Fn(&str, &[String]) -> Vec<Diagnostic>,
}

/// [`compose`] for an included file given `with` (its params' values), if any.
fn compose_with(
    path: &Path,
    text: &str,
    chain: &mut Vec<PathBuf>,
    limits: &crate::scenario::Limits,
    with: Option<With<'_>>,
) -> Result<Value, Vec<Diagnostic>> {
    let name = path.display().to_string();
    let located = |message: String, at: &YamlPath| {
        let span = SourceMap::build(text)
            .ok()
            .and_then(|map| map.value(at).or_else(|| map.nearest(at)));
        vec![
            Diagnostic::error(message)
                .with_file(name.clone())
                .with_span(span),
        ]
    };
    let mut value: Value = serde_yaml::from_str(text).map_err(|e| {
        vec![
            Diagnostic::error(e.to_string())
                .with_file(name.clone())
                .with_span(crate::source::span_of_serde_yaml_error(
                    &e,
                    text,
                    &SourceMap::build(text).unwrap_or_default(),
                )),
        ]
    })?;
    value
        .apply_merge()
        .map_err(|e| located(format!("merge key: {e}"), &YamlPath::root()))?;
    if let Some(with) = &with {
        // Every param given must be declared (read from this one parse of the file).
        let declared: Vec<String> = value
            .get("params")
            .and_then(Value::as_mapping)
            .map(|m| m.keys().map(key_text).collect())
            .unwrap_or_default();
        if let Some(k) = with
            .values
            .keys()
            .find(|k| !declared.contains(&key_text(k)))
        {
            return Err((with.unknown)(&key_text(k), &declared));
        }
    }
    let Some(map) = value.as_mapping_mut() else {
        return Ok(value);
    };
    let declared = map.remove("params");
    if declared.is_some() || text.contains("params.") {
        let declared = declared.unwrap_or(Value::Mapping(Mapping::new()));
        let Some(declared) = declared.as_mapping() else {
            return Err(located(
                "`params` maps each param of this file to its default (`~` when required)".into(),
                &yp!["params"],
            ));
        };
        let given = with.map(|w| w.values.clone()).unwrap_or_default();
        let mut values = Mapping::new();
        for (k, default) in declared {
            match given.get(k).or((!default.is_null()).then_some(default)) {
                Some(v) => values.insert(k.clone(), v.clone()),
                None => {
                    let name = key_text(k);
                    return Err(located(
                        format!(
                            "param `{name}` is required: give it in the include's `with: {{ {name}: … }}`"
                        ),
                        &yp!["params"],
                    ));
                }
            };
        }
        let mut problem = None;
        substitute(&mut value, &values, YamlPath::root(), &mut problem);
        if let Some((at, name)) = problem {
            let names: Vec<String> = values.keys().map(key_text).collect();
            return Err(located(
                format!(
                    "`params.{name}` is not a param of this file (its `params:` declare {})",
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                ),
                &at,
            ));
        }
    }
    let Some(map) = value.as_mapping_mut() else {
        return Ok(value);
    };
    map.retain(|k, _| !k.as_str().is_some_and(|k| k.starts_with("x-")));
    let includes = map.remove("include");
    let mut base = Value::Mapping(Default::default());
    let Some(includes) = includes else {
        return Ok(value);
    };
    let Some(list) = includes.as_sequence() else {
        return Err(located(
            "`include` is a list of YAML files, relative to this one".into(),
            &yp!["include"],
        ));
    };
    let dir = path.parent().unwrap_or(Path::new(""));
    for (i, item) in list.iter().enumerate() {
        let at = yp!["include", i];
        let (rel, with) = match item {
            Value::String(rel) => (rel.as_str(), None),
            Value::Mapping(m) => match (m.get("file").and_then(Value::as_str), m.get("with")) {
                (Some(rel), None | Some(Value::Mapping(_)))
                    if m.keys()
                        .all(|k| matches!(k.as_str(), Some("file" | "with"))) =>
                {
                    (rel, m.get("with").and_then(Value::as_mapping))
                }
                _ => {
                    return Err(located(
                        "an include is a file path, or `{ file: PATH, with: { PARAM: VALUE } }`"
                            .into(),
                        &at,
                    ));
                }
            },
            _ => return Err(located("an include is a file path".into(), &at)),
        };
        let file = dir.join(rel);
        let shown = file.display().to_string();
        crate::prescan::check_size(&file, &shown, Some(limits)).map_err(|d| vec![*d])?;
        let read = std::fs::read_to_string(&file).and_then(|t| Ok((file.canonicalize()?, t)));
        let (canonical, sub_text) = match read {
            Ok(pair) => pair,
            Err(e) => {
                return Err(located(
                    format!("cannot read include `{}`: {e}", file.display()),
                    &at,
                ));
            }
        };
        if let Some(first) = chain.iter().position(|c| *c == canonical) {
            let names: Vec<String> = chain[first..]
                .iter()
                .chain([&canonical])
                .map(|p| p.display().to_string())
                .collect();
            return Err(located(
                format!("include cycle: {}", names.join(" → ")),
                &at,
            ));
        }
        crate::prescan::check_nesting(&sub_text, &shown, limits).map_err(|d| vec![*d])?;
        chain.push(canonical);
        let unknown = |name: &str, declared: &[String]| {
            let names: Vec<&str> = declared.iter().map(String::as_str).collect();
            let hint = crate::source::did_you_mean(name, &names)
                .map(|n| format!("; did you mean `{n}`?"))
                .unwrap_or_default();
            let list = if declared.is_empty() {
                "none".to_string()
            } else {
                declared.join(", ")
            };
            located(
                format!("`{name}` is not a param of `{rel}` (its `params:` declare {list}){hint}"),
                &at.at("with").at(name),
            )
        };
        let with = with.map(|values| With {
            values,
            unknown: &unknown,
        });
        let sub = compose_with(&file, &sub_text, chain, limits, with);
        chain.pop();
        merge(&mut base, sub?, true);
    }
    merge(&mut base, value, true);
    Ok(base)
}

fn key_text(k: &Value) -> String {
    match k {
        Value::String(s) => s.clone(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

/// Replaces `{{ params.NAME }}` in every string of `v` (keys included): a string that is
/// only that becomes the param's value as written (a number stays a number), otherwise
/// the value's text is put in its place. `problem` receives the YAML path and name of
/// the first param that is not declared.
fn substitute(
    v: &mut Value,
    params: &Mapping,
    at: YamlPath,
    problem: &mut Option<(YamlPath, String)>,
) {
    match v {
        Value::String(s) if s.contains("params") => {
            let re = param_pattern();
            if let Some(c) = re.captures(s).filter(|c| &c[0] == s.trim()) {
                match params.get(&c[1]) {
                    Some(p) => *v = p.clone(),
                    None => *problem = problem.take().or(Some((at, c[1].to_string()))),
                }
                return;
            }
            let mut missing = None;
            let out = re.replace_all(s, |c: &regex::Captures| match params.get(&c[1]) {
                Some(p) => key_text(p),
                None => {
                    missing.get_or_insert_with(|| c[1].to_string());
                    c[0].to_string()
                }
            });
            if let Some(name) = missing {
                *problem = problem.take().or(Some((at, name)));
            }
            *s = out.into_owned();
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                substitute(item, params, at.at(i), problem);
            }
        }
        Value::Mapping(m) => {
            let old = std::mem::take(m);
            for (mut k, mut item) in old {
                let name = key_text(&k);
                let path = at.at(name);
                substitute(&mut k, params, path.clone(), problem);
                substitute(&mut item, params, path, problem);
                m.insert(k, item);
            }
        }
        Value::Tagged(t) => substitute(&mut t.value, params, at, problem),
        _ => {}
    }
}

fn param_pattern() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"\{\{-?\s*params\.([A-Za-z_][A-Za-z0-9_]*)\s*-?\}\}")
            .expect("the param pattern is a valid regex")
    })
}

/// Merges `over` into `base`: mappings key by key (`over` wins), the top level's `steps`
/// appended (the included ones first), anything else replaced.
fn merge(base: &mut Value, over: Value, top: bool) {
    match (base, over) {
        (Value::Mapping(b), Value::Mapping(o)) => {
            for (k, v) in o {
                let steps = top && k.as_str() == Some("steps");
                match b.get_mut(&k) {
                    Some(Value::Sequence(existing)) if steps => {
                        if let Value::Sequence(more) = v {
                            existing.extend(more);
                        }
                    }
                    Some(existing) => merge(existing, v, false),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}
