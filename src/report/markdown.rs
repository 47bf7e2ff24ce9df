//! Report stage: Markdown escaping, one function for each place a value can land in a
//! report — inline text, a table cell, an inline code span, a fenced code block — and the
//! safety net for the Markdown a scenario's author writes (description, notes, summary).
//!
//! The rule: a value from the run is text, never markup. It is escaped so that a
//! CommonMark/GFM renderer shows it character for character: no emphasis, link, raw HTML
//! element, heading or list comes out of a value, a table keeps its columns and a code
//! block holds whatever the program printed. Markdown the author writes on purpose stays
//! Markdown, except raw HTML (shown as text) and a code fence left open (closed).
use std::ops::Range;

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag};

/// The Markdown extensions reports are read with (GitHub's): tables, strikethrough,
/// task lists, footnotes.
pub fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES
}

/// A value as inline text on one line: line breaks become spaces (a renderer shows a
/// soft line break as a space anyway) and every character that could be markup where it
/// stands is backslash-escaped: `\\`, `` ` ``, `*`, `[`, `]`, `<`, `|`, `~` always; `_`
/// unless between two letters or digits; `&` before a name and `;` or before `#`; `#`
/// at the start or after a blank; and a block marker at the start (`>`, a list item
/// `-`/`+`/`1.`/`1)`, a `---`/`===` line). Fit for a paragraph, a heading, a list item
/// and a table cell alike.
pub fn inline(text: &str) -> String {
    escape(text, true)
}

/// A value as the text of a table cell: [`inline`], but a cell is never the start of a
/// line, so a leading `>`, `-`, `1.` needs no escape.
pub fn cell(text: &str) -> String {
    escape(text, false)
}

