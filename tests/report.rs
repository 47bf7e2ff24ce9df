//! Snapshots of the Markdown report of prod_smoke.yaml under a fixed `--now`.
mod common;

use common::*;
use qtickets_sandbox::{FaultKind, FaultRule};

fn filtered(text: &str, port: u16, scenario: &str) -> String {
    let text = text
        .replace(scenario, "scenario.yaml")
        .replace(&port.to_string(), "PORT");
    let ms = regex::Regex::new(r"\b\d+ ms\b").unwrap();
    let stamp = regex::Regex::new(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d{3}").unwrap();
    let text = ms.replace_all(&text, "N ms");
    stamp.replace_all(&text, "$1.mmm").into_owned()
}

#[test]
fn prod_smoke_report_with_a_retry_and_a_failing_post() {
    let sb = sandbox();
    sb.add_fault(FaultRule::new(Some("GET"), "/orders", FaultKind::Status(503)).with_times(1));
    sb.add_fault(FaultRule::new(
        Some("POST"),
        "/orders",
        FaultKind::Status(503),
    ));
    let root = env!("CARGO_MANIFEST_DIR");
    let yaml = std::fs::read_to_string(format!("{root}/scenarios/prod_smoke.yaml")).unwrap();
    // Same scenario, with pauses short enough for a test.
    let yaml = yaml.replace("initial: 1s, max: 10s", "initial: 10ms, max: 20ms");
    let c = case(&sb, &yaml);
    let out = run(&c, &["--tags", "api"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let port = sb.addr().port();
    insta::assert_snapshot!(
        "prod_smoke_report",
        filtered(
            &out.file("qtickets_api_live.md"),
            port,
            c.scenario.to_str().unwrap()
        )
    );
    let errors: serde_json::Value =
        serde_json::from_str(&out.file("qtickets_api_errors.json")).unwrap();
    assert_eq!(errors["count"], 4, "one GET 503 and three POST 503s");
}

#[test]
fn render_rebuilds_the_same_report_from_results_json() {
    let sb = sandbox();
    let root = env!("CARGO_MANIFEST_DIR");
    let yaml = std::fs::read_to_string(format!("{root}/scenarios/prod_smoke.yaml")).unwrap();
    let c = case(&sb, &yaml);
    let out = run(&c, &["--tags", "api"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let first = out.file("qtickets_api_live.md");
    std::fs::remove_file(out.out_dir.join("qtickets_api_live.md")).unwrap();
    let (code, stdout, stderr) = qtscen(&["render", out.out_dir.to_str().unwrap()], c.dir.path());
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(out.file("qtickets_api_live.md"), first);
}

/// What a CommonMark/GFM renderer makes of a report: headings, table rows, code blocks,
/// and every raw HTML element it would pass through.
#[derive(Default, Debug)]
struct Rendered {
    /// Level, shown text (code spans as their text), whether anything but text and code
    /// spans was inside.
    headings: Vec<(u8, String, bool)>,
    /// Each table as rows of cell texts, the header first.
    tables: Vec<Vec<Vec<String>>>,
    code_blocks: Vec<String>,
    html: Vec<String>,
    /// The text of every paragraph.
    paragraphs: Vec<String>,
    /// Emphasis and links outside headings, by their text.
    markup: Vec<String>,
}

fn render(markdown: &str) -> Rendered {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES;
    let mut r = Rendered::default();
    let mut text = String::new();
    let mut heading: Option<(u8, bool)> = None;
    let mut in_code = false;
    let mut markup_depth = 0;
    let mut markup_text = String::new();
    for event in Parser::new_ext(markdown, options) {
        match event {
            Event::Html(h) | Event::InlineHtml(h) => r.html.push(h.to_string()),
            Event::Start(Tag::Heading { level, .. }) => {
                heading = Some((level as u8, false));
                text.clear();
            }
            Event::End(TagEnd::Heading(_)) => {
                let (level, marked) = heading.take().unwrap();
                r.headings.push((level, std::mem::take(&mut text), marked));
            }
            Event::Start(Tag::Table(_)) => r.tables.push(Vec::new()),
            Event::Start(Tag::TableHead | Tag::TableRow) => {
                r.tables.last_mut().unwrap().push(Vec::new())
            }
            Event::Start(Tag::TableCell | Tag::Paragraph) => text.clear(),
            Event::End(TagEnd::TableCell) => r
                .tables
                .last_mut()
                .unwrap()
                .last_mut()
                .unwrap()
                .push(std::mem::take(&mut text)),
            Event::End(TagEnd::Paragraph) => r.paragraphs.push(std::mem::take(&mut text)),
            Event::Start(Tag::CodeBlock(_)) => {
                in_code = true;
                text.clear();
            }
            Event::End(TagEnd::CodeBlock) => {
                in_code = false;
                r.code_blocks.push(std::mem::take(&mut text));
            }
            Event::Start(
                Tag::Emphasis
                | Tag::Strong
                | Tag::Strikethrough
                | Tag::Link { .. }
                | Tag::Image { .. },
            ) => {
                if let Some(h) = heading.as_mut() {
                    h.1 = true;
                }
                markup_depth += 1;
            }
            Event::End(
                TagEnd::Emphasis
                | TagEnd::Strong
                | TagEnd::Strikethrough
                | TagEnd::Link
                | TagEnd::Image,
            ) => {
                markup_depth -= 1;
                if markup_depth == 0 {
                    r.markup.push(std::mem::take(&mut markup_text));
                }
            }
            Event::Text(t) | Event::Code(t) => {
                text.push_str(&t);
                if markup_depth > 0 {
                    markup_text.push_str(&t);
                }
            }
            Event::SoftBreak | Event::HardBreak if !in_code => text.push(' '),
            _ => {}
        }
    }
    r
}

#[test]
fn hostile_values_render_as_written() {
    let sb = sandbox();
    // Program output that would end its block, open another, pass HTML, or make links.
    let lines = [
        "```",
        "~~~",
        "<script>alert(1)</script>",
        "| pipes | here |",
        "*em* and _em_ and [link](http://x)",
        "````` and `` ` ``",
        "</pre> end",
    ];
    let args = lines
        .iter()
        .map(|l| serde_json::to_string(l).unwrap())
        .collect::<Vec<_>>()
        .join(", ");
    let title = "Run *em* _u_ [l](http://x) <script>alert(0)</script> # | ~~del~~ &amp;";
    let step_title = "Step *em* <b>bold</b> [link](http://x) | pipe";
    let check = "check *em* _u_ [l](http://x) <img src=x onerror=alert(1)> | pipe";
    let expected = "| a | *b* <b>c</b>";
    let yaml = format!(
        r#"{HEAD}
report:
  title: {title:?}
  summary: |
    **Verdict:** raw {{{{ steps.out.captures.word }}}}; escaped {{{{ steps.out.captures.word | md }}}}.
steps:
  - id: out
    title: {step_title:?}
    description: "Prints *hostile* output; <i>raw html</i> here is shown as text."
    exec: {{ program: printf, args: ["%s\n", {args}] }}
    assert:
      - name: {check:?}
        body: {{ contains: "<script>alert(1)</script>" }}
      - name: "equals <u>this</u>"
        body: {{ equals: {expected:?} }}
    capture:
      word: {{ regex: "(?P<w><script>[^<]*</script>)", group: w }}
    notes: "*kept* raw {{{{ step.captures.word }}}} and {{{{ step.captures.word | md }}}}"
  - id: page
    title: "A server's HTML page"
    http: {{ path: "/no/such/page", query: {{ q: "<b>x</b> | *y*" }} }}
"#
    );
    let c = case(&sb, &yaml);
    let out = run(&c, &[]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let report = out.file("report.md");
    if std::env::var_os("SHOW_REPORT").is_some() {
        eprintln!("{report}");
    }
    let r = render(&report);

    // No raw HTML element anywhere.
    assert!(r.html.is_empty(), "{:?}\n{report}", r.html);
    // The program output is one code block, whole, and the report goes on after it.
    let output = lines.join("\n") + "\n";
    assert!(
        r.code_blocks.contains(&output),
        "{:?}\n{report}",
        r.code_blocks
    );
    // The server's HTML page is shown as code.
    assert!(
        r.code_blocks.iter().any(|b| b.contains("<h1>404")),
        "{report}"
    );
    assert_eq!(r.headings.last().unwrap().1, "Evidence", "{report}");
    // Titles and check names show as written, without markup.
    assert_eq!(r.headings[0], (1, title.to_string(), false), "{report}");
    assert!(
        r.headings
            .contains(&(3, format!("{step_title} (out) — FAILED"), false)),
        "{:?}\n{report}",
        r.headings
    );
    // Every table row has the header's cells, and the cells hold the values whole.
    for table in &r.tables {
        for row in table {
            assert_eq!(row.len(), table[0].len(), "{row:?}\n{report}");
        }
    }
    let checks = r
        .tables
        .iter()
        .find(|t| t[0][0] == "Check")
        .expect("the checks table");
    assert!(checks.iter().any(|row| row[0] == check), "{checks:?}");
    let equals = checks
        .iter()
        .find(|row| row[0] == "equals <u>this</u>")
        .expect("the failed check, whole");
    assert!(equals[1].contains(expected), "{equals:?}");
    assert!(equals[2].contains("| pipes | here |"), "{equals:?}");
    let requests = r.tables.iter().find(|t| t[0][0] == "#").unwrap();
    assert!(
        requests.iter().any(|row| row[4].contains("<b>x</b>")),
        "{requests:?}\n{report}"
    );
    // Captured values are code spans (`tojson` writes `<` as `\u003c`).
    assert!(
        r.paragraphs
            .iter()
            .any(|p| p.starts_with("Captured: word = \"") && p.contains("alert(1)")),
        "{:?}\n{report}",
        r.paragraphs
    );
    // Markdown the author wrote stays Markdown (`*kept*`, `**Verdict:**`); values in it
    // show their HTML as text, escaped with `| md` all of them.
    assert!(r.markup.contains(&"kept".to_string()), "{:?}", r.markup);
    assert!(r.markup.contains(&"hostile".to_string()), "{:?}", r.markup);
    assert!(r.markup.contains(&"Verdict:".to_string()), "{:?}", r.markup);
    assert!(
        !r.markup.iter().any(|m| m.contains("em") || m == "l"),
        "{:?}",
        r.markup
    );
    assert!(
        r.paragraphs.iter().any(|p| p
            == "Notes: kept raw <script>alert(1)</script> and <script>alert(1)</script>"),
        "{:?}\n{report}",
        r.paragraphs
    );
    assert!(
        r.paragraphs
            .iter()
            .any(|p| p
                == "Verdict: raw <script>alert(1)</script>; escaped <script>alert(1)</script>."),
        "{:?}\n{report}",
        r.paragraphs
    );
    // results.json is not Markdown: no escaping there.
    assert_eq!(out.results()["title"], title);
    assert_eq!(out.results()["steps"][0]["output"], output);
}
