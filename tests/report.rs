//! Snapshots of the Markdown report of prod_smoke.yaml under a fixed `--now`.
mod support;

use qtickets_sandbox::{FaultKind, FaultRule};
use support::*;

fn filtered(text: &str, port: u16, scenario: &str) -> String {
    let text = text
        .replace(scenario, "scenario.yaml")
        .replace(&port.to_string(), "PORT");
    let ms = regex::Regex::new(r"\b\d+ ms\b").unwrap();
    // The timeline's bars start and end at Unix milliseconds of the run's clock.
    let bar = regex::Regex::new(r"(?m)(b\d+), \d{13}, \d{13}$").unwrap();
    let text = bar.replace_all(&text, "$1, START, END");
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
    // The hostile texts go in as YAML strings (Rust's `{:?}` quoting is YAML's here).
    let yaml = with_head("report/hostile.yaml")
        .replace("STEP_TITLE", &format!("{step_title:?}"))
        .replace("TITLE", &format!("{title:?}"))
        .replace("ARGS", &args)
        .replace("CHECK", &format!("{check:?}"))
        .replace("EXPECTED", &format!("{expected:?}"));
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

/// One bar of a mermaid gantt chart.
#[derive(Debug)]
struct Task {
    name: String,
    tags: Vec<String>,
    id: String,
    start: i64,
    end: i64,
}

/// A mermaid gantt chart, read by the grammar of mermaid's gantt lexer: `gantt`, then
/// statements one a line — `dateFormat`, `axisFormat`, `title`, `todayMarker` and
/// `section` followed by text without `#` or `;` (and for a section, `:`), and tasks,
/// `name :data` where the name holds no `#`, `:`, `;` and the data no `#`, `;`.
#[derive(Debug, Default)]
struct Gantt {
    date_format: String,
    axis_format: String,
    title: Option<String>,
    sections: Vec<(String, Vec<Task>)>,
}

fn parse_gantt(source: &str) -> Result<Gantt, String> {
    let mut lines = source.lines().filter(|l| !l.trim().is_empty());
    if lines.next().map(str::trim) != Some("gantt") {
        return Err("the first line is not `gantt`".into());
    }
    let statement =
        regex::Regex::new(r"^(dateFormat|axisFormat|title|todayMarker|section) ([^#;\n]+)$")
            .unwrap();
    let task = regex::Regex::new(r"^([^#:;%\n]+?) :([^#;\n]+)$").unwrap();
    // Words mermaid's lexer reads as keywords at the start of a line (case-insensitive),
    // and a date.
    let keyword = regex::Regex::new(
        r"(?i)^(gantt|dateformat|axisformat|tickinterval|includes|excludes|todaymarker|weekday|title|accdescr|acctitle|section|click|call|href|topaxis|inclusiveenddates|\d{4}-\d\d-\d\d)",
    )
    .unwrap();
    let id = regex::Regex::new(r"^[A-Za-z][A-Za-z0-9_]*$").unwrap();
    let mut g = Gantt::default();
    let mut ids = std::collections::HashSet::new();
    for line in lines {
        let line = line.trim();
        if let Some(c) = statement.captures(line) {
            let value = c[2].trim().to_string();
            match &c[1] {
                "dateFormat" => g.date_format = value,
                "axisFormat" => g.axis_format = value,
                "title" => g.title = Some(value),
                "todayMarker" => {}
                _ if value.contains(':') => return Err(format!("`:` in a section: {line}")),
                _ => g.sections.push((value, Vec::new())),
            }
            continue;
        }
        let c = task
            .captures(line)
            .ok_or_else(|| format!("not a gantt statement: {line}"))?;
        let name = c[1].trim().to_string();
        if keyword.is_match(&name) {
            return Err(format!("a task name read as a keyword: {line}"));
        }
        let mut data: Vec<&str> = c[2].split(',').map(str::trim).collect();
        let mut tags = Vec::new();
        while data
            .first()
            .is_some_and(|d| ["done", "active", "crit", "milestone"].contains(d))
        {
            tags.push(data.remove(0).to_string());
        }
        let [task_id, start, end] = data[..] else {
            return Err(format!("want `id, start, end`: {line}"));
        };
        if !id.is_match(task_id) || !ids.insert(task_id.to_string()) {
            return Err(format!("a bad or repeated id: {line}"));
        }
        let ms = |t: &str| -> Result<i64, String> {
            if g.date_format == "x" && t.len() == 13 && t.chars().all(|c| c.is_ascii_digit()) {
                t.parse().map_err(|e| format!("{e}: {line}"))
            } else {
                Err(format!(
                    "`{t}` is not Unix milliseconds (dateFormat x): {line}"
                ))
            }
        };
        let (start, end) = (ms(start)?, ms(end)?);
        if end < start {
            return Err(format!("ends before it starts: {line}"));
        }
        let Some((_, tasks)) = g.sections.last_mut() else {
            return Err(format!("a task before any section: {line}"));
        };
        tasks.push(Task {
            name,
            tags,
            id: task_id.to_string(),
            start,
            end,
        });
    }
    if g.date_format.is_empty() || g.axis_format.is_empty() {
        return Err("no dateFormat or axisFormat".into());
    }
    Ok(g)
}

/// The mermaid code blocks of a Markdown text, and the text before the first.
fn mermaid_blocks(markdown: &str) -> (Vec<String>, String) {
    use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};
    let (mut blocks, mut before) = (Vec::new(), String::new());
    let mut inside = None::<String>;
    for (event, range) in Parser::new(markdown).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) if &*info == "mermaid" => {
                if blocks.is_empty() && inside.is_none() {
                    before = markdown[..range.start].to_string();
                }
                inside = Some(String::new());
            }
            Event::Text(t) if inside.is_some() => inside.as_mut().unwrap().push_str(&t),
            Event::End(TagEnd::CodeBlock) => {
                if let Some(b) = inside.take() {
                    blocks.push(b);
                }
            }
            _ => {}
        }
    }
    (blocks, before)
}

