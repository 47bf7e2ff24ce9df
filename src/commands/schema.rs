//! `qtscen schema [scenario|results]`: a JSON Schema on stdout.
use std::process::ExitCode;

use crate::cli::SchemaKind;
use crate::error::Error;

/// Prints the schema of the scenario format or of results.json.
pub(super) fn schema(which: SchemaKind) -> Result<ExitCode, Error> {
    print!(
        "{}",
        match which {
            SchemaKind::Scenario => crate::schema::scenario_schema(),
            SchemaKind::Results => crate::schema::results_schema(),
        }
    );
    Ok(ExitCode::SUCCESS)
}
