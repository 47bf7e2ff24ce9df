//! Suite: which scenario files `run PATH...` means (files, folders, globs), in one stable
//! order, the folder each gets in the suite folder, and a shard's share of them.
use std::path::{Component, Path, PathBuf};

/// One scenario of a suite.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The file, normalized and relative to the working folder when it is inside it
    /// (`tests/fixtures/suite/pass.yaml`): what sorts the suite and picks its shard.
    pub path: String,
    /// Its folder in the suite folder (`tests__fixtures__suite__pass`), unique in the
    /// suite and the same on every machine given the same paths.
    pub folder: String,
}

/// Whether these arguments make a suite: more than one path, a folder, a glob, or a
/// shard. One plain file runs as a single scenario, exactly as before suites existed.
pub fn is_suite(paths: &[String], sharded: bool) -> bool {
    sharded || paths.len() != 1 || paths.iter().any(|p| is_glob(p) || Path::new(p).is_dir())
}

fn is_glob(p: &str) -> bool {
    p.contains(['*', '?', '['])
}

/// Every scenario the paths name, sorted by normalized path, each once.
pub fn expand(paths: &[String]) -> Result<Vec<Entry>, String> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut files: Vec<String> = Vec::new();
    // Found in a folder or by a glob (not named one by one): fragments are left out.
    let mut found: Vec<PathBuf> = Vec::new();
    for raw in paths {
        if is_glob(raw) {
            let matched = glob(raw)?;
            if matched.is_empty() {
                return Err(format!("no file matches `{raw}`"));
            }
            found.extend(matched);
        } else if Path::new(raw).is_dir() {
            let mut below = Vec::new();
            walk(Path::new(raw), &mut below);
            below.retain(|p| has_yaml_extension(p));
            if below.is_empty() {
                return Err(format!("no *.yaml or *.yml file in the folder {raw}"));
            }
            found.extend(below);
        } else {
            // A missing file is reported by validation, with the others.
            files.push(normalize(Path::new(raw), &cwd));
        }
    }
    let included = fragments(&found);
    found.retain(|p| !p.canonicalize().is_ok_and(|c| included.contains(&c)));
    files.extend(found.iter().map(|p| normalize(p, &cwd)));
    files.sort();
    files.dedup();
    let folders = folder_names(&files);
    Ok(files
        .into_iter()
        .zip(folders)
        .map(|(path, folder)| Entry { path, folder })
        .collect())
}

/// The share `k` of `n` (1-based): the entries whose index, in the sorted order, is
/// `k - 1` modulo `n`.
pub fn shard(entries: Vec<Entry>, k: u32, n: u32) -> Vec<Entry> {
    entries
        .into_iter()
        .enumerate()
        .filter(|(i, _)| (*i as u64) % u64::from(n) == u64::from(k - 1))
        .map(|(_, e)| e)
        .collect()
}

/// The files that a file of `files` names in its `include:` (canonical paths): fragments
/// of scenarios, not scenarios.
fn fragments(files: &[PathBuf]) -> std::collections::HashSet<PathBuf> {
    let mut out = std::collections::HashSet::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        if !text.lines().any(|l| l.starts_with("include:")) {
            continue;
        }
        let Ok(doc) = serde_yaml::from_str::<serde_yaml::Value>(&text) else {
            continue;
        };
        let dir = file.parent().unwrap_or(Path::new("."));
        for name in doc["include"].as_sequence().into_iter().flatten() {
            if let Some(c) = name.as_str().and_then(|n| dir.join(n).canonicalize().ok()) {
                out.insert(c);
            }
        }
    }
    out
}

fn has_yaml_extension(p: &Path) -> bool {
    matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
}

/// Every file below `dir`, recursively, hidden files and folders left out.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.is_file() {
            out.push(path);
        }
    }
}

/// The files a glob matches: `*` and `?` within one path segment, `[abc]` a class, `**`
/// any number of folders (none included).
fn glob(pattern: &str) -> Result<Vec<PathBuf>, String> {
    let pattern = pattern.strip_prefix("./").unwrap_or(pattern);
    let re = regex::Regex::new(&glob_regex(pattern))
        .map_err(|e| format!("`{pattern}` is not a glob qtscen understands: {e}"))?;
    // Walk from the longest leading part without a wildcard.
    let mut base = PathBuf::new();
    for part in pattern.split('/') {
        if is_glob(part) {
            break;
        }
        base.push(if part.is_empty() { "/" } else { part });
    }
    let start = if base.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        base.clone()
    };
    let mut found = Vec::new();
    walk(&start, &mut found);
    Ok(found
        .into_iter()
        .filter(|p| {
            let text = p.to_string_lossy();
            let text = text.strip_prefix("./").unwrap_or(&text);
            re.is_match(text)
        })
        .collect())
}

fn glob_regex(pattern: &str) -> String {
    let mut re = String::from("^");
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' if chars.get(i + 1) == Some(&'*') => {
                // `**/` matches no folder or any number; a trailing `**` anything.
                if chars.get(i + 2) == Some(&'/') {
                    re.push_str("(?:[^/]*/)*");
                    i += 3;
                } else {
                    re.push_str(".*");
                    i += 2;
                }
                continue;
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            '[' => match chars[i..].iter().position(|&c| c == ']') {
                Some(len) if len > 1 => {
                    let class: String = chars[i + 1..i + len].iter().collect();
                    let class = class
                        .strip_prefix('!')
                        .map_or(class.clone(), |rest| format!("^{rest}"));
                    re.push('[');
                    re.push_str(&class.replace('\\', "\\\\"));
                    re.push(']');
                    i += len + 1;
                    continue;
                }
                _ => re.push_str("\\["),
            },
            c => re.push_str(&regex::escape(&c.to_string())),
        }
        i += 1;
    }
    re.push('$');
    re
}

