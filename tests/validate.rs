//! `qtscen validate`: every kind of mistake is named with file:line:col; nothing runs.
mod support;

use support::qtscen;

fn validate(yaml: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.yaml"), yaml).unwrap();
    let (code, stdout, stderr) = qtscen(&["validate", "s.yaml"], dir.path());
    (code, format!("{stdout}{stderr}"))
}

const OK_HEAD: &str = "name: t\ndefaults:\n  http:\n    base_url: http://127.0.0.1:9\nsteps:\n";

fn expect_error(body: &str, location: &str, words: &str) {
    let (code, out) = validate(&format!("{OK_HEAD}{body}"));
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains(&format!("--> s.yaml:{location}")),
        "want s.yaml:{location}\n{out}"
    );
    assert!(out.contains(words), "want `{words}`\n{out}");
}

#[test]
fn a_valid_scenario_passes() {
    let (code, out) = validate(&format!("{OK_HEAD}  - id: a\n    http: {{ path: /x }}\n"));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ok: s.yaml (1 steps)"));
}

#[test]
fn yaml_syntax_error() {
    expect_error("  - id: a\n    http: { path: /x\n", "7:", "invalid YAML");
}

#[test]
fn unknown_field_with_a_suggestion() {
    expect_error(
        "  - id: a\n    http:\n      methd: GET\n      path: /x\n",
        "8:7",
        "did you mean `method`?",
    );
}

#[test]
fn wrong_type() {
    expect_error(
        "  - id: a\n    critical: sometimes\n    http: { path: /x }\n",
        "7:15",
        "invalid type",
    );
}

#[test]
fn missing_action() {
    expect_error(
        "  - id: a\n    title: nothing to do\n",
        "6:5",
        "does nothing",
    );
}

#[test]
fn duplicate_ids() {
    expect_error(
        "  - id: a\n    http: { path: /x }\n  - id: a\n    http: { path: /y }\n",
        "8:9",
        "duplicate step id `a`",
    );
}

#[test]
fn unknown_method() {
    expect_error(
        "  - id: a\n    http: { method: FETCH, path: /x }\n",
        "7:21",
        "unknown method `FETCH`",
    );
}

#[test]
fn template_syntax_error() {
    expect_error(
        "  - id: a\n    http: { path: \"/x/{{ vars.id \" }\n",
        "7:19",
        "template error",
    );
}

#[test]
fn unknown_template_filter() {
    expect_error(
        "  - id: a\n    http: { path: \"/x/{{ now() | isoformatt }}\" }\n",
        "7:19",
        "unknown filter `isoformatt`",
    );
}

#[test]
fn unknown_template_function() {
    expect_error(
        "  - id: a\n    http: { path: \"/x/{{ nowz() }}\" }\n",
        "7:19",
        "unknown variable or function `nowz`",
    );
}

#[test]
fn invalid_jsonpath() {
    expect_error(
        "  - id: a\n    http: { path: /x }\n    assert:\n      - jsonpath: \"$.data[\"\n        exists: true\n",
        "9:19",
        "invalid JSONPath",
    );
}

#[test]
fn invalid_regex() {
    expect_error(
        "  - id: a\n    http: { path: /x }\n    assert:\n      - body: { matches: \"(unclosed\" }\n",
        "9:26",
        "invalid regex",
    );
}

#[test]
fn reference_to_an_undefined_step() {
    expect_error(
        "  - id: a\n    needs: [ghost]\n    http: { path: /x }\n",
        "7:13",
        "needs `ghost`, a step that does not exist",
    );
}

#[test]
fn template_reading_a_missing_or_later_step() {
    expect_error(
        "  - id: a\n    http: { path: \"/x/{{ steps.ghost.captures.id }}\" }\n",
        "7:19",
        "refers to `ghost`, a step that does not exist",
    );
    expect_error(
        "  - id: a\n    http: { path: /x }\n    assert:\n      - expr: \"steps.b.passed\"\n  - id: b\n    http: { path: /y }\n",
        "9:15",
        "refers to `b`, a step that runs later",
    );
}

#[test]
fn fallback_to_an_undefined_step() {
    expect_error(
        "  - id: a\n    http: { path: /x }\n    fallback: { step: ghost }\n",
        "8:23",
        "no step has id `ghost`",
    );
}

#[test]
fn two_subjects_in_one_assertion() {
    expect_error(
        "  - id: a\n    http: { path: /x }\n    assert:\n      - status: 200\n        jsonpath: $.a\n",
        "10:19",
        "one subject",
    );
}

#[test]
fn a_missing_file_and_a_bad_command_line_are_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = qtscen(&["validate", "nope.yaml"], dir.path());
    assert_eq!(code, 2);
    assert!(err.contains("cannot read scenario `nope.yaml`"), "{err}");
    let (code, _, _) = qtscen(&["run"], dir.path());
    assert_eq!(code, 2);
    let (code, _, err) = qtscen(&["run", "x.yaml", "--now", "yesterday"], dir.path());
    assert_eq!(code, 2);
    assert!(err.contains("RFC 3339"), "{err}");
}

#[test]
fn garbage_input_never_panics() {
    for text in [
        "",
        "---",
        "[]",
        "steps: 3",
        "\u{0}\u{1}",
        "name: x\nsteps: [{id: 1}]",
        "a: &a [*a]",
        "name: [\n",
    ] {
        let (code, out) = validate(text);
        assert_eq!(code, 2, "{text:?}: {out}");
        assert!(!out.contains("panicked"), "{out}");
    }
}

#[test]
fn every_checked_in_scenario_validates_and_the_schema_is_current() {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut n = 0;
    for entry in std::fs::read_dir(format!("{root}/scenarios")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let (code, out, err) = qtscen(
                &["validate", path.to_str().unwrap()],
                std::path::Path::new(root),
            );
            assert_eq!(code, 0, "{}: {out}{err}", path.display());
            n += 1;
        }
    }
    assert!(n >= 1);
    let (code, schema, _) = qtscen(&["schema"], std::path::Path::new(root));
    assert_eq!(code, 0);
    let checked_in =
        std::fs::read_to_string(format!("{root}/schemas/scenario.schema.json")).unwrap();
    assert_eq!(
        schema, checked_in,
        "schemas/scenario.schema.json is stale: run `qtscen schema > schemas/scenario.schema.json`"
    );
}
