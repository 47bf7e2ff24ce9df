//! Validate stage: what a step checks (`assert:`) and what it keeps (`capture:`),
//! compiled.
use super::ctx::{Ctx, valid_id};
use crate::assert::{CapturePlan, Check};
use crate::scenario::{Scenario, Step};
use crate::source::YamlPath;

/// `assert:`, compiled.
pub(super) fn compile_checks(cx: &mut Ctx<'_>, p: &YamlPath, step: &Step) -> Vec<Check> {
    let mut checks = Vec::new();
    for (n, a) in step.assert.iter().enumerate() {
        cx.set_origin(&p.at("assert").at(n));
        match Check::compile(a, cx.t) {
            Ok(c) => checks.push(c),
            Err((sub, msg)) => {
                let path = p.at("assert").at(n).join_relative(&sub);
                cx.problem(path, msg);
            }
        }
    }
    checks
}

/// `capture:`, compiled; a capture named in `secrets:` is masked.
pub(super) fn compile_captures(
    cx: &mut Ctx<'_>,
    scenario: &Scenario,
    p: &YamlPath,
    step: &Step,
) -> Vec<CapturePlan> {
    let mut captures = Vec::new();
    for (name, c) in &step.capture {
        if !valid_id(name) {
            cx.key_problem(
                p.at("capture").at(name),
                format!("`{name}` is not a valid capture name"),
            );
        }
        cx.set_origin(&p.at("capture").at(name));
        match CapturePlan::compile(name, c, cx.t) {
            Ok(mut c) => {
                c.secret |= scenario.secrets.iter().any(|s| s == name);
                captures.push(c)
            }
            Err((sub, msg)) => {
                let path = p.at("capture").at(name).join_relative(&sub);
                cx.problem(path, msg);
            }
        }
    }
    captures
}
