//! Load stage: how an HTTP request authenticates — a bearer token, Basic credentials, or
//! an OAuth2 client-credentials token fetched by qtscen.
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One way to authenticate (exactly one key). Sets the `Authorization` header.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthSpec {
    /// `Authorization: Bearer <token>`; the token is a secret.
    #[serde(default)]
    pub bearer: Option<BearerSpec>,
    /// `Authorization: Basic …` from a username and password; the password is a secret.
    #[serde(default)]
    pub basic: Option<BasicSpec>,
    /// An OAuth2 client-credentials token (RFC 6749 4.4), fetched once per run at its
    /// first use (recorded as an attempt of that step), cached, fetched again when it
    /// expires (`expires_in`) or when a request is answered 401 (one retry), and a secret
    /// from the moment it arrives.
    #[serde(default)]
    pub oauth2_client_credentials: Option<OAuth2Spec>,
}

/// A bearer token.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BearerSpec {
    /// The token (a template, e.g. `{{ env.API_TOKEN }}`).
    pub token: String,
}

/// Basic credentials.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BasicSpec {
    /// The user name (a template).
    pub username: String,
    /// The password (a template).
    pub password: String,
}

/// The OAuth2 client-credentials grant.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OAuth2Spec {
    /// The token endpoint (a template), e.g. `{{ env.ADS_TOKEN_URL }}`.
    pub token_url: String,
    /// The client id (a template).
    pub client_id: String,
    /// The client secret (a template); a secret.
    pub client_secret: String,
    /// Space-separated scopes to ask for (a template; none when absent).
    #[serde(default)]
    pub scope: Option<String>,
    /// How the client authenticates to the token endpoint: `form` (client_id and
    /// client_secret in the form body, the default) or `basic` (HTTP Basic).
    #[serde(default)]
    pub client_auth: ClientAuth,
}

/// How a client authenticates to the token endpoint.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// `client_id` and `client_secret` in the form body.
    #[default]
    Form,
    /// `Authorization: Basic` with the URL-encoded id and secret.
    Basic,
}
