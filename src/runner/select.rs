//! Run stage: `--step ID` — the steps asked for and, transitively, the steps their
//! `needs` require.
use std::collections::BTreeSet;

use crate::plan::Plan;

/// The steps that must run with `asked` for their `needs` (not themselves asked), in
/// scenario order; an id that names no step is an error.
pub fn needed_steps(plan: &Plan, asked: &[String]) -> Result<Vec<String>, String> {
    let ids: Vec<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
    for id in asked {
        if !ids.contains(&id.as_str()) {
            let hint = crate::source::did_you_mean(id, &ids)
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            return Err(format!("--step {id}: no step has this id{hint}"));
        }
    }
    let mut want: BTreeSet<&str> = asked.iter().map(String::as_str).collect();
    let mut todo: Vec<&str> = want.iter().copied().collect();
    while let Some(id) = todo.pop() {
        let Some(step) = plan.steps.iter().find(|s| s.id == id) else {
            continue;
        };
        for (need, _) in &step.needs {
            if want.insert(need.as_str()) {
                todo.push(need.as_str());
            }
        }
    }
    Ok(ids
        .into_iter()
        .filter(|id| want.contains(id) && !asked.iter().any(|a| a == id))
        .map(str::to_string)
        .collect())
}
