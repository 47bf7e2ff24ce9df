//! Source stage, from outside: where the source map puts keys and values — block and
//! flow style, sequences, multi-line strings, anchors, unicode/tabs/CRLF, documents,
//! duplicate keys — and where YAML syntax errors point.

/// The locations, one case per test.
mod locations {
    use qtscen::source::{SourceFile, SourceMap, Span, YamlPath};

    fn p(s: &str) -> YamlPath {
        YamlPath::root().join_relative(s)
    }

    fn sp(line: usize, col: usize, len: usize) -> Option<Span> {
        Some(Span::new(line, col, len))
    }

    fn map(text: &str) -> SourceMap {
        SourceMap::build(text).unwrap()
    }

    /// The text a span underlines, for readable assertions.
    fn under(text: &str, span: Option<Span>) -> String {
        let span = span.unwrap();
        let file = SourceFile::new("t", text);
        let line = file.line(span.line).unwrap();
        line.chars().skip(span.col - 1).take(span.len).collect()
    }

    /// A small scenario with block and flow collections, quoted and plain scalars.
    const SCENARIO: &str = include_str!("fixtures/source/scenario.yaml");

    #[test]
    fn block_nested_values_and_keys() {
        let m = map(SCENARIO);
        assert_eq!(m.value(&p("")), sp(1, 1, 1));
        assert_eq!(m.value(&p("name")), sp(1, 7, 10));
        assert_eq!(m.key(&p("name")), sp(1, 1, 4));
        assert_eq!(m.value(&p("steps")), sp(3, 3, 1));
        assert_eq!(m.key(&p("steps")), sp(2, 1, 5));
        assert_eq!(m.value(&p("steps[0]")), sp(3, 5, 1));
        assert_eq!(m.key(&p("steps[0]")), None);
        assert_eq!(m.value(&p("steps[0].http")), sp(5, 7, 1));
        assert_eq!(m.key(&p("steps[0].http")), sp(4, 5, 4));
        assert_eq!(m.value(&p("steps[0].http.method")), sp(5, 15, 3));
        assert_eq!(m.key(&p("steps[0].http.method")), sp(5, 7, 6));
        assert_eq!(
            under(SCENARIO, m.value(&p("steps[0].http.path"))),
            "\"/api/v1/orders\""
        );
        let where_ = p("steps[0].http.query.where");
        assert_eq!(under(SCENARIO, m.value(&where_)), "'status = ''paid'''");
        assert_eq!(under(SCENARIO, m.key(&where_)), "where");
        assert_eq!(m.key_or_value(&where_), m.key(&where_));
        assert_eq!(m.key_or_value(&p("steps[1]")), m.value(&p("steps[1]")));
    }

    #[test]
    fn flow_style() {
        let m = map(SCENARIO);
        let http = p("steps[1].http");
        assert_eq!(
            under(SCENARIO, m.value(&http)),
            "{method: POST, path: /x, headers: {X-Api.Key: k}}"
        );
        assert_eq!(under(SCENARIO, m.value(&http.at("method"))), "POST");
        assert_eq!(under(SCENARIO, m.key(&http.at("path"))), "path");
        let api_key = p("steps[1].http.headers").at("X-Api.Key");
        assert_eq!(under(SCENARIO, m.key(&api_key)), "X-Api.Key");
        assert_eq!(under(SCENARIO, m.value(&api_key)), "k");
        assert_eq!(m.keys_of(&http), ["method", "path", "headers"]);

        let text = "a: [1, 'two', [3, 4], {k: v}]\nb: [\n  x,\n  y\n]\nc: [p: 1]\n";
        let m = map(text);
        assert_eq!(under(text, m.value(&p("a"))), "[1, 'two', [3, 4], {k: v}]");
        assert_eq!(under(text, m.value(&p("a[1]"))), "'two'");
        assert_eq!(under(text, m.value(&p("a[2]"))), "[3, 4]");
        assert_eq!(under(text, m.value(&p("a[2][1]"))), "4");
        assert_eq!(under(text, m.value(&p("a[3].k"))), "v");
        assert_eq!(m.value(&p("b")), sp(2, 4, 1));
        assert_eq!(m.value(&p("b[1]")), sp(4, 3, 1));
        assert_eq!(m.value(&p("c[0]")), sp(6, 5, 1));
        assert_eq!(m.key(&p("c[0].p")), sp(6, 5, 1));
        assert_eq!(m.value(&p("c[0].p")), sp(6, 8, 1));
    }

