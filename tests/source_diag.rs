//! Source stage, from outside: the pieces a diagnostic is made of — the caret renderer,
//! the lines of a source file, spans, did-you-mean suggestions and YAML paths.

/// The caret renderer: reference layout, no span or source, notes and help, tabs, clamping, unicode and control characters, colour.
mod rendering {
    use qtscen::source::{Diagnostic, SourceFile, Span, render};

    fn source(text: &str) -> SourceFile {
        SourceFile::new("scenarios/prod_smoke.yaml", text)
    }

    #[test]
    fn renders_the_reference_example() {
        let mut text = "x: 1\n".repeat(41);
        text.push_str("      methd: GET\n");
        let diag =
            Diagnostic::error("unknown field `methd`, expected one of `method`, `path`, ...")
                .with_file("scenarios/prod_smoke.yaml")
                .with_span(Span::new(42, 7, 5))
                .with_help("did you mean `method`?");
        let expected = "\
error: unknown field `methd`, expected one of `method`, `path`, ...
  --> scenarios/prod_smoke.yaml:42:7
   |
42 |       methd: GET
   |       ^^^^^
   |
   = help: did you mean `method`?
";
        assert_eq!(render(&diag, Some(&source(&text)), false), expected);
    }

    #[test]
    fn without_span_or_source() {
        let diag = Diagnostic::error("cannot read file").with_file("a.yaml");
        assert_eq!(
            render(&diag, None, false),
            "error: cannot read file\n --> a.yaml\n"
        );
        let diag = Diagnostic::warning("bare").with_note("n1");
        assert_eq!(render(&diag, None, false), "warning: bare\n = note: n1\n");
        // A span but no source: location only.
        let diag = Diagnostic::error("e")
            .with_file("f")
            .with_span(Span::new(3, 2, 1));
        assert_eq!(render(&diag, None, false), "error: e\n --> f:3:2\n");
        // The line is not in the source: location only.
        let diag = diag.with_span(Span::new(9, 1, 1));
        assert_eq!(
            render(&diag, Some(&source("a")), false),
            "error: e\n --> f:9:1\n"
        );
    }

    #[test]
    fn file_name_falls_back_to_source() {
        let diag = Diagnostic::error("e").with_span(Span::new(1, 1, 1));
        let out = render(&diag, Some(&SourceFile::new("s.yaml", "abc")), false);
        assert_eq!(out, "error: e\n --> s.yaml:1:1\n  |\n1 | abc\n  | ^\n  |\n");
    }

    #[test]
    fn notes_help_and_wide_gutter() {
        let text = "\n".repeat(99) + "key: value";
        let diag = Diagnostic::warning("w")
            .with_file("f.yaml")
            .with_span(Span::new(100, 6, 50))
            .with_note("first\nsecond")
            .with_help("h");
        let expected = "\
warning: w
   --> f.yaml:100:6
    |
100 | key: value
    |      -----
    |
    = note: first
            second
    = help: h
";
        assert_eq!(render(&diag, Some(&source(&text)), false), expected);
    }

    #[test]
    fn a_tab_is_one_column_so_the_place_stays_the_files() {
        let diag = Diagnostic::error("e")
            .with_file("f")
            .with_span(Span::new(1, 3, 3));
        let out = render(&diag, Some(&source("a\t\tbc d")), false);
        assert_eq!(
            out,
            "error: e\n --> f:1:3\n  |\n1 | a  bc d\n  |   ^^^\n  |\n"
        );
    }

    #[test]
    fn caret_clamped_and_past_end() {
        let diag = Diagnostic::error("e")
            .with_file("f")
            .with_span(Span::new(1, 3, 99));
        let out = render(&diag, Some(&source("abcd")), false);
        assert!(out.ends_with("1 | abcd\n  |   ^^\n  |\n"), "{out}");
        let diag = diag.with_span(Span::new(1, 50, 3));
        let out = render(&diag, Some(&source("abcd")), false);
        assert!(out.contains("1 | abcd\n  |     ^\n"), "{out}");
        let diag = diag.with_span(Span::new(1, 1, 1));
        let out = render(&diag, Some(&source("")), false);
        assert_eq!(out, "error: e\n --> f:1:1\n");
    }

    #[test]
    fn unicode_and_control_chars() {
        let diag = Diagnostic::error("e")
            .with_file("f")
            .with_span(Span::new(2, 7, 6));
        let out = render(&diag, Some(&source("a: b\r\nname: Привет\r\n")), false);
        assert!(
            out.ends_with("2 | name: Привет\n  |       ^^^^^^\n  |\n"),
            "{out:?}"
        );
        // An escape sequence in the file cannot reach the terminal.
        let diag = diag.with_span(Span::new(1, 2, 1));
        let out = render(&diag, Some(&source("a\u{1b}[31mb")), false);
        assert!(out.contains("1 | a\u{FFFD}[31mb\n"), "{out:?}");
        assert!(!out.contains('\u{1b}'), "{out:?}");
    }

