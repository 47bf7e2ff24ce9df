//! Source stage, from outside: the source map on deep nesting and odd inputs — bounded,
//! never a panic, every span inside the text — and where serde_yaml's errors point.
/// serde_yaml errors: where they point, and the unknown field read from the message.
mod serde_errors {
    use qtscen::source::{SourceMap, Span, span_of_serde_yaml_error, unknown_field};
    use std::collections::BTreeMap;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Http {
        method: String,
        #[serde(default)]
        path: String,
        #[serde(default)]
        retries: u32,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Step {
        name: String,
        http: Http,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Scenario {
        steps: Vec<Step>,
    }

    fn span_for<T: serde::de::DeserializeOwned + std::fmt::Debug>(text: &str) -> Span {
        let err = serde_yaml::from_str::<T>(text).unwrap_err();
        let map = SourceMap::build(text).unwrap_or_default();
        span_of_serde_yaml_error(&err, text, &map).unwrap()
    }

    #[test]
    fn unknown_field_points_at_key() {
        let text = "steps:\n  - name: a\n    http:\n      methd: GET\n";
        assert_eq!(span_for::<Scenario>(text), Span::new(4, 7, 5));
    }

    #[test]
    fn unknown_field_quoted_key_and_cyrillic() {
        let text = "steps:\n  - name: имя\n    http: {method: GET, \"метод\": x}\n";
        assert_eq!(span_for::<Scenario>(text), Span::new(3, 25, 7));
    }

    #[test]
    fn unknown_field_crlf_and_tabs() {
        let text = "steps:\r\n  - name: a\r\n    http:\r\n      method: GET\r\n      bogus:\t1\r\n";
        assert_eq!(span_for::<Scenario>(text), Span::new(5, 7, 5));
    }

    #[test]
    fn invalid_type_widens_to_scalar() {
        let text = "steps:\n  - name: a\n    http:\n      method: GET\n      retries: many # c\n";
        assert_eq!(span_for::<Scenario>(text), Span::new(5, 16, 4));
    }

    #[test]
    fn missing_field_is_a_point() {
        let text = "steps:\n  - name: a\n    http:\n      path: /x\n";
        let span = span_for::<Scenario>(text);
        assert!(span.line >= 3, "{span:?}");
    }

    #[test]
    fn syntax_error_has_location() {
        let text = "a: [1, 2\nb: 3\n";
        let span = span_for::<BTreeMap<String, serde_yaml::Value>>(text);
        assert!(span.line >= 1 && span.len == 1, "{span:?}");
    }

    #[test]
    fn unknown_field_message() {
        let m = "steps[0].http: unknown field `methd`, expected one of `method`, `path` at line 4 column 7";
        assert_eq!(unknown_field(m), Some(("methd", vec!["method", "path"])));
        let m = "unknown field `x`, expected `y`";
        assert_eq!(unknown_field(m), Some(("x", vec!["y"])));
        assert_eq!(unknown_field("invalid type: map"), None);
    }
}

/// Deep nesting and odd inputs: bounded, never a panic, every span inside the text.
mod odd_inputs {
    use qtscen::source::{Diagnostic, PathSeg, SourceFile, SourceMap, YamlPath, render};

    fn map(text: &str) -> SourceMap {
        SourceMap::build(text).unwrap()
    }

    /// A small scenario with block and flow collections, quoted and plain scalars.
    const SCENARIO: &str = include_str!("fixtures/source/scenario.yaml");

    #[test]
    fn deep_nesting_is_bounded() {
        // Within yaml-rust2's own recursion limit: recorded down to MAX_DEPTH.
        let text = "[".repeat(200) + &"]".repeat(200);
        let m = map(&text);
        assert!(m.paths().len() <= 130, "{}", m.paths().len());
        let deep: YamlPath = std::iter::repeat_n(PathSeg::Index(0), 199).collect();
        assert_eq!(m.nearest(&deep).map(|s| s.line), Some(1));
        // Far beyond it: an error, not a crash.
        for text in [
            "[".repeat(2000) + &"]".repeat(2000),
            "- ".repeat(2000) + "x",
            (0..1000)
                .map(|i| format!("{}k:\n", " ".repeat(i)))
                .collect(),
        ] {
            let _ = SourceMap::build(&text);
        }
    }

    /// Every recorded span must land inside the text.
    fn check_spans(text: &str, m: &SourceMap) {
        let file = SourceFile::new("t", text);
        for path in m.paths() {
            for span in m.value(&path).into_iter().chain(m.key(&path)) {
                let line = file.line(span.line);
                let ok = line.is_some_and(|l| span.col <= l.chars().count() + 1);
                assert!(ok, "{path}: {span:?} outside {text:?}");
            }
        }
    }

    #[test]
    fn odd_inputs_never_panic() {
        let samples = [
            "",
            " ",
            "\t",
            "\n",
            "\r",
            "\r\n",
            "---",
            "...",
            "- ",
            "-",
            ":",
            "? ",
            "[",
            "]",
            "{",
            "}",
            "{a",
            "[a,",
            "&a",
            "*a",
            "&a *a",
            "a: &x\nb: *x",
            "!!",
            "!x y",
            "%YAML 1.2\n---\na: 1",
            "%FOO\n",
            "a:\n\t b: 1",
            "a:\tb",
            "\ta: 1",
            "a: |\n\tx",
            "a: >\n x\n\ty",
            "'",
            "\"",
            "\"\\",
            "\"\\x4\"",
            "a: 'b''",
            "- - - - [[[{{{",
            "a: [b, {c: [d, {e: f}]}]",
            "? a\n? b\n: c",
            "a: b\n  c: d",
            "a:\n  - b\n c: d",
            "\u{feff}a: 1",
            "a: \u{0}b",
            "ключ: [значение, {вложенный: да}]",
            "a: \u{2028}b\u{85}c",
            "x: 1\n---\n- y\n---\nz",
            "a: !!binary |\n  aGVsbG8=",
            "a: 1\na: 2\na: 3",
            "- &a [*a]",
            "<<: *a",
            "a: @b",
            "a: `b",
            "{a: 1, a: 2}",
            "[a: 1, : 2]",
            "- ? a\n  : b",
            "a: |2-\n   x",
            "a: |0\n x",
            "\r\r\r- a\r- b",
            "#\n#\n#",
            "a: b # c\n# d\ne: f",
        ];
        let mut texts: Vec<String> = samples.iter().map(|s| (*s).to_owned()).collect();
        // Cheap deterministic mutations of a real scenario.
        let base: Vec<char> = SCENARIO.chars().collect();
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let noise = [
            '\t', ':', '-', '[', '{', '}', ']', '\'', '"', '&', '*', '\n', ' ', '#', '|', 'ж',
        ];
        for _ in 0..400 {
            let mut chars = base.clone();
            for _ in 0..3 {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let at = (seed >> 33) as usize % chars.len();
                let c = noise[(seed >> 20) as usize % noise.len()];
                match (seed >> 10) % 3 {
                    0 => chars[at] = c,
                    1 => chars.insert(at, c),
                    _ => {
                        chars.remove(at);
                    }
                }
            }
            texts.push(chars.into_iter().collect());
        }
        let mut ok = 0;
        for text in &texts {
            let file = SourceFile::new("fuzz.yaml", text.as_str());
            match SourceMap::build(text) {
                Ok(m) => {
                    ok += 1;
                    check_spans(text, &m);
                    for path in m.paths() {
                        let d = Diagnostic::error("x").with_span(m.nearest(&path));
                        let _ = render(&d, Some(&file), true);
                    }
                }
                Err(e) => {
                    let d = e.to_diagnostic(Some("fuzz.yaml"));
                    let out = render(&d, Some(&file), false);
                    assert!(out.starts_with("error: invalid YAML"));
                }
            }
        }
        assert!(ok > 20, "only {ok} inputs parsed");
    }
}