fn millis(rfc3339: &serde_json::Value) -> i64 {
    rfc3339
        .as_str()
        .unwrap()
        .parse::<jiff::Timestamp>()
        .unwrap()
        .as_millisecond()
}

#[test]
fn the_report_opens_with_a_gantt_of_steps_attempts_and_retry_waits() {
    let sb = sandbox();
    sb.add_fault(FaultRule::new(Some("GET"), "/orders", FaultKind::Status(503)).with_times(2));
    sb.add_fault(FaultRule::new(
        Some("POST"),
        "/orders",
        FaultKind::Status(503),
    ));
    let yaml = with_head("report/gantt.yaml");
    let c = case(&sb, &yaml);
    let out = run(&c, &[]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let report = out.file("report.md");
    let (blocks, before) = mermaid_blocks(&report);
    assert_eq!(blocks.len(), 1, "{report}");
    // It opens the report: after the title and the run's facts, before any step.
    assert!(
        !before.contains("## Requests") && !before.contains("## Verdict"),
        "{before}"
    );
    assert!(before.contains("## Timeline"), "{before}");
    let g = parse_gantt(&blocks[0]).unwrap_or_else(|e| panic!("{e}\n{}", blocks[0]));
    assert_eq!(g.date_format, "x");
    assert!(
        g.title.is_none(),
        "nothing is left out of a short run: {g:?}"
    );
    let results = out.results();
    let mut sections = g.sections.iter();
    for step in results["steps"].as_array().unwrap() {
        if step["outcome"] == "skipped" {
            continue;
        }
        let (name, tasks) = sections.next().expect("a section for every step that ran");
        assert_eq!(
            *name,
            format!(
                "{} {}",
                step["id"].as_str().unwrap(),
                step["outcome"].as_str().unwrap()
            )
        );
        let attempts = step["attempts"].as_array().unwrap();
        if attempts.is_empty() {
            assert_eq!(tasks.len(), 1, "{tasks:?}");
            assert_eq!(tasks[0].name, "step check passed");
            assert_eq!(tasks[0].start, millis(&step["started_at"]));
            continue;
        }
        let waits = attempts
            .iter()
            .filter(|a| !a["retry_after_ms"].is_null())
            .count();
        assert_eq!(tasks.len(), attempts.len() + waits, "{tasks:?}");
        let mut bars = tasks.iter();
        for a in attempts {
            let bar = bars.next().unwrap();
            assert!(bar.name.starts_with("attempt "), "{bar:?}");
            assert!(bar.name.ends_with(a["code"].as_str().unwrap()), "{bar:?}");
            assert_eq!(bar.start, millis(&a["started_at"]), "{bar:?}");
            assert_eq!(
                bar.end - bar.start,
                a["duration_ms"].as_i64().unwrap(),
                "{bar:?}"
            );
            assert_eq!(
                bar.tags.contains(&"crit".to_string()),
                a["code"] != "200",
                "{bar:?}"
            );
            if let Some(pause) = a["retry_after_ms"].as_u64() {
                let wait = bars.next().unwrap();
                assert_eq!(wait.name, format!("wait {pause} ms before a retry"));
                assert_eq!(wait.tags, ["done"]);
                assert_eq!(wait.start, bar.end, "{wait:?}");
            }
        }
    }
    assert!(sections.next().is_none(), "{g:?}");
    let names: Vec<&str> = g.sections.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["orders passed", "orders_post failed", "window passed"]
    );
    let orders = &g.sections[0].1;
    let shape: Vec<&str> = orders
        .iter()
        .map(|t| t.name.split(' ').next().unwrap())
        .collect();
    assert_eq!(shape, ["attempt", "wait", "attempt", "wait", "attempt"]);
    assert!(orders.iter().all(|t| !t.id.is_empty()));
}