fn escape(text: &str, line_start: bool) -> String {
    let line = text
        .split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let chars: Vec<char> = line.chars().collect();
    let marker = start_marker(&chars).filter(|_| line_start);
    let mut out = String::with_capacity(line.len() + line.len() / 8 + 2);
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        let escape = match c {
            '\\' | '`' | '*' | '[' | ']' | '<' | '|' | '~' => true,
            // Between two letters or digits `_` can neither open nor close emphasis.
            '_' => {
                !(prev.is_some_and(char::is_alphanumeric)
                    && next.is_some_and(char::is_alphanumeric))
            }
            '&' => is_reference(&chars[i + 1..]),
            // A heading opens with `#` at the start and closes with ` #` at the end.
            '#' => prev.is_none_or(char::is_whitespace),
            _ => Some(i) == marker,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Where a block marker stands at the start of a line, if one does: a quote (`>`), a
/// list item (`-`, `+` or `1.`/`1)` followed by a blank), a thematic break or setext
/// underline (`---`, `===`).
fn start_marker(chars: &[char]) -> Option<usize> {
    let blank_at = |i: usize| chars.get(i).is_none_or(|c| *c == ' ' || *c == '\t');
    let first = *chars.first()?;
    match first {
        '>' => Some(0),
        '-' | '+' if blank_at(1) => Some(0),
        '-' | '=' if chars.iter().all(|c| *c == first || *c == ' ' || *c == '\t') => Some(0),
        _ => {
            let digits = chars.iter().take_while(|c| c.is_ascii_digit()).count();
            ((1..=9).contains(&digits)
                && matches!(chars.get(digits), Some('.' | ')'))
                && blank_at(digits + 1))
            .then_some(digits)
        }
    }
}

/// Whether `&` followed by `rest` is an entity or character reference (`&amp;`, `&#60;`).
fn is_reference(rest: &[char]) -> bool {
    if rest.first() == Some(&'#') {
        return true;
    }
    let name = rest
        .iter()
        .take(33)
        .take_while(|c| c.is_ascii_alphanumeric())
        .count();
    (1..=32).contains(&name) && rest.get(name) == Some(&';')
}

/// Markdown already (a filter's output, or text marked `safe`) made fit for a table
/// cell: line breaks become spaces and a `|` not yet escaped is escaped (GFM splits a row
/// at every unescaped `|`, inside code spans too).
pub fn cell_markdown(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len() + 8);
    let mut backslashes = 0usize;
    for c in markdown.chars() {
        match c {
            '\r' | '\n' => out.push(' '),
            '|' if backslashes % 2 == 0 => out.push_str("\\|"),
            _ => out.push(c),
        }
        backslashes = if c == '\\' { backslashes + 1 } else { 0 };
    }
    out
}

/// The longest run of `ch` in `text`.
fn longest_run(text: &str, ch: char) -> usize {
    let (mut longest, mut run) = (0, 0);
    for c in text.chars() {
        run = if c == ch { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

/// A value as an inline code span: delimited by a backtick run longer than any in the
/// value, padded with a space where CommonMark would otherwise merge a backtick of the
/// value into the delimiter or strip a space of the value; line breaks become spaces.
pub fn code_span(text: &str) -> String {
    let text: String = text
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    if text.is_empty() {
        return "` `".into();
    }
    let ticks = "`".repeat(longest_run(&text, '`') + 1);
    let all_spaces = text.chars().all(|c| c == ' ');
    let pad = text.starts_with('`')
        || text.ends_with('`')
        || (text.starts_with(' ') && text.ends_with(' ') && !all_spaces);
    let pad = if pad { " " } else { "" };
    format!("{ticks}{pad}{text}{pad}{ticks}")
}

/// A value as a fenced code block: the fence is a backtick run longer than any in the
/// value (at least three), so no line of the value can close it; `info` (a language
/// name) loses backticks and line breaks. One trailing line break of the value is dropped.
pub fn code_block(text: &str, info: &str) -> String {
    let fence = "`".repeat(longest_run(text, '`').max(2) + 1);
    let info: String = info
        .trim()
        .chars()
        .filter(|c| *c != '`' && !c.is_control())
        .collect();
    let body = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(text);
    if body.is_empty() {
        format!("{fence}{info}\n{fence}")
    } else {
        format!("{fence}{info}\n{body}\n{fence}")
    }
}

/// Markdown the author writes (a description, notes, the summary) kept as Markdown, with
/// two exceptions so that it cannot break the report around it: raw HTML is shown as
/// text (its `<` becomes `&lt;`), and a code fence left open at the end is closed.
pub fn authored(text: &str) -> String {
    let mut out = text.to_string();
    // Escaping one piece of HTML can turn the text after it into another: repeat.
    for _ in 0..8 {
        let mut html: Vec<Range<usize>> = Parser::new_ext(&out, options())
            .into_offset_iter()
            .filter(|(e, _)| matches!(e, Event::Html(_) | Event::InlineHtml(_)))
            .map(|(_, r)| r)
            .collect();
        if html.is_empty() {
            return close_open_fence(out);
        }
        html.sort_by_key(|r| r.start);
        let mut limit = out.len();
        for r in html.into_iter().rev() {
            if r.end > limit {
                continue;
            }
            let fixed = out[r.clone()].replace('<', "&lt;");
            limit = r.start;
            out.replace_range(r, &fixed);
        }
    }
    // Still HTML after all that: the whole text as plain text.
    inline(text)
}

/// The fence character and length that open a fenced code block on `line`.
fn fence_of(line: &str) -> Option<(char, usize)> {
    let rest = line.strip_prefix("   ").or_else(|| line.strip_prefix("  "));
    let rest = rest.or_else(|| line.strip_prefix(' ')).unwrap_or(line);
    let ch = rest.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let n = rest.chars().take_while(|c| *c == ch).count();
    (n >= 3).then_some((ch, n))
}

/// The text with a closing fence added when its last top-level fenced code block runs
/// to the end unclosed (it would swallow the rest of the report).
fn close_open_fence(mut text: String) -> String {
    let mut depth = 0usize;
    let mut last_top_fence = None;
    for (event, range) in Parser::new_ext(&text, options()).into_offset_iter() {
        match event {
            Event::Start(tag) => {
                if depth == 0 && matches!(tag, Tag::CodeBlock(CodeBlockKind::Fenced(_))) {
                    last_top_fence = Some(range);
                }
                depth += 1;
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    let Some(range) = last_top_fence else {
        return text;
    };
    let block = &text[range];
    let Some((ch, n)) = block.lines().next().and_then(fence_of) else {
        return text;
    };
    let closed = block.lines().count() > 1
        && block.lines().last().is_some_and(|last| {
            fence_of(last).is_some_and(|(c, m)| c == ch && m >= n)
                && last.trim().chars().all(|c| c == ch)
        });
    if !closed {
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&ch.to_string().repeat(n));
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests;
