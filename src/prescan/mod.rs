//! Load stage: before a scenario file is parsed — its size and how deeply it nests,
//! checked against `limits:` (the file's own `limits:` block, read on its own first, may
//! raise them), so that a huge or pathological file is refused at once.
use std::io::BufRead;
use std::path::Path;

use crate::scenario::{ByteSize, Limits, MAX_DEPTH_CEILING};
use crate::source::{Diagnostic, Span};
use depth::check_depth;

mod depth;

/// The limits a scenario file sets in its top-level `limits:` block, read without
/// parsing the rest of it; the defaults when it has none (or one that does not parse:
/// the full parse reports that).
pub fn limits_of(text: &str) -> Limits {
    limits_in_lines(text.split('\n').map(|l| l.to_string()))
}

fn limits_in_lines(lines: impl Iterator<Item = String>) -> Limits {
    #[derive(serde::Deserialize)]
    struct Only {
        limits: Limits,
    }
    let mut block = String::new();
    let mut inside = false;
    for line in lines {
        if inside {
            let more = line.is_empty() || line.starts_with([' ', '\t', '#', '\r']);
            if !more {
                break;
            }
        } else if !line.starts_with("limits:") {
            continue;
        }
        inside = true;
        block.push_str(&line);
        block.push('\n');
    }
    let defaults = Limits::default();
    if block.is_empty() || check_depth(&block, defaults.max_depth).is_err() {
        return defaults;
    }
    let mut limits = serde_yaml::from_str::<Only>(&block)
        .map(|o| o.limits)
        .unwrap_or(defaults);
    limits.max_depth = limits.max_depth.min(MAX_DEPTH_CEILING);
    limits
}

/// Refuses a file larger than `limits.max_scenario_size` (the defaults, or what its own
/// `limits:` says) before it is read whole. `limits`: the including file's, for an
/// include.
pub fn check_size(path: &Path, name: &str, limits: Option<&Limits>) -> Result<(), Box<Diagnostic>> {
    let Ok(meta) = std::fs::metadata(path) else {
        // Reading it will say why.
        return Ok(());
    };
    let size = meta.len();
    let default = Limits::default().max_scenario_size;
    let allowed = match limits {
        Some(l) => l.max_scenario_size,
        None if size <= default.0 => return Ok(()),
        // Larger than the default: its own `limits:` may allow it. Its lines are read
        // one by one; only that block is kept.
        None => std::fs::File::open(path)
            .map(|f| {
                let lines = std::io::BufReader::new(f)
                    .split(b'\n')
                    .map_while(Result::ok)
                    .map(|l| String::from_utf8_lossy(&l).into_owned());
                limits_in_lines(lines).max_scenario_size
            })
            .unwrap_or(default),
    };
    check_read_size(size, name, allowed)
}

/// Refuses a text of `size` bytes when more than `allowed` (the file's own `limits:`
/// may lower the limit too).
pub fn check_read_size(size: u64, name: &str, allowed: ByteSize) -> Result<(), Box<Diagnostic>> {
    if size <= allowed.0 {
        return Ok(());
    }
    Err(Box::new(Diagnostic::error(format!(
        "scenario file `{name}` is {} ({size} bytes), more than limits.max_scenario_size ({}); it was not parsed",
        ByteSize(size).display(),
        allowed.display()
    ))
    .with_file(name)
    .with_help(format!(
        "split it into files joined with `include:`, or raise the limit at the top of the scenario: `limits: {{ max_scenario_size: {} }}`",
        ByteSize(size.next_power_of_two()).display()
    ))))
}

/// Refuses a text whose collections nest deeper than `limits.max_depth`, at the line
/// and column where it gets too deep.
pub fn check_nesting(text: &str, name: &str, limits: &Limits) -> Result<(), Box<Diagnostic>> {
    let max = limits.max_depth.min(MAX_DEPTH_CEILING);
    check_depth(text, max).map_err(|at| {
        let raise = if max < MAX_DEPTH_CEILING {
            format!(
                "; if it is meant to, raise it: `limits: {{ max_depth: {} }}` (at most {MAX_DEPTH_CEILING})",
                (max * 2).min(MAX_DEPTH_CEILING)
            )
        } else {
            String::new()
        };
        Box::new(Diagnostic::error(format!(
            "YAML nested more than {max} levels deep (limits.max_depth); it was not parsed"
        ))
        .with_file(name)
        .with_span(Span::point(at.line, at.col))
        .with_help(format!(
            "a scenario nests a dozen levels or so; this looks generated or broken{raise}"
        )))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limits_block_is_read_alone() {
        let text = "name: x\nlimits:\n  # more room\n  max_depth: 100\n  body_in_memory: 1MiB\nsteps: [[[[\n";
        let l = limits_of(text);
        assert_eq!((l.max_depth, l.body_in_memory.0), (100, 1 << 20));
        assert_eq!(
            limits_of("name: x\nlimits: {max_depth: 500}\n").max_depth,
            128
        );
        assert_eq!(limits_of("limits: {max_dept: 5}\n"), Limits::default());
        assert_eq!(limits_of("name: x\n"), Limits::default());
    }

    #[test]
    fn too_deep_names_the_place_and_the_key() {
        let d = check_nesting(
            "a:\n  b: [[[x]]]\n",
            "s.yaml",
            &Limits {
                max_depth: 3,
                ..Limits::default()
            },
        )
        .unwrap_err();
        assert_eq!(d.span.map(|s| (s.line, s.col)), Some((2, 7)));
        assert!(d.message.contains("limits.max_depth"), "{}", d.message);
        assert!(d.help.unwrap().contains("max_depth: 6"));
    }
}
