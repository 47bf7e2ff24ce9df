//! `qtscen completions SHELL`: the completion script on stdout.
use std::io::Write;
use std::process::ExitCode;

use crate::error::Error;

/// Prints the completion script for `shell`.
pub(super) fn completions(shell: clap_complete::Shell) -> Result<ExitCode, Error> {
    let _ = std::io::stdout().write_all(&crate::cli::completions(shell));
    Ok(ExitCode::SUCCESS)
}
