//! Pipeline: a scenario file compiled — loaded, validated (every env variable it reads
//! declared, every file it names there) into a `Plan`; its warnings printed.
use crate::error::Error;
use crate::load::{Loaded, load_scenario};
use crate::plan::Plan;
use crate::report::template_sources;
use crate::scenario::Scenario;
use crate::source::Diagnostic;
use crate::template::Templates;
use crate::validate::problems_to_diagnostics;
use crate::validate::{Problem, Validated, validate_scenario};

/// Validates a loaded scenario: the whole of it, or (for `render`) its report part.
pub(crate) type Validator = fn(
    Scenario,
    Templates,
    &std::collections::HashMap<String, String>,
) -> Result<Validated, Vec<Problem>>;

/// Loads and compiles a scenario; its warnings are printed.
/// `env_files`: the `--env-file` files; the names they set count as declared.
pub(crate) fn compile(
    path: &str,
    now: jiff::Timestamp,
    env_files: &[String],
) -> Result<(Loaded, Plan), Error> {
    let (loaded, plan) = compile_with(path, now, load_scenario, validate_scenario, env_files)?;
    // Files the steps will read (a literal `tls.ca_file`) must be there and usable.
    let problems = crate::validate::ca_file_problems(&plan.scenario, &loaded.dir);
    if problems.is_empty() {
        Ok((loaded, plan))
    } else {
        Err(problems_error(path, &problems, &loaded))
    }
}

/// Loads a scenario with `load` and compiles it with `validate`; its warnings are
/// printed.
pub(crate) fn compile_with(
    path: &str,
    now: jiff::Timestamp,
    load: fn(&str) -> Result<Loaded, Vec<Diagnostic>>,
    validate: Validator,
    env_files: &[String],
) -> Result<(Loaded, Plan), Error> {
    let mut loaded = load(path).map_err(|d| Error::scenario(d, None))?;
    let sources = template_sources(&loaded).map_err(|d| Error::scenario(d, Some(&loaded.file)))?;
    let mut env_names = crate::load::env_file_names(&loaded);
    for f in env_files {
        env_names.extend(crate::load::dotenv_names(std::path::Path::new(f)));
    }
    let scenario = std::mem::replace(&mut loaded.scenario, placeholder());
    let mut templates = crate::report::templates(now);
    templates.set_fuel(scenario.limits.template_fuel);
    let checked = validate(scenario, templates, &sources).and_then(|(plan, notices)| {
        // A report-only plan (`render`) has no steps and reads no env.
        if plan.steps.is_empty() {
            return Ok((plan, notices));
        }
        let problems = crate::validate::check_declared(&plan, &env_names);
        if problems.is_empty() {
            Ok((plan, notices))
        } else {
            Err(problems)
        }
    });
    match checked {
        // The scenario lives on in the plan; `loaded` keeps the text and positions.
        Ok((mut plan, notices)) => {
            plan.templates.set_locator(crate::load::locator(&loaded));
            let mut notes = problems_to_diagnostics(&notices, &loaded);
            for n in &mut notes {
                n.severity = crate::source::Severity::Warning;
            }
            crate::error::print_warnings(&notes, &loaded.file);
            Ok((loaded, plan))
        }
        Err(problems) => Err(problems_error(path, &problems, &loaded)),
    }
}

/// The problems of a scenario, located, with the closing line.
fn problems_error(path: &str, problems: &[Problem], loaded: &Loaded) -> Error {
    let diags = problems_to_diagnostics(problems, loaded);
    let summary = format!("{} problem(s) in {path}; nothing was run", diags.len());
    Error::scenario_with_summary(diags, &loaded.file, summary)
}

/// What `loaded.scenario` holds once the plan has taken the scenario.
fn placeholder() -> Scenario {
    Scenario {
        version: 1,
        name: String::new(),
        include: Vec::new(),
        description: None,
        env: Default::default(),
        secrets: Vec::new(),
        vars: Default::default(),
        defaults: Default::default(),
        report: Default::default(),
        steps: Vec::new(),
        allow_empty: false,
        limits: Default::default(),
    }
}
