//! Load stage: composition — `include:` of other YAML files, YAML merge keys (`<<:`) and
//! top-level `x-…` keys holding anchors — resolved into one YAML value before it is read
//! as a Scenario. YAML access stays here, in `load.rs` and in `source/`.
use std::path::{Path, PathBuf};

use serde_yaml::Value;

use crate::source::{Diagnostic, SourceMap, YamlPath};

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
    let name = path.display().to_string();
    let located = |message: String, at: &str| {
        let span = YamlPath::parse(at).ok().and_then(|yp| {
            let map = SourceMap::build(text).ok()?;
            map.value(&yp).or_else(|| map.nearest(&yp))
        });
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
                .with_span(crate::source::span_of_serde_yaml_error(&e, text)),
        ]
    })?;
    value
        .apply_merge()
        .map_err(|e| located(format!("merge key: {e}"), ""))?;
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
            "include",
        ));
    };
    let dir = path.parent().unwrap_or(Path::new(""));
    for (i, item) in list.iter().enumerate() {
        let at = format!("include[{i}]");
        let Some(rel) = item.as_str() else {
            return Err(located("an include is a file path".into(), &at));
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
        let sub = compose(&file, &sub_text, chain, limits);
        chain.pop();
        merge(&mut base, sub?, true);
    }
    merge(&mut base, value, true);
    Ok(base)
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
