//! The JUnit schema Jenkins and GitLab read, as a check of a parsed file.

/// The rules of the JUnit schema Jenkins and GitLab read (Ant's `junit.xsd`, as the
/// Jenkins JUnit plugin publishes it): which elements go where, which attributes each may
/// carry and which it must, numbers where numbers are due, and counts that add up.
pub fn conforms_to_junit_schema(doc: &roxmltree::Document) {
    let number = |n: roxmltree::Node, a: &str, int: bool| {
        if let Some(v) = n.attribute(a) {
            let ok = if int {
                v.parse::<u64>().is_ok()
            } else {
                v.parse::<f64>().is_ok_and(|x| x >= 0.0)
            };
            assert!(ok, "<{}> {a}={v:?} is not a number", n.tag_name().name());
        }
    };
    let only = |n: roxmltree::Node, allowed: &[&str], required: &[&str]| {
        for a in n.attributes() {
            assert!(
                allowed.contains(&a.name()),
                "<{}> has no attribute {} in the schema",
                n.tag_name().name(),
                a.name()
            );
        }
        for r in required {
            assert!(
                n.attribute(*r).is_some(),
                "<{}> needs {r}",
                n.tag_name().name()
            );
        }
    };
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    only(
        root,
        &[
            "name", "time", "tests", "failures", "errors", "skipped", "disabled",
        ],
        &[],
    );
    for suite in root.children().filter(|n| n.is_element()) {
        assert_eq!(suite.tag_name().name(), "testsuite");
        only(
            suite,
            &[
                "name",
                "tests",
                "failures",
                "errors",
                "skipped",
                "disabled",
                "time",
                "timestamp",
                "hostname",
                "id",
                "package",
            ],
            &["name", "tests"],
        );
        for a in ["tests", "failures", "errors", "skipped"] {
            number(suite, a, true);
        }
        number(suite, "time", false);
        let mut counts = [0u64; 4];
        for case in suite.children().filter(|n| n.is_element()) {
            let tag = case.tag_name().name();
            if matches!(tag, "properties" | "system-out" | "system-err") {
                continue;
            }
            assert_eq!(tag, "testcase");
            only(
                case,
                &[
                    "name",
                    "classname",
                    "time",
                    "assertions",
                    "file",
                    "line",
                    "status",
                ],
                &["name"],
            );
            number(case, "time", false);
            counts[0] += 1;
            for child in case.children().filter(|n| n.is_element()) {
                match child.tag_name().name() {
                    "failure" | "error" => {
                        only(child, &["message", "type"], &[]);
                        counts[if child.has_tag_name("failure") { 1 } else { 2 }] += 1;
                    }
                    "skipped" => {
                        only(child, &["message"], &[]);
                        counts[3] += 1;
                    }
                    "system-out" | "system-err" => only(child, &[], &[]),
                    other => panic!("<testcase> holds no <{other}> in the schema"),
                }
            }
        }
        for (a, n) in ["tests", "failures", "errors", "skipped"]
            .iter()
            .zip(counts)
        {
            if let Some(v) = suite.attribute(*a) {
                assert_eq!(v, n.to_string(), "testsuite {a} does not add up");
            }
        }
    }
}
