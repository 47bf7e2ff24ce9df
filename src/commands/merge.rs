//! `qtscen merge DIR... --out DIR`: the shard folders of one suite put back together.
use std::process::ExitCode;

use crate::error::Error;

/// Merges the suite folders `dirs` into `out`; the merged suite's exit status.
pub(super) fn merge(dirs: &[String], out: &str) -> Result<ExitCode, Error> {
    crate::suite::merge(dirs, out).map(super::status)
}
