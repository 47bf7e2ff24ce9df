//! Load stage: the scenario format as written (`*Spec` types), deserialised by serde_yaml.
mod assertion;
mod auth;
mod duration;
mod http;
mod limits;
mod process;
mod reconcile;
mod report;
mod retry;
mod root;
mod sql;
mod step;
mod tls;

pub use assertion::{AssertionSpec, CaptureSpec, Predicate, Quantifier};
pub use auth::{AuthSpec, BasicSpec, BearerSpec, ClientAuth, OAuth2Spec};
pub use duration::{DurationSpec, PATTERN as DURATION_PATTERN};
pub use http::{
    CursorSpec, FallbackSpec, HttpDefaults, HttpSpec, NextUrlSpec, OffsetSpec, PageIn, PaginateSpec,
};
pub use limits::{ByteSize, Limits, MAX_DEPTH_CEILING};
pub use process::{DockerBuildSpec, DockerRunSpec, DockerSpec, ExecSpec};
pub use reconcile::{ReconcileSide, ReconcileSpec};
pub use report::{ReportOutput, ReportSpec};
pub use retry::{BackoffKind, BackoffSpec, RetryPolicy};
pub(crate) use root::one as default_version;
pub use root::{Defaults, EnvSpec, Include, Scenario};
pub use sql::{QuerySpec, SqlDefaults, SqlSpec};
pub use step::Step;
pub use tls::TlsSpec;