/// The path without `.` and `..` where it can go (lexically), relative to `cwd` when it
/// is inside it, with `/` between parts.
fn normalize(path: &Path, cwd: &Path) -> String {
    let path = match path.strip_prefix(cwd) {
        Ok(rest) if path.is_absolute() => rest.to_path_buf(),
        _ => path.to_path_buf(),
    };
    let mut parts: Vec<String> = Vec::new();
    let mut absolute = false;
    for c in path.components() {
        match c {
            Component::RootDir => absolute = true,
            Component::CurDir | Component::Prefix(_) => {}
            Component::ParentDir => match parts.last() {
                Some(last) if last != ".." => {
                    parts.pop();
                }
                _ if absolute => {}
                _ => parts.push("..".into()),
            },
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

/// A folder name per path: its parts joined by `__`, the extension dropped, characters
/// other than letters, digits, `-`, `_` and `.` as `_`, `..` as `up`; a name taken by an
/// earlier path gets `-2`, `-3`, ….
fn folder_names(paths: &[String]) -> Vec<String> {
    let mut taken = std::collections::HashSet::new();
    paths
        .iter()
        .map(|p| {
            let stem = p
                .strip_suffix(".yaml")
                .or_else(|| p.strip_suffix(".yml"))
                .unwrap_or(p);
            let parts: Vec<String> = stem
                .split('/')
                .filter(|s| !s.is_empty())
                .map(|s| {
                    if s == ".." {
                        return "up".to_string();
                    }
                    s.chars()
                        .map(|c| {
                            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                                c
                            } else {
                                '_'
                            }
                        })
                        .collect::<String>()
                        .trim_start_matches('.')
                        .to_string()
                })
                .collect();
            let base = match parts.join("__") {
                b if b.is_empty() => "scenario".to_string(),
                b => b,
            };
            let mut name = base.clone();
            let mut n = 1;
            while !taken.insert(name.clone()) {
                n += 1;
                name = format!("{base}-{n}");
            }
            name
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalized_and_named_stably() {
        let cwd = Path::new("/work/x");
        assert_eq!(normalize(Path::new("./a/../b/c.yaml"), cwd), "b/c.yaml");
        assert_eq!(normalize(Path::new("/work/x/s/a.yaml"), cwd), "s/a.yaml");
        assert_eq!(normalize(Path::new("../y/a.yaml"), cwd), "../y/a.yaml");
        assert_eq!(normalize(Path::new("/other/a.yaml"), cwd), "/other/a.yaml");
        let names = folder_names(&[
            "a/b.yaml".into(),
            "a/b.yml".into(),
            "../up/x y.yaml".into(),
            "/abs/.hidden.yaml".into(),
        ]);
        assert_eq!(names, ["a__b", "a__b-2", "up__up__x_y", "abs__hidden"]);
    }

    #[test]
    fn globs_match_segments_and_any_depth() {
        let re = |p: &str| regex::Regex::new(&glob_regex(p)).unwrap();
        assert!(re("s/*.yaml").is_match("s/a.yaml"));
        assert!(!re("s/*.yaml").is_match("s/d/a.yaml"));
        assert!(re("s/**/*.yaml").is_match("s/a.yaml"));
        assert!(re("s/**/*.yaml").is_match("s/d/e/a.yaml"));
        assert!(re("s/[ab]?.yml").is_match("s/b1.yml"));
        assert!(!re("s/[!ab]?.yml").is_match("s/b1.yml"));
    }

    #[test]
    fn a_folder_leaves_out_the_fragments_its_scenarios_include() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("s");
        std::fs::create_dir_all(dir.join("shared")).unwrap();
        std::fs::write(
            dir.join("a.yaml"),
            "include: [shared/defaults.yaml]\nname: a\n",
        )
        .unwrap();
        std::fs::write(dir.join("shared/defaults.yaml"), "defaults: {}\n").unwrap();
        std::fs::write(dir.join("b.yml"), "name: b\n").unwrap();
        std::fs::write(dir.join(".hidden.yaml"), "name: h\n").unwrap();
        let d = dir.to_str().unwrap().to_string();
        let files: Vec<String> = expand(std::slice::from_ref(&d))
            .unwrap()
            .into_iter()
            .map(|e| e.path)
            .collect();
        assert_eq!(files, [format!("{d}/a.yaml"), format!("{d}/b.yml")]);
        // Named on its own, a fragment is what it is asked to be.
        let named = format!("{d}/shared/defaults.yaml");
        assert_eq!(expand(&[d, named.clone()]).unwrap().len(), 3);
        assert!(expand(&[format!("{}/nothing/*.yaml", tmp.path().display())]).is_err());
    }

    #[test]
    fn shards_cover_every_entry_once() {
        let entries: Vec<Entry> = (0..7)
            .map(|i| Entry {
                path: format!("s/{i}.yaml"),
                folder: format!("s__{i}"),
            })
            .collect();
        let mut all: Vec<Entry> = (1..=3).flat_map(|k| shard(entries.clone(), k, 3)).collect();
        assert_eq!(shard(entries.clone(), 1, 3).len(), 3);
        all.sort_by(|a, b| a.path.cmp(&b.path));
        assert_eq!(all, entries);
    }
}
