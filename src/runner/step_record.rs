//! Run stage: a step's record before anything ran (a skipped step's, the start of every
//! other's), the names of a `for_each` item's files, and the body files a record lists
//! as its artifacts.
use std::collections::BTreeMap;

use crate::plan::StepPlan;
use crate::record::{StepOutcome, StepRecord};

/// A step's record with nothing run: skipped for `reason`.
pub(super) fn skipped(step: &StepPlan, reason: String) -> StepRecord {
    StepRecord {
        id: step.id.clone(),
        title: step.title.clone(),
        description: None,
        kind: step.action.kind().into(),
        tags: step.tags.clone(),
        selected: true,
        outcome: StepOutcome::Skipped,
        skip_reason: Some(reason),
        failure: None,
        started_at: None,
        duration_ms: 0,
        attempts: Vec::new(),
        assertions: Vec::new(),
        captures: BTreeMap::new(),
        items_count: None,
        output: None,
        notes: None,
        used_fallback: false,
        artifacts: Vec::new(),
        item: None,
    }
}

/// `name` for one item of a `for_each` step: `load.log` → `load-2.log`.
pub(crate) fn per_item(name: &str, index: Option<usize>) -> String {
    match (index, name.rsplit_once('.')) {
        (None, _) => name.to_string(),
        (Some(i), Some((stem, ext))) if !stem.is_empty() => format!("{stem}-{i}.{ext}"),
        (Some(i), _) => format!("{name}-{i}"),
    }
}

/// The files holding bodies too large to keep in memory are the step's artifacts.
pub(super) fn add_body_files(record: &mut StepRecord) {
    let files = record
        .attempts
        .iter()
        .filter(|a| !matches!(a.request.method.as_str(), "EXEC" | "DOCKER"))
        .filter_map(|a| a.response.as_ref()?.body_file.clone());
    for f in files.collect::<Vec<_>>() {
        if !record.artifacts.contains(&f) {
            record.artifacts.push(f);
        }
    }
}
