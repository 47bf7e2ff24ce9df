//! Validate stage output: the scenario compiled — templates, JSONPaths and regexes built
//! once — ready to run.
use std::time::Duration;

use crate::assert::{CapturePlan, Check};
use crate::scenario::{PageIn, RetryPolicy, Scenario};
use crate::template::{Compiled, CompiledJson, Templates};

/// A compiled scenario.
pub struct Plan {
    /// The scenario as written.
    pub scenario: Scenario,
    /// The run's templates.
    pub templates: Templates,
    /// Vars in order.
    pub vars: Vec<(String, CompiledJson)>,
    /// Steps in order.
    pub steps: Vec<StepPlan>,
    /// Reports: (template name in `templates`, output file).
    pub reports: Vec<(String, String)>,
    /// The verdict template.
    pub summary: Option<Compiled>,
    /// Every `env.X` the scenario reads without a default (vars, steps, reports).
    pub env_refs: Vec<crate::template::NameRef>,
}

/// A compiled step.
pub struct StepPlan {
    /// Id.
    pub id: String,
    /// Title (the id when none).
    pub title: String,
    /// Description, for the report.
    pub description: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Condition.
    pub when: Option<(Compiled, String)>,
    /// Needed steps or captures: (step id, capture name).
    pub needs: Vec<(String, Option<String>)>,
    /// Stop the run when this fails.
    pub critical: bool,
    /// The action.
    pub action: Action,
    /// Retry policy.
    pub retry: RetryPolicy,
    /// Assertions; empty means "status is 2xx".
    pub checks: Vec<Check>,
    /// Captures.
    pub captures: Vec<CapturePlan>,
    /// Fallback request.
    pub fallback: Option<HttpPlan>,
    /// Artifacts: (file name, content template).
    pub artifacts: Vec<(String, Compiled)>,
    /// Notes template.
    pub notes: Option<Compiled>,
    /// The env variables its templates read without a default (one read per name).
    pub env_refs: Vec<crate::template::NameRef>,
    /// `for_each`: the items the step runs once for each.
    pub for_each: Option<ForEach>,
}

/// Where a `for_each` step's items come from.
pub enum ForEach {
    /// A list written in the scenario (its strings may be templates).
    List(CompiledJson),
    /// An expression evaluated when the step is reached, and its source.
    Expr(Compiled, String),
}

/// What a step does.
pub enum Action {
    /// An HTTP request or page walk.
    Http(HttpPlan),
    /// Named SQL queries.
    Sql(SqlPlan),
    /// A program (`exec`) or the docker CLI (`docker`).
    Process(ProcessPlan),
    /// Two datasets compared by key.
    Reconcile(ReconcilePlan),
    /// No action: the step's assertions judge earlier steps, vars and env
    /// (preconditions, comparisons), and its captures compute values mid-run.
    Check,
}

impl Action {
    /// `http` or `sql`.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Http(_) => "http",
            Action::Sql(_) => "sql",
            Action::Process(p) => p.kind,
            Action::Reconcile(_) => "reconcile",
            Action::Check => "check",
        }
    }
}

/// A compiled program invocation.
pub struct ProcessPlan {
    /// `exec` or `docker`.
    pub kind: &'static str,
    /// Program.
    pub program: String,
    /// Arguments in order.
    pub args: Vec<ArgPart>,
    /// Working directory.
    pub dir: Option<Compiled>,
    /// Extra environment.
    pub env: Vec<(String, Compiled)>,
    /// Pass the run's env too.
    pub pass_env: bool,
    /// Kill after this long.
    pub timeout: Duration,
    /// Log file in the run folder.
    pub log: Option<String>,
    /// `docker run`: the container name (None: generated), removed after a timeout.
    pub container: Option<Option<Compiled>>,
}

