//! The module graph of `src/` (README "Architecture"): every `crate::…` and `super::…`
//! path a module names is an edge to the module that holds it. The command layer goes
//! one way — `commands` → `suite` → `pipeline` → the stages, with `error` below them —
//! and no module sits on an import cycle.
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The stages of `src/`, lowest first (README "Architecture"): a module names modules of
/// its own stage or of the stages below it, never one above.
const STAGES: &[&[&str]] = &[
    // What every stage stands on: located text and diagnostics, time zones, the
    // Redactor, the run record, the scenario's types, the one error type.
    &[
        "source", "zones", "secrets", "record", "scenario", "curl", "schema", "error",
    ],
    // The template engine (minijinja, the helpers QA write).
    &["template"],
    // Load: the file read, composed (`include:`) and deserialized.
    &["prescan", "compose", "load"],
    // Assertions, and the compiled plan built from them.
    &["assert"],
    &["plan"],
    // The executors (HTTP, SQL, processes) and the evidence writer (the run folder's
    // files, masked), then validation, which checks the scenario against them and
    // compiles the plan.
    &["exec", "evidence"],
    &["validate"],
    // Run, then report what ran.
    &["runner"],
    &["report"],
    // The command layer: the command line's types, what every command shares, suites,
    // the commands.
    &["cli"],
    &["pipeline"],
    &["suite"],
    &["commands"],
];

fn stage_of(module: &str) -> usize {
    let top = top(module);
    STAGES
        .iter()
        .position(|s| s.contains(&top))
        .unwrap_or_else(|| panic!("`{top}` is in no stage: add it to STAGES"))
}

/// Module path (`validate::steps`) → the modules it names.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect(&src, &mut files);
    let mut texts = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap().with_extension("");
        let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into()).collect();
        if parts.last().is_some_and(|p| p == "mod") {
            parts.pop();
        }
        if parts.is_empty() || ["lib", "main", "bin"].contains(&parts[0].as_str()) {
            continue;
        }
        // Unit tests (`foo/tests.rs`) may reach anywhere.
        if parts.last().is_some_and(|p| p == "tests") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        // Unit tests may reach anywhere.
        let text = text.split("#[cfg(test)]").next().unwrap_or("").to_string();
        texts.insert(parts.join("::"), (parts, text));
    }
    let modules: BTreeSet<String> = texts.keys().cloned().collect();
    // The longest module that is a prefix of `path`.
    let resolve = |path: &[&str]| -> Option<String> {
        (1..=path.len())
            .rev()
            .map(|n| path[..n].join("::"))
            .find(|m| modules.contains(m))
    };
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut edges = BTreeMap::new();
    for (name, (parts, text)) in &texts {
        let mut out = BTreeSet::new();
        for (root, base) in [
            ("crate::", Vec::new()),
            ("super::", parts[..parts.len() - 1].to_vec()),
        ] {
            for (at, _) in text.match_indices(root) {
                if at > 0 && text[..at].ends_with(|c: char| word(c) || c == ':') {
                    continue;
                }
                let rest = &text[at + root.len()..];
                // `crate::{a, b::c}` names several.
                let paths: Vec<String> = if let Some(group) = rest.strip_prefix('{') {
                    let group = &group[..group.find('}').unwrap_or(0)];
                    group.split(',').map(|p| p.trim().to_string()).collect()
                } else {
                    vec![
                        rest.split(|c: char| !word(c) && c != ':')
                            .next()
                            .unwrap_or("")
                            .to_string(),
                    ]
                };
                for p in paths {
                    let mut path: Vec<&str> = base.iter().map(String::as_str).collect();
                    path.extend(p.split("::").filter(|s| !s.is_empty()));
                    if let Some(m) = resolve(&path).filter(|m| m != name) {
                        out.insert(m);
                    }
                }
            }
        }
        edges.insert(name.clone(), out);
    }
    edges
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every module reachable from `from`.
fn reach(edges: &BTreeMap<String, BTreeSet<String>>, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from.to_string()];
    while let Some(m) = todo.pop() {
        for next in edges.get(&m).into_iter().flatten() {
            if seen.insert(next.clone()) {
                todo.push(next.clone());
            }
        }
    }
    seen
}

fn top(module: &str) -> &str {
    module.split("::").next().unwrap_or(module)
}

#[test]
fn no_module_is_on_an_import_cycle() {
    let edges = graph();
    assert!(edges.contains_key("commands") && edges.contains_key("validate::ctx"));
    let mut cyclic = Vec::new();
    for m in edges.keys() {
        let back: Vec<String> = reach(&edges, m)
            .into_iter()
            .filter(|other| reach(&edges, other).contains(m))
            .collect();
        if !back.is_empty() {
            cyclic.push(format!("{m} ↔ {back:?}"));
        }
    }
    assert!(cyclic.is_empty(), "import cycles:\n{}", cyclic.join("\n"));
}

#[test]
fn the_command_layer_imports_downwards_only() {
    let edges = graph();
    // A layer, and the layers it must not name.
    let rules: &[(&str, &[&str])] = &[
        ("suite", &["commands"]),
        ("pipeline", &["commands", "suite"]),
        ("error", &["commands", "suite", "pipeline"]),
    ];
    let mut wrong = Vec::new();
    for (from, to) in &edges {
        for target in to {
            let upward = if top(target) == "commands" {
                top(from) != "commands"
            } else {
                rules
                    .iter()
                    .any(|(layer, above)| top(from) == *layer && above.contains(&top(target)))
            };
            // Below the command layer, nothing names it.
            let stage_up = !["commands", "suite", "pipeline", "error"].contains(&top(from))
                && ["commands", "suite", "pipeline"].contains(&top(target));
            if upward || stage_up {
                wrong.push(format!("{from} → {target}"));
            }
        }
    }
    assert!(wrong.is_empty(), "upward imports:\n{}", wrong.join("\n"));
}

#[test]
fn validate_parts_share_only_ctx() {
    let edges = graph();
    for (from, to) in edges.iter().filter(|(m, _)| m.starts_with("validate::")) {
        assert!(
            !to.contains("validate"),
            "{from} imports validate/mod.rs; siblings share validate::ctx"
        );
    }
    let ctx = &edges["validate::ctx"];
    assert!(
        ctx.iter().all(|m| top(m) != "validate"),
        "validate::ctx imports {ctx:?}"
    );
}

#[test]
fn every_stage_imports_only_its_own_and_the_stages_below() {
    let edges = graph();
    let mut wrong = Vec::new();
    for (from, to) in &edges {
        for target in to {
            if stage_of(target) > stage_of(from) {
                wrong.push(format!("{from} → {target}"));
            }
        }
    }
    assert!(wrong.is_empty(), "upward imports:\n{}", wrong.join("\n"));
}
