//! Load stage (prescan): how deeply the collections of a YAML text nest, found in one
//! linear pass over it.
//!
//! The YAML parsers (libyaml under serde_yaml, and yaml-rust2) scan every open flow
//! collection at every token, so their time grows with the square of the nesting: a
//! 240 KB file of `[` keeps them busy for minutes. This pass runs first and stops at the
//! first place deeper than allowed. It reads the structure the way YAML does — block
//! collections by their indentation and `-`/`key:` indicators, flow collections by their
//! brackets outside quotes, comments and block scalars — and may count a level too many
//! in odd corners (a plain scalar continued on a line starting with `- `), never fewer
//! for `[`/`{` nesting.

/// Where the text first nests deeper than allowed (1-based line and column).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooDeep {
    /// Line.
    pub line: usize,
    /// Column, in characters.
    pub col: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Seq,
    Map,
}

/// Checks that no collection of `text` nests deeper than `max`.
pub fn check_depth(text: &str, max: usize) -> Result<(), TooDeep> {
    let mut block: Vec<(usize, Kind)> = Vec::new();
    let mut flow = 0usize;
    let mut quote: Option<u8> = None;
    // Inside a block scalar: lines indented more than this (or blank) are its text.
    let mut scalar_above: Option<Option<usize>> = None;
    for (n, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let b = line.as_bytes();
        let indent = b.iter().take_while(|c| **c == b' ').count();
        if let Some(above) = scalar_above {
            let blank = b[indent..].iter().all(|c| c.is_ascii_whitespace());
            if blank || above.is_none_or(|a| indent > a) {
                continue;
            }
            scalar_above = None;
        }
        let too_deep = |i: usize| TooDeep {
            line: n + 1,
            col: line[..i].chars().count() + 1,
        };
        let mut i = 0;
        if quote.is_none() && flow == 0 {
            if b.starts_with(b"---") || b.starts_with(b"...") || b.starts_with(b"%") {
                block.clear();
                if !b.starts_with(b"---") {
                    continue;
                }
                i = 3;
            } else {
                if indent == b.len() || b[indent] == b'#' {
                    continue;
                }
                while block.last().is_some_and(|(col, _)| *col > indent) {
                    block.pop();
                }
                i = indent;
            }
        }
        let mut token_start = true;
        let mut key_start = i;
        let space_at = |j: usize| j >= b.len() || b[j] == b' ' || b[j] == b'\t';
        while i < b.len() {
            let c = b[i];
            if let Some(q) = quote {
                if q == b'\'' && c == b'\'' {
                    if b.get(i + 1) == Some(&b'\'') {
                        i += 1;
                    } else {
                        quote = None;
                    }
                } else if q == b'"' && c == b'\\' {
                    i += 1;
                } else if q == b'"' && c == b'"' {
                    quote = None;
                }
                i += 1;
                continue;
            }
            match c {
                b' ' | b'\t' => {}
                b'#' if i == 0 || b[i - 1] == b' ' || b[i - 1] == b'\t' => break,
                b'\'' | b'"' if token_start => {
                    key_start = i;
                    quote = Some(c);
                    token_start = false;
                }
                b'[' | b'{' if token_start || flow > 0 => {
                    if flow == 0 {
                        key_start = i;
                    }
                    flow += 1;
                    if block.len() + flow > max {
                        return Err(too_deep(i));
                    }
                    token_start = true;
                }
                b']' | b'}' if flow > 0 => {
                    flow -= 1;
                    token_start = false;
                }
                b',' if flow > 0 => token_start = true,
                b'-' | b'?' if flow == 0 && token_start && space_at(i + 1) => {
                    if place(&mut block, i, Kind::Seq) > max {
                        return Err(too_deep(i));
                    }
                    key_start = i + 1;
                }
                b':' if space_at(i + 1) || (flow > 0 && b"[]{},".contains(&b[i + 1])) => {
                    if flow == 0 && place(&mut block, key_start, Kind::Map) > max {
                        return Err(too_deep(key_start));
                    }
                    token_start = true;
                }
                b'|' | b'>' if token_start && flow == 0 => {
                    scalar_above = Some(block.last().map(|(col, _)| *col));
                    break;
                }
                b'&' | b'!' | b'*' if token_start => {
                    // An anchor, a tag or an alias: a word, then the node (if any).
                    while i + 1 < b.len() && !space_at(i + 1) {
                        i += 1;
                    }
                    token_start = c != b'*';
                }
                _ => {
                    if token_start && flow == 0 {
                        key_start = i;
                    }
                    token_start = false;
                }
            }
            i += 1;
        }
    }
    Ok(())
}

/// Places a block collection entry (`-` or a key) at column `col`; returns the number
/// of block collections now open.
fn place(block: &mut Vec<(usize, Kind)>, col: usize, kind: Kind) -> usize {
    while let Some(&(top, top_kind)) = block.last() {
        if top > col {
            block.pop();
        } else if top == col && top_kind == Kind::Seq && kind == Kind::Map {
            // A key at the column of a list that hangs off a key above (`key:` then
            // `- a` at the same indent): that list has ended.
            block.pop();
        } else {
            break;
        }
    }
    if block.last() != Some(&(col, kind)) {
        block.push((col, kind));
    }
    block.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth(text: &str) -> usize {
        (1..200)
            .find(|&max| check_depth(text, max).is_ok())
            .unwrap()
    }

    #[test]
    fn block_and_flow_nesting_are_counted() {
        assert_eq!(depth("a: 1\n"), 1);
        assert_eq!(depth("a:\n  b:\n    c: 1\n"), 3);
        assert_eq!(depth("steps:\n  - id: x\n    http: {url: \"u\"}\n"), 4);
        assert_eq!(depth("- - - x\n"), 3);
        assert_eq!(depth("k:\n- a\n- b\nj: 1\n"), 2);
        assert_eq!(depth("a: [[1, [2]], {b: [3]}]\n"), 4);
        assert_eq!(depth("a: [\n  [1,\n   [2]]\n]\n"), 4);
        assert_eq!(depth("[[[[x]]]]"), 4);
    }

    #[test]
    fn brackets_in_scalars_comments_and_block_text_do_not_count() {
        assert_eq!(depth("a: \"[[[[\" # [[[[\nb: 'it''s [[['\n"), 1);
        assert_eq!(depth("a: x[[[ y\n"), 1);
        assert_eq!(depth("a: |\n  [[[[[\n  {{{{\nb: 1\n"), 1);
        assert_eq!(depth("- k: >-\n    [[[[\n  j: 1\n"), 2);
        assert_eq!(depth("a: \"multi\n  [[[ line\"\n"), 1);
        assert_eq!(depth("a: &x [1]\nb: *x\n"), 2);
    }

    #[test]
    fn the_place_is_where_it_gets_too_deep() {
        let text = format!("name: x\nsteps: {}", "[".repeat(10));
        assert_eq!(check_depth(&text, 5), Err(TooDeep { line: 2, col: 12 }));
        assert!(check_depth(&"[".repeat(120_000), 64).is_err());
    }

    #[test]
    fn every_checked_in_scenario_is_well_within_the_default() {
        let root = env!("CARGO_MANIFEST_DIR");
        for dir in ["scenarios", "examples"] {
            let Ok(entries) = std::fs::read_dir(format!("{root}/{dir}")) else {
                continue;
            };
            for e in entries.flatten() {
                let path = e.path();
                if path.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    assert!(check_depth(&text, 16).is_ok(), "{}", path.display());
                }
            }
        }
    }
}
