//! Execute stage: SQL results as aligned tables — readable in a terminal and in Markdown
//! (a SQL step's `output`).
use comfy_table::{ContentArrangement, Table, presets};
use serde_json::Value;

use super::QueryResult;

fn cell(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One query's result as a Markdown-compatible table.
pub fn result_table(result: &QueryResult) -> String {
    let mut table = Table::new();
    table
        .load_style(presets::ASCII_MARKDOWN)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(
            result
                .columns
                .iter()
                .map(|(n, _)| n.clone())
                .collect::<Vec<_>>(),
        );
    for row in &result.rows {
        table.add_row(
            result
                .columns
                .iter()
                .map(|(n, _)| row.get(n).map(cell).unwrap_or_default())
                .collect::<Vec<_>>(),
        );
    }
    table.to_string()
}

/// Every query of a step: its name, SQL, and result table or error.
pub fn results_text(results: &[(String, String, Result<QueryResult, String>)]) -> String {
    let mut out = String::new();
    for (name, sql, result) in results {
        out.push_str(&format!(
            "-- {name}\n-- {}\n",
            sql.split_whitespace().collect::<Vec<_>>().join(" ")
        ));
        match result {
            Ok(r) if r.columns.is_empty() => out.push_str("(no result set)\n"),
            Ok(r) => {
                out.push_str(&result_table(r));
                let n = r.rows.len();
                out.push_str(&format!("\n({n} row{})\n", if n == 1 { "" } else { "s" }));
            }
            Err(e) => out.push_str(&format!("ERROR: {e}\n")),
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_an_aligned_markdown_table() {
        let r = crate::exec::QueryResult {
            columns: vec![
                ("job".into(), "String".into()),
                ("rows".into(), "UInt64".into()),
            ],
            rows: vec![
                serde_json::json!({"job": "qtickets_api", "rows": "12"})
                    .as_object()
                    .unwrap()
                    .clone(),
            ],
            raw: String::new(),
        };
        let text = results_text(&[("runs".into(), "SELECT 1".into(), Ok(r))]);
        assert!(text.contains("| job          | rows |"), "{text}");
        assert!(text.contains("| qtickets_api | 12   |"), "{text}");
        assert!(text.contains("(1 row)"), "{text}");
    }
}
