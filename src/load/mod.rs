//! Load stage: a scenario file → SourceFile + SourceMap + Scenario; its environment
//! (dotenv files, process env, defaults) in `env`. YAML access stays here and in `source/`.
use std::path::{Path, PathBuf};

use crate::scenario::Scenario;
use crate::source::{
    Diagnostic, SourceFile, SourceMap, YamlPath, did_you_mean, span_of_serde_yaml_error,
    unknown_field,
};

mod env;
pub use env::{dotenv_names, env_file_names, load_env};

/// A scenario file, read and parsed.
pub struct Loaded {
    /// The text.
    pub file: SourceFile,
    /// Positions of every value, built only when a problem must be located.
    map: std::sync::OnceLock<SourceMap>,
    /// The scenario.
    pub scenario: Scenario,
    /// Folder of the scenario file (relative paths start here).
    pub dir: PathBuf,
}

impl Loaded {
    /// The source map (built on first use: a valid scenario never needs it).
    pub fn map(&self) -> &SourceMap {
        self.map
            .get_or_init(|| SourceMap::build(&self.file.text).unwrap_or_default())
    }
}

/// Reads and parses a scenario; errors are diagnostics with file, line and column.
pub fn load_scenario(path: &str) -> Result<Loaded, Vec<Diagnostic>> {
    let mut composed: Option<Vec<Diagnostic>> = None;
    let loaded = load_as(path, |text| {
        if !crate::compose::needs_compose(text) {
            return serde_yaml::from_str::<Scenario>(text);
        }
        // `include:`, `<<:` merge keys and `x-…` anchor holders, resolved first.
        let start = Path::new(path)
            .canonicalize()
            .unwrap_or_else(|_| PathBuf::from(path));
        let limits = crate::prescan::limits_of(text);
        match crate::compose::compose(Path::new(path), text, &mut vec![start], &limits) {
            Ok(value) => serde_yaml::from_value::<Scenario>(value),
            Err(diags) => {
                composed = Some(diags);
                // Stands for the diagnostics above; replaced below.
                serde_yaml::from_str::<Scenario>("")
            }
        }
    });
    match (loaded, composed) {
        (Err(_), Some(diags)) => Err(diags),
        (other, _) => other,
    }
}

/// The parts of a scenario `qtscen render` needs; the rest (the steps) is skipped
/// unbuilt.
#[derive(serde::Deserialize)]
struct ReportPart {
    #[serde(default = "crate::scenario::default_version")]
    version: u32,
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    report: crate::scenario::ReportSpec,
}

/// Reads a scenario for `qtscen render`: its name, description and report settings only
/// (the returned scenario has no steps).
pub fn load_report_part(path: &str) -> Result<Loaded, Vec<Diagnostic>> {
    load_as(path, |text| {
        let part: ReportPart = serde_yaml::from_str(text)?;
        Ok(Scenario {
            version: part.version,
            name: part.name,
            include: Vec::new(),
            description: part.description,
            env: Default::default(),
            secrets: Vec::new(),
            vars: Default::default(),
            defaults: Default::default(),
            report: part.report,
            steps: Vec::new(),
            allow_empty: false,
            limits: Default::default(),
        })
    })
}

fn load_as(
    path: &str,
    parse: impl FnOnce(&str) -> Result<Scenario, serde_yaml::Error>,
) -> Result<Loaded, Vec<Diagnostic>> {
    // A file too large or too deeply nested is refused before it is parsed.
    crate::prescan::check_size(Path::new(path), path, None).map_err(|d| vec![*d])?;
    let bytes = std::fs::read(path).map_err(|e| {
        vec![Diagnostic::error(format!(
            "cannot read scenario `{path}`: {e}"
        ))]
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        vec![
            Diagnostic::error(format!(
                "scenario `{path}` is not UTF-8 (byte {} is invalid)",
                e.utf8_error().valid_up_to()
            ))
            .with_file(path),
        ]
    })?;
    let limits = crate::prescan::limits_of(&text);
    crate::prescan::check_read_size(text.len() as u64, path, limits.max_scenario_size)
        .and_then(|()| crate::prescan::check_nesting(&text, path, &limits))
        .map_err(|d| vec![*d])?;
    let file = SourceFile::new(path, text);
    let scenario = parse(&file.text).map_err(|e| {
        // A syntax error is described best by the span-aware parser.
        match SourceMap::build(&file.text) {
            Err(syntax) => vec![syntax.to_diagnostic(Some(path))],
            Ok(map) => vec![serde_diagnostic(&e, &file, &map)],
        }
    })?;
    let dir = Path::new(path)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    Ok(Loaded {
        file,
        map: std::sync::OnceLock::new(),
        scenario,
        dir,
    })
}

fn serde_diagnostic(err: &serde_yaml::Error, file: &SourceFile, map: &SourceMap) -> Diagnostic {
    let raw = err.to_string();
    // The location is given apart (as a span); serde_yaml's text ends with it too.
    let message = match raw.rsplit_once(" at line ") {
        Some((head, tail)) if tail.split(" column ").all(|n| n.parse::<usize>().is_ok()) => head,
        _ => &raw,
    };
    let mut diag = Diagnostic::error(message)
        .with_file(file.name.clone())
        .with_span(span_of_serde_yaml_error(err, &file.text, map));
    if let Some((name, expected)) = unknown_field(message)
        && let Some(s) = did_you_mean(name, &expected)
    {
        diag = diag.with_help(format!("did you mean `{s}`?"));
    }
    diag
}

/// Turns YAML paths of this scenario into `file:line:col` and the line's text.
pub fn locator(loaded: &Loaded) -> crate::template::Locator {
    let file = loaded.file.clone();
    let map: std::sync::Arc<std::sync::OnceLock<SourceMap>> = Default::default();
    std::sync::Arc::new(move |path: &str| {
        let yp = YamlPath::of_origin(path)?;
        let map = map.get_or_init(|| SourceMap::build(&file.text).unwrap_or_default());
        let span = map.value(&yp).or_else(|| map.nearest(&yp))?;
        let line = file.line(span.line).unwrap_or("").to_string();
        Some((format!("{}:{}:{}", file.name, span.line, span.col), line))
    })
}
