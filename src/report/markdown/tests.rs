//! Unit tests of `markdown`.
use super::*;

/// The events of `markdown` rendered by a GFM parser, as text.
fn events(markdown: &str) -> Vec<Event<'_>> {
    Parser::new_ext(markdown, options()).collect()
}

fn no_html(markdown: &str) {
    for e in events(markdown) {
        assert!(
            !matches!(e, Event::Html(_) | Event::InlineHtml(_)),
            "{e:?} in {markdown}"
        );
    }
}

/// The text a renderer shows for `markdown`, and whether it had any markup but a
/// paragraph.
fn shown(markdown: &str) -> (String, bool) {
    let mut text = String::new();
    let mut markup = false;
    for e in events(markdown) {
        match e {
            Event::Text(t) => text.push_str(&t),
            Event::SoftBreak => text.push(' '),
            Event::Start(Tag::Paragraph) | Event::End(_) => {}
            _ => markup = true,
        }
    }
    (text, markup)
}

const HOSTILE: &str = "<script>alert(1)</script> *em* _em_ **b** [link](http://x) \
    ![img](http://x/i.png) `code` ~~del~~ a | b &amp; &#60; <http://auto> \\* # h #";

#[test]
fn inline_text_shows_every_character_as_written() {
    for text in [
        HOSTILE,
        "# heading",
        "- item",
        "+ item",
        "1. item",
        "12) item",
        "> quote",
        "===",
        "***",
        "___",
        "payed_at and __init__",
        "trailing backslash \\",
        "#tag",
        "a trailing #",
        "+1",
        "-5 degrees",
        "1.5 x",
        "2) x",
        "a&b &copy; &#x41;",
        "--",
        "= =",
        "~one~",
    ] {
        let md = inline(text);
        let (seen, markup) = shown(&md);
        assert_eq!(seen, text, "{md}");
        assert!(!markup, "{md}");
    }
    let (seen, markup) = shown(&inline("line one\n\n    ```\n<div>\n- two\r\n"));
    assert_eq!(seen, "line one ``` <div> - two");
    assert!(!markup);
    assert_eq!(inline("payed_at 3.4 == x"), "payed_at 3.4 == x");
    assert_eq!(inline("_x_ a&b a&amp; #1"), "\\_x\\_ a&b a\\&amp; \\#1");
}

#[test]
fn a_cell_keeps_the_columns() {
    let row = format!(
        "| a | b |\n|---|---|\n| {} | {} |\n",
        cell("x | y\nz"),
        cell_markdown(&code_span("p|q"))
    );
    let mut cells = Vec::new();
    let mut cell = String::new();
    for e in events(&row) {
        match e {
            Event::Text(t) | Event::Code(t) => cell.push_str(&t),
            Event::End(pulldown_cmark::TagEnd::TableCell) => cells.push(std::mem::take(&mut cell)),
            _ => {}
        }
    }
    assert_eq!(cells, ["a", "b", "x | y z", "p|q"], "{row}");
    assert_eq!(cell_markdown("a\\|b|c\nd"), "a\\|b\\|c d");
}

#[test]
fn a_code_span_holds_any_backticks() {
    for text in [
        "plain", "`", "a `b` c", "``x``", " lead", "both ", " both ", "  ", "<b>",
    ] {
        let md = code_span(text);
        let codes: Vec<String> = events(&md)
            .into_iter()
            .filter_map(|e| match e {
                Event::Code(c) => Some(c.to_string()),
                _ => None,
            })
            .collect();
        assert_eq!(codes, [text], "{md}");
    }
    assert_eq!(code_span("a\nb"), "`a b`");
    assert_eq!(code_span("x"), "`x`");
}

#[test]
fn a_code_block_holds_any_fence() {
    let output = "```\n<script>alert(1)</script>\n````\n~~~\n| pipes |\n*em* [link](http://x)\n```";
    let md = format!("{}\n\nafter\n", code_block(output, "text"));
    let (mut code, mut after) = (String::new(), String::new());
    let (mut blocks, mut inside) = (0, false);
    for e in events(&md) {
        match e {
            Event::Start(Tag::CodeBlock(_)) => (blocks, inside) = (blocks + 1, true),
            Event::End(pulldown_cmark::TagEnd::CodeBlock) => inside = false,
            Event::Text(t) if inside => code.push_str(&t),
            Event::Text(t) => after.push_str(&t),
            _ => {}
        }
    }
    assert_eq!(blocks, 1, "{md}");
    assert_eq!(code, format!("{output}\n"), "{md}");
    assert_eq!(after, "after", "{md}");
    assert!(md.starts_with("`````text\n"));
    assert_eq!(code_block("x\n", ""), "```\nx\n```");
    assert_eq!(code_block("", ""), "```\n```");
}

#[test]
fn authored_markdown_stays_markdown_without_html_or_an_open_fence() {
    let text = "**bold** and `a<b>` and <b>raw</b>\n\n<div>\n*x*\n</div>\n\n```\n<kept>\n```\n";
    let md = authored(text);
    no_html(&md);
    assert!(
        md.contains("**bold** and `a<b>` and &lt;b>raw&lt;/b>"),
        "{md}"
    );
    assert!(md.contains("```\n<kept>\n```"), "{md}");
    let open = authored("notes\n~~~~\n<script>\n");
    assert!(open.ends_with("<script>\n~~~~\n"), "{open}");
    let report = format!("{open}\n<b>after</b>\n");
    assert!(
        events(&report)
            .iter()
            .any(|e| matches!(e, Event::InlineHtml(_))),
        "the text after the notes is outside the block again"
    );
    assert_eq!(authored("- a\n  ```\n  b\n"), "- a\n  ```\n  b\n");
    assert_eq!(authored("```\nx\n```"), "```\nx\n```");
    // A list whose fence is cut off by an unindented line: the HTML after it is found.
    no_html(&authored("- a\n  ```\nx\n<script>alert(1)</script>\n"));
}