    #[test]
    fn sequence_indices() {
        let text = "list:\n- a\n-\n- - x\n  -\n  - y\n-   # empty\n- last\n";
        let m = map(text);
        assert_eq!(m.value(&p("list")), sp(2, 1, 1));
        assert_eq!(m.value(&p("list[0]")), sp(2, 3, 1));
        assert_eq!(m.value(&p("list[1]")), sp(3, 1, 1));
        assert_eq!(m.value(&p("list[2]")), sp(4, 3, 1));
        assert_eq!(m.value(&p("list[2][0]")), sp(4, 5, 1));
        assert_eq!(m.value(&p("list[2][1]")), sp(5, 3, 1));
        assert_eq!(m.value(&p("list[2][2]")), sp(6, 5, 1));
        assert_eq!(m.value(&p("list[3]")), sp(7, 1, 1));
        assert_eq!(m.value(&p("list[4]")), sp(8, 3, 4));
        assert_eq!(m.value(&p("list[5]")), None);
        // Last entry empty, no trailing newline.
        let m = map("- a\n-");
        assert_eq!(m.value(&p("[1]")), sp(2, 1, 1));
    }

    #[test]
    fn multi_line_strings() {
        let text = "a: |\n  first line\n  second\nb: >-\n  folded\n  text\nc: |\nd: \"multi\n  line\"\ne: plain\n  continued\nf: |+\n\n  after blank\n";
        let m = map(text);
        assert_eq!(m.value(&p("a")), sp(2, 3, 10));
        assert_eq!(m.key(&p("a")), sp(1, 1, 1));
        assert_eq!(m.value(&p("b")), sp(5, 3, 6));
        // Empty block scalar: points at its key.
        assert_eq!(m.value(&p("c")), sp(7, 1, 1));
        assert_eq!(under(text, m.value(&p("d"))), "\"multi");
        assert_eq!(under(text, m.value(&p("e"))), "plain");
        assert_eq!(under(text, m.value(&p("f"))), "after blank");
        assert_eq!(m.keys_of(&p("")), ["a", "b", "c", "d", "e", "f"]);
    }

    #[test]
    fn implicit_nulls_point_at_the_key() {
        let text = "a:\nb: 1\nc:   # nothing\n";
        let m = map(text);
        assert_eq!(m.value(&p("a")), sp(1, 1, 1));
        assert_eq!(m.value(&p("c")), sp(3, 1, 1));
        assert_eq!(m.value(&p("b")), sp(2, 4, 1));
    }

    #[test]
    fn nearest_and_keys_of() {
        let m = map(SCENARIO);
        let http = p("steps[0].http");
        assert_eq!(m.nearest(&http.at("body")), m.value(&http));
        assert_eq!(m.nearest(&p("steps[7].http.x")), m.value(&p("steps")));
        assert_eq!(m.nearest(&p("nope.deeper")), m.value(&p("")));
        assert_eq!(m.nearest(&http), m.value(&http));
        assert_eq!(m.keys_of(&http), ["method", "path", "query"]);
        assert_eq!(m.keys_of(&p("steps")), Vec::<String>::new());
        assert_eq!(m.keys_of(&p("missing")), Vec::<String>::new());
        assert!(m.contains(&http) && !m.contains(&p("steps[2]")));
        assert_eq!(SourceMap::default().nearest(&http), None);
    }

    #[test]
    fn anchors_aliases_and_tags() {
        let text = "base: &b\n  method: GET\nuse: *b\nlist: [*b, &v !!str 5]\nmerged:\n  <<: *b\n  path: /x\n";
        let m = map(text);
        assert_eq!(m.value(&p("base")), sp(2, 3, 1));
        assert_eq!(under(text, m.value(&p("use"))), "*b");
        assert_eq!(m.value(&p("use.method")), None);
        assert_eq!(m.nearest(&p("use.method")), m.value(&p("use")));
        assert_eq!(under(text, m.value(&p("list[0]"))), "*b");
        assert_eq!(under(text, m.value(&p("list[1]"))), "5");
        assert_eq!(under(text, m.value(&p("merged").at("<<"))), "*b");
        assert_eq!(m.keys_of(&p("merged")), ["<<", "path"]);
    }

