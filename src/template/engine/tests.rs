//! Unit tests of `engine`.
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

/// The filter and test names the engine accepts are written out (minijinja lists none),
/// so each is checked against minijinja itself: a name it does not know would let a
/// typo through validation and fail at run time.
#[test]
fn every_listed_filter_and_test_is_one_minijinja_has() {
    let t = engine();
    let mut state_env = t.env.clone();
    state_env.set_fuel(None);
    let mut state = state_env.empty_state();
    for name in t.filter_names() {
        let err = state.apply_filter(name, &[Value::from("x")]).err();
        assert!(
            err.is_none_or(|e| e.kind() != minijinja::ErrorKind::UnknownFilter),
            "`{name}` is not a filter minijinja knows"
        );
    }
    for name in crate::template::names::BUILTIN_TESTS {
        let err = state.perform_test(name, &[Value::from("x")]).err();
        assert!(
            err.is_none_or(|e| e.kind() != minijinja::ErrorKind::UnknownTest),
            "`{name}` is not a test minijinja knows"
        );
    }
    // And the check can fail: a name minijinja does not have is told apart.
    let err = state
        .apply_filter("isoformatt", &[Value::from("x")])
        .unwrap_err();
    assert_eq!(err.kind(), minijinja::ErrorKind::UnknownFilter);
}