    #[test]
    fn colored_output() {
        let diag = Diagnostic::error("boom")
            .with_file("f")
            .with_span(Span::new(1, 1, 2));
        let out = render(&diag, Some(&source("ab")), true);
        assert!(out.contains("error\x1b[0m"), "{out:?}");
        assert!(out.contains("-->\x1b[0m f:1:1\n"), "{out:?}");
        assert!(out.contains("^^\x1b[0m"), "{out:?}");
        let plain = render(&diag, Some(&source("ab")), false);
        assert!(!plain.contains('\x1b'));
        let bare = render(&Diagnostic::error("boom").with_file("f"), None, true);
        assert!(bare.contains("-->\x1b[0m f\n"), "{bare:?}");
    }
}

/// Lines of a source file: mixed terminators, trailing newline, unicode.
mod lines {
    use qtscen::source::SourceFile;

    #[test]
    fn lines_with_mixed_terminators() {
        let f = SourceFile::new("a.yaml", "one\r\ntwo\nthree\rfour");
        assert_eq!(f.line(0), None);
        assert_eq!(f.line(1), Some("one"));
        assert_eq!(f.line(2), Some("two"));
        assert_eq!(f.line(3), Some("three"));
        assert_eq!(f.line(4), Some("four"));
        assert_eq!(f.line(5), None);
        assert_eq!(f.line_count(), 4);
    }

    #[test]
    fn trailing_newline_and_empty() {
        let f = SourceFile::new("a", "x\n");
        assert_eq!(f.line(1), Some("x"));
        assert_eq!(f.line(2), Some(""));
        assert_eq!(f.line(3), None);
        let e = SourceFile::new("e", "");
        assert_eq!(e.line(1), Some(""));
        assert_eq!(e.line_count(), 1);
    }

    #[test]
    fn unicode_lines() {
        let f = SourceFile::new("u", "имя: Привет\nb: c");
        assert_eq!(f.line(1), Some("имя: Привет"));
    }
}

/// Spans clamp to at least 1.
mod spans {
    use qtscen::source::Span;

    #[test]
    fn new_clamps_to_one() {
        assert_eq!(
            Span::new(0, 0, 0),
            Span {
                line: 1,
                col: 1,
                len: 1
            }
        );
        assert_eq!(Span::point(3, 4).with_len(0).len, 1);
        assert_eq!(Span::new(2, 5, 3).to_string(), "2:5");
    }
}

/// Did-you-mean suggestions.
mod suggestions {
    use qtscen::source::did_you_mean;

    #[test]
    fn suggestions() {
        let fields = ["method", "path", "query", "headers", "body"];
        assert_eq!(did_you_mean("methd", &fields).as_deref(), Some("method"));
        assert_eq!(did_you_mean("Method", &fields).as_deref(), Some("method"));
        assert_eq!(did_you_mean("pth", &fields).as_deref(), Some("path"));
        assert_eq!(did_you_mean("head", &fields).as_deref(), Some("headers"));
        assert_eq!(did_you_mean("bodys", &fields).as_deref(), Some("body"));
        assert_eq!(did_you_mean("timeout", &fields), None);
        assert_eq!(did_you_mean("", &fields), None);
        assert_eq!(did_you_mean("x", &[]), None);
        assert_eq!(did_you_mean("id", &["at"]), None);
        // Closest wins over an earlier, farther one.
        assert_eq!(
            did_you_mean("pathh", &["paths", "path"]).as_deref(),
            Some("paths")
        );
        assert_eq!(
            did_you_mean("quer", &["queue", "query"]).as_deref(),
            Some("query")
        );
    }
}

/// YamlPath display, quoting, origins and relative paths.
mod paths {
    use qtscen::source::{PathSeg, YamlPath};

    fn key(k: &str) -> PathSeg {
        PathSeg::Key(k.to_owned())
    }

    #[test]
    fn display_simple() {
        let p = qtscen::yp!["steps", 2, "http", "query", "where"];
        assert_eq!(p.to_string(), "steps[2].http.query.where");
        assert_eq!(YamlPath::root().to_string(), "");
        assert_eq!(qtscen::yp![0, "a"].to_string(), "[0].a");
    }

    #[test]
    fn display_quoted() {
        let p = YamlPath::from(vec![key("headers"), key("X-Api.Key")]);
        assert_eq!(p.to_string(), r#"headers["X-Api.Key"]"#);
        let p = YamlPath::from(vec![key("a b"), key(""), key("q\"\\\n"), key("ок")]);
        assert_eq!(p.to_string(), r#"["a b"][""]["q\"\\\n"].ок"#);
    }

    #[test]
    fn origins_and_relative_paths() {
        let p = qtscen::yp!["steps", 3, "http", "headers", "X-Api.Key"];
        assert_eq!(YamlPath::of_origin(&p.origin()), Some(p.clone()));
        assert_eq!(YamlPath::of_origin("never.given"), None);
        let q = p.join_relative("length.equals[2][0].x");
        assert_eq!(
            q.to_string(),
            r#"steps[3].http.headers["X-Api.Key"].length.equals[2][0].x"#
        );
        assert_eq!(p.join_relative(""), p);
    }

    #[test]
    fn push_and_pop() {
        let mut p = qtscen::yp!["a", "b", 1];
        p.push_key("c");
        p.push_index(0);
        assert_eq!(p.to_string(), "a.b[1].c[0]");
        assert_eq!(p.pop(), Some(PathSeg::Index(0)));
        assert_eq!(p.segments().last(), Some(&key("c")));
    }
}