    #[test]
    fn unicode_tabs_and_crlf() {
        let text = "имя: \"Привет, мир\"\r\nключ:\r\n  вложенный: значение\r\nt:\t1\r\n";
        let m = map(text);
        assert_eq!(m.value(&p("имя")), sp(1, 6, 13));
        assert_eq!(m.key(&p("ключ.вложенный")), sp(3, 3, 9));
        assert_eq!(m.value(&p("ключ.вложенный")), sp(3, 14, 8));
        assert_eq!(m.value(&p("t")), sp(4, 4, 1));
    }

    #[test]
    fn documents_and_odd_inputs() {
        assert!(map("").is_empty());
        assert!(map("# only a comment\n").is_empty());
        assert!(map("\n\n   \n").is_empty());
        let m = map("---\na: 1\n...\n---\nb: 2\n");
        assert_eq!(m.value(&p("a")), sp(2, 4, 1));
        assert_eq!(m.value(&p("b")), None);
        assert_eq!(m.keys_of(&p("")), ["a"]);
        // A syntax error in a later document is not looked at.
        assert!(SourceMap::build("a: 1\n---\n[oops\n").is_ok());
        let m = map("just a scalar");
        assert_eq!(m.value(&p("")), sp(1, 1, 13));
        let m = map("--- !tag\n- x\n");
        assert_eq!(m.value(&p("[0]")), sp(2, 3, 1));
    }

    #[test]
    fn complex_and_duplicate_keys() {
        let text = "? [a, b]\n: v\n? {k: 1}\n: {inner: 2}\nd: 1\nd: {x: 2}\n";
        let m = map(text);
        assert_eq!(m.keys_of(&p("")), ["d"]);
        assert_eq!(m.value(&p("d")), sp(5, 4, 1));
        assert_eq!(m.value(&p("d.x")), None);
        assert_eq!(m.value(&p("inner")), None);
        assert_eq!(m.value(&p("k")), None);
    }

    #[test]
    fn syntax_errors() {
        let bad_indent = "steps:\n  - name: a\n   http: x\n";
        let err = SourceMap::build(bad_indent).unwrap_err();
        assert_eq!(err.span.line, 3, "{err:?}");
        assert!(!err.message.is_empty());

        let err = SourceMap::build("a: b: c\n").unwrap_err();
        assert_eq!(err.span, Span::new(1, 5, 1), "{err:?}");

        // Unclosed flow sequence at end of input: after the last character.
        let err = SourceMap::build("a: [1, 2\n\n").unwrap_err();
        assert_eq!(err.span.line, 1, "{err:?}");
        // Unterminated quote: at the opening quote.
        let err = SourceMap::build("a: \"open\n").unwrap_err();
        assert_eq!(err.span, Span::new(1, 4, 1), "{err:?}");

        let err = SourceMap::build("a: *nope\n").unwrap_err();
        assert_eq!(err.span.line, 1, "{err:?}");

        let err = SourceMap::build("list:\n  - a\n  b: c\n").unwrap_err();
        assert_eq!(err.span.line, 3, "{err:?}");
        let diag = err.to_diagnostic(Some("f.yaml"));
        assert_eq!(diag.span, Some(err.span));
        assert!(diag.message.starts_with("invalid YAML: "));
        assert!(err.to_string().contains("line 3"));

        // yaml-rust2 rejects tab indentation (libyaml too); the map is lenient
        // (serde_yaml reports it) and keeps character positions.
        let m = map("a:\n\t- b\n");
        assert_eq!(m.value(&p("a[0]")), sp(2, 4, 1));
    }

    #[test]
    fn many_keys_and_duplicates_in_keys_of() {
        let text: String = (0..3000)
            .map(|i| format!("k{i}: {i}\nk{i}: again\n"))
            .collect();
        let m = map(&text);
        assert_eq!(m.keys_of(&p("")).len(), 3000);
        assert_eq!(m.value(&p("k7")), sp(15, 5, 1));
    }
}