#[test]
fn a_report_template_draws_the_timeline_with_its_own_cap() {
    let sb = sandbox();
    sb.add_fault(FaultRule::new(Some("GET"), "/orders", FaultKind::Status(503)).with_times(2));
    let yaml = with_head("report/custom_template.yaml");
    let c = case(&sb, &yaml);
    std::fs::write(
        c.dir.path().join("custom.md.j2"),
        "# Mine\n\n{{ run | timeline(3) }}\n\nall:\n\n{{ run | timeline }}\n",
    )
    .unwrap();
    let out = run(&c, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let (blocks, _) = mermaid_blocks(&out.file("custom.md"));
    assert_eq!(blocks.len(), 2);
    let capped = parse_gantt(&blocks[0]).unwrap_or_else(|e| panic!("{e}\n{}", blocks[0]));
    let bars: usize = capped.sections.iter().map(|(_, t)| t.len()).sum();
    assert_eq!(bars, 2, "{}", blocks[0]);
    assert_eq!(
        capped.title.as_deref(),
        Some("+4 more bars not drawn: 2 of 6 shown, every attempt is in the Requests table")
    );
    assert_eq!(
        capped.sections[0].1[0].name,
        "step passed after 3 attempts, 2 waits"
    );
    let whole = parse_gantt(&blocks[1]).unwrap();
    assert_eq!(
        whole.sections.iter().map(|(_, t)| t.len()).sum::<usize>(),
        6
    );
    // `timeline` draws the run, nothing else.
    std::fs::write(
        c.dir.path().join("custom.md.j2"),
        "{{ run.steps | timeline }}\n",
    )
    .unwrap();
    let out = run(&c, &[]);
    assert!(
        out.file("custom.md").contains("`timeline` draws the run"),
        "{}",
        out.file("custom.md")
    );
}
