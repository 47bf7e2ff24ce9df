//! Load stage: the environment of a scenario — its defaults, its env files (dotenv), the
//! process environment, `--env-file` files — and the names those files set.
use std::collections::BTreeMap;
use std::path::Path;

use regex::Regex;

use super::Loaded;
use crate::scenario::Scenario;
use crate::source::Diagnostic;
use crate::yp;

/// The names a dotenv file sets (none when it cannot be read).
pub fn dotenv_names(path: &Path) -> Vec<String> {
    read_dotenv(path)
        .map(|vars| vars.into_iter().map(|(k, _)| k).collect())
        .unwrap_or_default()
}

/// The names the scenario's own env files set (those that can be read now).
pub fn env_file_names(loaded: &Loaded) -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    for f in &loaded.scenario.env.files {
        names.extend(dotenv_names(
            &loaded.dir.join(f.strip_prefix('?').unwrap_or(f)),
        ));
    }
    names
}

/// Where env values come from, weakest first: scenario defaults, scenario env files,
/// the process environment, `--env-file` files.
pub fn load_env(
    loaded: &Loaded,
    s: &Scenario,
    cli_env_files: &[String],
) -> Result<BTreeMap<String, String>, Vec<Diagnostic>> {
    let mut env: BTreeMap<String, String> = s
        .env
        .defaults
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut errors = Vec::new();
    for (i, f) in s.env.files.iter().enumerate() {
        let (optional, name) = match f.strip_prefix('?') {
            Some(rest) => (true, rest),
            None => (false, f.as_str()),
        };
        let path = loaded.dir.join(name);
        match read_dotenv(&path) {
            Ok(vars) => env.extend(vars),
            Err(_) if optional && !path.exists() => {}
            // A file that cannot be read is named where the scenario lists it; a line
            // that cannot be parsed, in the env file.
            Err(e) if e.at.is_none() => {
                let yp = yp!["env", "files", i];
                errors.push(
                    Diagnostic::error(e.message)
                        .with_file(loaded.file.name.clone())
                        .with_span(loaded.map().value(&yp)),
                );
            }
            Err(e) => errors.push(
                e.diagnostic(&path)
                    .with_note(format!("listed in {} at env.files[{i}]", loaded.file.name)),
            ),
        }
    }
    // Only the names the scenario uses are taken from the process environment, so the
    // record does not copy the whole environment.
    let mut names: Vec<String> = s.env.required.clone();
    if let Ok(re) = Regex::new(
        r#"env\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]\s*\])"#,
    ) {
        for c in re.captures_iter(&loaded.file.text) {
            if let Some(m) = c.get(1).or_else(|| c.get(2)) {
                names.push(m.as_str().to_string());
            }
        }
    }
    for name in names {
        if let Ok(v) = std::env::var(&name) {
            env.insert(name, v);
        }
    }
    for f in cli_env_files {
        match read_dotenv(Path::new(f)) {
            Ok(vars) => env.extend(vars),
            Err(e) => errors.push(e.diagnostic(Path::new(f))),
        }
    }
    for (i, name) in s.env.required.iter().enumerate() {
        // An env file that could not be read would make every name in it look unset.
        if !errors.is_empty() {
            break;
        }
        if env.get(name).is_none_or(|v| v.trim().is_empty()) {
            let yp = yp!["env", "required", i];
            errors.push(
                Diagnostic::error(format!("required env variable `{name}` is not set"))
                    .with_file(loaded.file.name.clone())
                    .with_span(loaded.map().value(&yp))
                    .with_help(
                        "set it in the environment or in a dotenv file given with --env-file",
                    ),
            );
        }
    }
    if errors.is_empty() {
        Ok(env)
    } else {
        Err(errors)
    }
}

/// Why an env file could not be read, and where in it (line, column), when known.
struct EnvFileError {
    message: String,
    at: Option<(usize, usize)>,
}

impl EnvFileError {
    /// The diagnostic, located in the env file itself. The line is not shown: it may
    /// hold a secret.
    fn diagnostic(&self, path: &Path) -> Diagnostic {
        let place = match self.at {
            Some((line, col)) => format!("{}:{line}:{col}", path.display()),
            None => path.display().to_string(),
        };
        Diagnostic::error(self.message.clone()).with_file(place)
    }
}

fn read_dotenv(path: &Path) -> Result<Vec<(String, String)>, EnvFileError> {
    let bytes = std::fs::read(path).map_err(|e| EnvFileError {
        message: format!("cannot read env file `{}`: {e}", path.display()),
        at: None,
    })?;
    let text = String::from_utf8_lossy(&bytes);
    // Editors on Windows start a UTF-8 file with a byte order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut vars = Vec::new();
    for (n, item) in dotenvy::from_read_iter(text.as_bytes()).enumerate() {
        match item {
            Ok(kv) => vars.push(kv),
            // dotenvy quotes the whole offending line, which may hold a secret: name the
            // place only.
            Err(dotenvy::Error::LineParse(line, at)) => {
                // The entry's first line; the column when the fault is on that line (an
                // open quote runs on to the end of the file).
                let place = text.find(line.as_str()).map(|offset| {
                    let first = line.split('\n').next().unwrap_or("");
                    let upto = if at < first.len() { at } else { 0 };
                    let before = &text[..offset + upto];
                    let line_no = before.matches('\n').count() + 1;
                    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                    (line_no, col)
                });
                let what = match place {
                    Some((l, _)) => format!("the entry on line {l}"),
                    None => format!("entry {}", n + 1),
                };
                return Err(EnvFileError {
                    message: format!(
                        "env file `{}`: cannot parse {what}; check its quoting (an open quote runs on to the end of the file)",
                        path.display()
                    ),
                    at: place,
                });
            }
            Err(e) => {
                return Err(EnvFileError {
                    message: format!("env file `{}`: {e}", path.display()),
                    at: None,
                });
            }
        }
    }
    Ok(vars)
}
