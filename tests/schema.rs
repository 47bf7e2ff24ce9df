//! The published schemas: `schemas/scenario.schema.json` (what a scenario may hold, for
//! editors) and `schemas/results.schema.json` (what results.json holds, for readers of
//! the record). Both are generated (`qtscen schema [results]`) and checked in; these
//! tests keep them current (`QTSCEN_BLESS=1 cargo test --test schema` writes them) and
//! hold them to what `validate` accepts and what a run writes.
mod support;

use std::path::{Path, PathBuf};

use qtickets_sandbox::{FaultKind, FaultRule};
use serde_json::{Value, json};
use support::*;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn checked_in(which: &str) -> Value {
    let path = root().join(format!("schemas/{which}.schema.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn validator(which: &str) -> jsonschema::Validator {
    jsonschema::validator_for(&checked_in(which)).expect("the schema compiles")
}

/// What the validator has against `instance`, one line each.
fn errors(v: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    v.iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// A YAML scenario as the JSON an editor checks (`<<:` merge keys applied).
fn yaml_to_json(yaml: &str) -> Value {
    let mut v: serde_yaml::Value = serde_yaml::from_str(yaml).unwrap();
    v.apply_merge().unwrap();
    serde_json::to_value(v).unwrap()
}

/// `qtscen validate` on a scenario text: whether it is accepted, and what it said.
fn validate(yaml: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.yaml"), yaml).unwrap();
    let (code, out, err) = qtscen(&["validate", "s.yaml"], dir.path());
    assert!(code == 0 || code == 2, "{out}{err}");
    (code == 0, format!("{out}{err}"))
}

#[test]
fn the_schemas_are_current() {
    for (which, args) in [
        ("scenario", vec!["schema"]),
        ("results", vec!["schema", "results"]),
    ] {
        let (code, generated, err) = qtscen(&args, &root());
        assert_eq!(code, 0, "{err}");
        let path = root().join(format!("schemas/{which}.schema.json"));
        if std::env::var_os("QTSCEN_BLESS").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        assert!(
            std::fs::read_to_string(&path).unwrap() == generated,
            "schemas/{which}.schema.json is stale: run `QTSCEN_BLESS=1 cargo test --test schema`"
        );
        // The schema is valid JSON Schema 2020-12.
        let schema: Value = serde_json::from_str(&generated).unwrap();
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        assert!(jsonschema::meta::is_valid(&schema), "{which}");
    }
}

/// Every property of both schemas, at any depth, says what it is for.
#[test]
fn every_property_is_described() {
    fn walk(node: &Value, path: &str, missing: &mut Vec<String>) {
        match node {
            Value::Object(map) => {
                if let Some(Value::Object(props)) = map.get("properties") {
                    for (name, prop) in props {
                        let described = prop
                            .get("description")
                            .is_some_and(|d| d.as_str().is_some_and(|d| !d.trim().is_empty()));
                        // The oneOf alternatives only restate a property's type.
                        if !described && !path.contains("/oneOf") && !path.contains("/not") {
                            missing.push(format!("{path}/properties/{name}"));
                        }
                    }
                }
                for (k, v) in map {
                    walk(v, &format!("{path}/{k}"), missing);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, &format!("{path}/{i}"), missing);
                }
            }
            _ => {}
        }
    }
    for which in ["scenario", "results"] {
        let mut missing = Vec::new();
        walk(&checked_in(which), "", &mut missing);
        assert!(missing.is_empty(), "{which}: {missing:#?}");
    }
    // The predicate keys in particular.
    let scenario = checked_in("scenario");
    let predicate = &scenario["$defs"]["PredicateMap"]["properties"];
    for key in [
        "equals",
        "not_equals",
        "lt",
        "lte",
        "gt",
        "gte",
        "contains",
        "not_contains",
        "matches",
        "not_matches",
        "exists",
        "length",
        "lines",
        "type",
        "one_of",
    ] {
        assert!(predicate[key]["description"].is_string(), "{key}");
    }
}

/// A scenario with a step whose `timeout` is `duration` (as YAML).
fn with_timeout(duration: &str) -> String {
    fixture("schema/timeout.yaml").replace("DURATION", duration)
}

#[test]
fn the_duration_pattern_accepts_what_validate_accepts() {
    let v = validator("scenario");
    for (duration, ok) in [
        ("500ms", true),
        ("2s", true),
        ("48h", true),
        ("\"1h 30m\"", true),
        ("\"2 hours\"", true),
        ("\"1.5s\"", true),
        ("PT30S", true),
        ("\"30\"", true),
        ("30", true),
        ("1.5", true),
        ("\"5 parsecs\"", false),
        ("soon", false),
        ("\"-5s\"", false),
        ("-5", false),
        ("\"5s ago\"", false),
        ("\"30m 1h\"", false),
        ("\"1e3\"", false),
        ("2d", false),
        ("\"\"", false),
    ] {
        let yaml = with_timeout(duration);
        let (validated, out) = validate(&yaml);
        let schema_errors = errors(&v, &yaml_to_json(&yaml));
        assert_eq!(validated, ok, "validate on {duration}: {out}");
        assert_eq!(
            schema_errors.is_empty(),
            ok,
            "the schema on {duration}: {schema_errors:?}"
        );
    }
    // The same pattern is used by both.
    let pattern = checked_in("scenario")["$defs"]["Duration"]["oneOf"][0]["pattern"].clone();
    assert_eq!(pattern, json!(*qtscen::scenario::DURATION_PATTERN));
}

#[test]
fn a_step_has_at_most_one_action() {
    let v = validator("scenario");
    let head = "name: t\nsteps:\n";
    let cases = [
        (
            "  - id: a\n    http: { url: \"http://127.0.0.1:9/x\" }\n",
            true,
        ),
        (
            "  - id: a\n    http: { url: \"http://127.0.0.1:9/x\" }\n    exec: { program: \"true\" }\n",
            false,
        ),
        (
            "  - id: a\n    sql: { queries: { q: \"SELECT 1\" } }\n    docker: { run: { image: x } }\n",
            false,
        ),
        // A step that only computes or checks is fine …
        ("  - id: a\n    capture: { x: { expr: \"1\" } }\n", true),
        ("  - id: a\n    assert: [{ expr: \"true\" }]\n", true),
        // … one that does nothing is not.
        ("  - id: a\n    title: nothing\n", false),
        // An action set to null is no action.
        (
            "  - id: a\n    http: null\n    exec: { program: \"true\" }\n",
            true,
        ),
    ];
    for (steps, ok) in cases {
        let yaml = format!("{head}{steps}");
        let (validated, out) = validate(&yaml);
        let schema_errors = errors(&v, &yaml_to_json(&yaml));
        assert_eq!(validated, ok, "validate:\n{yaml}\n{out}");
        assert_eq!(
            schema_errors.is_empty(),
            ok,
            "the schema:\n{yaml}\n{schema_errors:?}"
        );
    }
}

/// Every scenario that ships, and the fixture of every step kind, passes both.
#[test]
fn checked_in_scenarios_and_fixtures_pass_the_schema() {
    let v = validator("scenario");
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.push(root().join("tests/fixtures/every_step_kind.yaml"));
    assert!(files.len() >= 3);
    for path in &files {
        let (code, out, err) = qtscen(&["validate", path.to_str().unwrap()], &root());
        assert_eq!(code, 0, "{}: {out}{err}", path.display());
        let doc = yaml_to_json(&std::fs::read_to_string(path).unwrap());
        let e = errors(&v, &doc);
        assert!(e.is_empty(), "{}: {e:#?}", path.display());
    }
    // The scenario head the tests run with, and the test of the report.
    for yaml in [
        with_head("schema/orders.yaml"),
        std::fs::read_to_string(root().join("scenarios/prod_smoke.yaml"))
            .unwrap()
            .replace("initial: 1s, max: 10s", "initial: 10ms, max: 20ms"),
    ] {
        let e = errors(&v, &yaml_to_json(&yaml));
        assert!(e.is_empty(), "{e:#?}\n{yaml}");
    }
}

fn results_of(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap()
}

/// results.json files written by real runs — retries, a failure, pages, a fallback, a
/// program, a computed step, skipped and unselected steps, `--step`, an empty run —
/// match the schema; a record that does not is caught.
#[test]
fn real_results_files_match_the_results_schema() {
    let v = validator("results");
    let sb = sandbox();
    sb.add_fault(FaultRule::new(Some("GET"), "/orders", FaultKind::Status(503)).with_times(1));
    sb.add_fault(FaultRule::new(
        Some("GET"),
        "/orders/404404",
        FaultKind::Status(503),
    ));
    let yaml = with_head("schema/every_kind_of_step.yaml");
    let c = case(&sb, &yaml);
    let mut checked = 0;
    for (args, code) in [
        (vec![], 1),
        (vec!["--tags", "local"], 0),
        (vec!["--step", "window"], 0),
        (vec!["--tags", "local", "--skip-tags", "local"], 1),
    ] {
        let out = run(&c, &args);
        assert_eq!(out.code, code, "{args:?}: {}{}", out.stdout, out.stderr);
        let record = results_of(&out.out_dir);
        let e = errors(&v, &record);
        assert!(e.is_empty(), "{args:?}: {e:#?}");
        checked += 1;
        assert_eq!(
            record["nothing_ran"].is_string(),
            args.contains(&"--skip-tags"),
            "{args:?}"
        );
        if args.contains(&"--step") {
            assert_eq!(record["only_steps"], json!(["window"]));
            assert_eq!(record["needed_steps"], json!(["orders"]));
        }
        if args.is_empty() {
            // The record holds what the schema is meant to cover.
            let steps = record["steps"].as_array().unwrap();
            let kinds: Vec<&str> = steps.iter().map(|s| s["kind"].as_str().unwrap()).collect();
            assert_eq!(kinds, ["http", "http", "http", "exec", "check", "http"]);
            assert!(steps[0]["attempts"].as_array().unwrap().len() >= 3);
            assert_eq!(steps[1]["used_fallback"], true);
            assert_eq!(
                steps[2]["attempts"][0]["transport_error"]["kind"],
                "refused"
            );
            assert_eq!(steps[5]["outcome"], "skipped");
            // A record that breaks the schema is caught: a wrong word, a missing field,
            // another record version, a wrong type deep inside.
            for (pointer, bad) in [
                ("/outcome", json!("weird")),
                ("/record_version", json!(2)),
                ("/steps/0/attempts/0/duration_ms", json!("12")),
                ("/steps/2/failure/class", json!("NoResponse")),
                ("/summary/passed", json!(-1)),
            ] {
                let mut broken = record.clone();
                *broken.pointer_mut(pointer).unwrap() = bad;
                assert!(!v.is_valid(&broken), "{pointer}");
            }
            let mut broken = record.clone();
            broken.as_object_mut().unwrap().remove("steps");
            assert!(!v.is_valid(&broken));
        }
        // `qtscen render` reads it back as it is.
        let (code, out, err) = qtscen(&["render", out.out_dir.to_str().unwrap()], c.dir.path());
        assert_eq!(code, 0, "{out}{err}");
    }
    assert_eq!(checked, 4);
}