/// One argument, or a flag whose value may render empty (then both are left out).
pub enum ArgPart {
    /// A literal argument.
    Lit(&'static str),
    /// A templated argument.
    Arg(Compiled),
    /// `--flag value`, left out when the value renders empty.
    Flag(&'static str, Compiled),
}

/// Compiled SQL queries and where they go.
pub struct SqlPlan {
    /// Server URL template (None: from env `CLICKHOUSE_*`).
    pub url: Option<Compiled>,
    /// Database template (None: `CLICKHOUSE_DB`).
    pub database: Option<Compiled>,
    /// User template (None: `CLICKHOUSE_USER`).
    pub user: Option<Compiled>,
    /// Password template (None: `CLICKHOUSE_PASSWORD`).
    pub password: Option<Compiled>,
    /// Per-query timeout.
    pub timeout: Duration,
    /// CA certificates trusted besides the machine's roots.
    pub ca_file: Option<CaFilePlan>,
    /// Queries in order.
    pub queries: Vec<QueryPlan>,
}

/// One compiled query.
pub struct QueryPlan {
    /// Name.
    pub name: String,
    /// SQL template.
    pub sql: Compiled,
    /// Params (templates).
    pub params: Vec<(String, CompiledJson)>,
    /// A failure does not fail the step.
    pub optional: bool,
}

/// A compiled HTTP request.
#[derive(Clone)]
pub struct HttpPlan {
    /// Method.
    pub method: String,
    /// URL template (base + path).
    pub url: Vec<Compiled>,
    /// Query pairs.
    pub query: Vec<(String, CompiledJson)>,
    /// Headers.
    pub headers: Vec<(String, Compiled)>,
    /// JSON body.
    pub json: Option<CompiledJson>,
    /// Text body.
    pub body: Option<Compiled>,
    /// Form body pairs (URL-encoded when sent).
    pub form: Option<Vec<(String, CompiledJson)>>,
    /// Timeout.
    pub timeout: Duration,
    /// Pagination.
    pub paginate: Option<Box<PaginatePlan>>,
    /// CA certificates trusted besides the machine's roots.
    pub ca_file: Option<CaFilePlan>,
    /// How the request authenticates.
    pub auth: Option<AuthPlan>,
}

/// A compiled `auth` block.
#[derive(Clone)]
pub enum AuthPlan {
    /// A bearer token.
    Bearer(Compiled),
    /// Basic credentials: username, password.
    Basic(Compiled, Compiled),
    /// The OAuth2 client-credentials grant.
    OAuth2(Box<OAuth2Plan>),
}

/// A compiled OAuth2 client-credentials grant.
#[derive(Clone)]
pub struct OAuth2Plan {
    /// Token endpoint.
    pub token_url: Compiled,
    /// Client id.
    pub client_id: Compiled,
    /// Client secret.
    pub client_secret: Compiled,
    /// Scopes.
    pub scope: Option<Compiled>,
    /// Client auth by HTTP Basic (else in the form).
    pub basic: bool,
}

/// A compiled `tls.ca_file`: a path relative to the scenario file.
#[derive(Clone)]
pub struct CaFilePlan {
    /// The path template.
    pub path: Compiled,
    /// Where it is written (`defaults.sql.tls.ca_file`), for messages.
    pub at: String,
}

/// A compiled page walk.
#[derive(Clone)]
pub struct PaginatePlan {
    /// What changes between pages.
    pub style: PageStyle,
    /// Stop condition.
    pub until: Option<Compiled>,
    /// Page limit.
    pub max_pages: u64,
    /// What to collect.
    pub collect: Option<jsonpath_rust::parser::model::JpQuery>,
}

/// A compiled `reconcile` step.
pub struct ReconcilePlan {
    /// The two sides.
    pub sides: [ReconcileSidePlan; 2],
    /// Measures compared per key.
    pub compare: Vec<String>,
    /// Numbers closer than this are equal.
    pub tolerance: f64,
    /// Keys and differences listed in the report, per kind.
    pub show: usize,
}

/// One compiled side.
pub struct ReconcileSidePlan {
    /// Its name in the report.
    pub name: String,
    /// Where its rows come from.
    pub source: RowSource,
    /// The key of one `row`.
    pub key: RowExpr,
    /// Measures of one `row`.
    pub values: Vec<(String, RowExpr)>,
}

/// Where a reconcile side's rows come from.
pub enum RowSource {
    /// An expression giving a list.
    Rows(Compiled),
    /// The items an earlier page walk collected: its step id.
    Items(String),
    /// A ClickHouse query read as it streams: the connection, and the query.
    Sql(Box<SqlPlan>),
}

/// An expression over one `row`.
pub struct RowExpr {
    /// The compiled expression.
    pub expr: Compiled,
    /// For `row.a.b` (or `row['a']`): the names to look up, read without the template
    /// engine (the engine still says why when one is missing).
    pub path: Option<Vec<String>>,
}

/// How the next page is asked for.
#[derive(Clone)]
pub enum PageStyle {
    /// A page number counted up from `start`.
    Number {
        /// Page parameter.
        param: String,
        /// Where it goes.
        place: PageIn,
        /// First page.
        start: u64,
    },
    /// An offset grown by `limit` from `start`.
    Offset {
        /// Offset parameter.
        param: String,
        /// Items per page.
        limit: u64,
        /// The limit parameter, when it is sent too.
        limit_param: Option<String>,
        /// First offset.
        start: u64,
        /// Where they go.
        place: PageIn,
    },
    /// A cursor read from each answer.
    Cursor {
        /// Where it is read.
        from: NextFrom,
        /// The parameter it is sent as.
        param: String,
        /// Where it goes.
        place: PageIn,
    },
    /// A next URL read from each answer.
    NextUrl {
        /// Where it is read.
        from: NextFrom,
    },
}

/// Where the next cursor or URL is read from an answer.
#[derive(Clone)]
pub enum NextFrom {
    /// A JSONPath over the answer's JSON.
    JsonPath(jsonpath_rust::parser::model::JpQuery),
    /// A template expression over `response`.
    Expr(Compiled),
    /// The `Link` header's `rel="next"` target.
    LinkHeader,
}
