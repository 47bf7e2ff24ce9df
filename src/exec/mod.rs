//! Execute stage: one file per step kind; executors return data and never print.
mod body;
mod http;
mod output_tail;
mod process;
mod sql;
mod sql_params;
mod sql_table;
mod tls;
mod transport;

pub use body::{Body, BodyPolicy, HEAD_BYTES, SpillOpener, SpillWriter, SpilledBody};
pub use http::{Exchange, HttpClient, ResolvedRequest, parse_retry_after};
pub use process::{ProcessOutput, ResolvedCommand, Stream, run_process, shell_quote};
pub use sql::{QueryResult, SqlClient, SqlConn, SqlFailure, StreamFailure, run_query, stream_rows};
pub use sql_params::{fill_params, placeholders};
pub use sql_table::{result_table, results_text};
pub use tls::read_ca_file;
