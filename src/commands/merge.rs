//! `qtscen merge DIR... --out DIR`: the shard folders of one suite put back together.
use crate::error::Error;

/// Merges the suite folders `dirs` into `out`; the merged suite's exit status.
pub(super) fn merge(dirs: &[String], out: &str) -> Result<i32, Error> {
    crate::suite::merge(dirs, out)
}
