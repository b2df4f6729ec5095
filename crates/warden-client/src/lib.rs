//! A typed async client for Warden's HTTP API (`/v1`).
//!
//! ```no_run
//! # async fn demo() -> Result<(), warden_client::ClientError> {
//! let client = warden_client::Client::new("http://127.0.0.1:8080", Some("wdn_pat_...".into()))?;
//! let me = client.whoami().await?;
//! println!("{} in {}", me.user.email, me.organization_id);
//! # Ok(())
//! # }
//! ```
//!
//! Every method sends `Authorization: Bearer <token>` (when the client has a token) and maps
//! an error response to [`ClientError::Api`] carrying the server's problem document. Path keys
//! (a group name, a user email, ...) are percent-encoded, so any key the server accepts can be
//! passed as is.

// `ClientError::Api` carries the whole problem document by value (about 200 bytes): errors
// come back from network calls, where boxing would save nothing measurable and make
// matching on the problem clumsier.
#![allow(clippy::result_large_err)]

pub mod model;

use std::time::Duration;

use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::Url;

/// The HTTP method of [`Client::raw`].
pub use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::model::*;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error (a problem details document).
    #[error("{} {}: {}", .0.status, .0.code, .0.detail)]
    Api(Problem),
    /// The request did not get an HTTP answer (connection refused, timeout, ...).
    #[error("cannot reach the server: {0}")]
    Transport(String),
    /// The answer was not the JSON this client expected.
    #[error("unexpected response from the server: {0}")]
    Decode(String),
    /// The base URL or a path built from it is not usable.
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
}

impl ClientError {
    /// The problem document, if the server refused the call.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            ClientError::Api(p) => Some(p),
            _ => None,
        }
    }

    /// The problem's stable code (`not_found`, `forbidden`, ...), if the server refused the
    /// call.
    pub fn code(&self) -> Option<&str> {
        self.problem().map(|p| p.code.as_str())
    }
}

/// How long a whole call may take (checks waiting for a revision wait about 2 s at most).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Most characters of a non-JSON error body quoted in an error.
const QUOTED_BODY_CHARS: usize = 300;

/// A client of one Warden server, acting with one bearer token. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    authorization: Option<HeaderValue>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token.
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("has_token", &self.authorization.is_some())
            .finish()
    }
}

impl Client {
    /// A client of the server at `base_url` (e.g. `http://127.0.0.1:8080`, optionally with a
    /// path prefix), sending `token` as a bearer token.
    pub fn new(base_url: &str, token: Option<String>) -> Result<Client, ClientError> {
        let base = Url::parse(base_url.trim())
            .map_err(|e| ClientError::InvalidUrl(format!("`{base_url}`: {e}")))?;
        match base.scheme() {
            "http" => {}
            "https" => {
                return Err(ClientError::InvalidUrl(format!(
                    "`{base_url}`: this client is built without TLS; use an http:// URL \
                     (or a TLS-terminating proxy in front of it)"
                )))
            }
            other => {
                return Err(ClientError::InvalidUrl(format!(
                    "`{base_url}`: unsupported scheme `{other}`, expected http"
                )))
            }
        }
        if base.cannot_be_a_base() || base.host().is_none() {
            return Err(ClientError::InvalidUrl(format!(
                "`{base_url}`: the URL has no host"
            )));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(ClientError::InvalidUrl(format!(
                "`{base_url}`: the base URL must not have a query or fragment"
            )));
        }
        let authorization = match token {
            None => None,
            Some(token) => {
                let mut value = HeaderValue::from_str(&format!("Bearer {}", token.trim()))
                    .map_err(|_| {
                        ClientError::InvalidUrl(
                            "the token contains characters not allowed in an HTTP header"
                                .to_string(),
                        )
                    })?;
                value.set_sensitive(true);
                Some(value)
            }
        };
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("warden-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        Ok(Client {
            http,
            base,
            authorization,
        })
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    /// The URL of `segments` under the base URL, each segment percent-encoded.
    fn url(&self, segments: &[&str], query: &[(&str, String)]) -> Result<Url, ClientError> {
        for segment in segments {
            if segment.is_empty() {
                return Err(ClientError::InvalidUrl(
                    "a path key must not be empty".to_string(),
                ));
            }
            if *segment == "." || *segment == ".." {
                return Err(ClientError::InvalidUrl(format!(
                    "`{segment}` cannot be used as a path key"
                )));
            }
        }
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|_| ClientError::InvalidUrl(format!("`{}` cannot be a base", self.base)))?
            .pop_if_empty()
            .extend(segments);
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (key, value) in query {
                pairs.append_pair(key, value);
            }
        }
        Ok(url)
    }

    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&serde_json::Value>,
    ) -> Result<(u16, bool, Vec<u8>), ClientError> {
        let mut request = self
            .http
            .request(method, url)
            .header(ACCEPT, "application/json");
        if let Some(value) = &self.authorization {
            request = request.header(AUTHORIZATION, value.clone());
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let is_problem = response
            .headers()
            .get(CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
        let bytes = response.bytes().await.map_err(transport)?;
        Ok((status.as_u16(), is_problem, bytes.to_vec()))
    }

    /// Sends a call and decodes a success body as `T`, an error body as a problem.
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<serde_json::Value>,
    ) -> Result<T, ClientError> {
        let url = self.url(segments, query)?;
        let (status, is_problem, bytes) = self.send(method, url, body.as_ref()).await?;
        if !(200..300).contains(&status) {
            return Err(ClientError::Api(problem_of(status, is_problem, &bytes)));
        }
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode(e.to_string()))
    }

    async fn get<T: DeserializeOwned>(&self, segments: &[&str]) -> Result<T, ClientError> {
        self.call(Method::GET, segments, &[], None).await
    }

    async fn send_json<T: DeserializeOwned, B: Serialize>(
        &self,
        method: Method,
        segments: &[&str],
        body: &B,
    ) -> Result<T, ClientError> {
        let body = serde_json::to_value(body).map_err(|e| ClientError::Decode(e.to_string()))?;
        self.call(method, segments, &[], Some(body)).await
    }

    /// Sends any request: `path` is relative to the base URL, already encoded, starting with
    /// `/` (e.g. `/v1/groups?x=1`). Returns the status and the body as JSON (`null` if empty,
    /// a JSON string if the body is not JSON). Error statuses are returned, not turned into
    /// [`ClientError::Api`]. For tests and odd calls; prefer the typed methods.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<(u16, serde_json::Value), ClientError> {
        if !path.starts_with('/') {
            return Err(ClientError::InvalidUrl(format!(
                "`{path}`: the path must start with `/`"
            )));
        }
        let text = format!("{}{}", self.base.as_str().trim_end_matches('/'), path);
        let url =
            Url::parse(&text).map_err(|e| ClientError::InvalidUrl(format!("`{text}`: {e}")))?;
        let (status, _, bytes) = self.send(method, url, body.as_ref()).await?;
        let value = if bytes.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned())
            })
        };
        Ok((status, value))
    }

    /// `GET /healthz`: `Ok(())` if the server answers.
    pub async fn health(&self) -> Result<(), ClientError> {
        let url = self.url(&["healthz"], &[])?;
        let (status, is_problem, bytes) = self.send(Method::GET, url, None).await?;
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(ClientError::Api(problem_of(status, is_problem, &bytes)))
        }
    }

    /// `GET /v1/openapi.json`: the server's OpenAPI document.
    pub async fn openapi(&self) -> Result<serde_json::Value, ClientError> {
        self.get(&["v1", "openapi.json"]).await
    }

    // -- organization and users ------------------------------------------------------

    /// `GET /v1/organization`: the caller's organization.
    pub async fn organization(&self) -> Result<Organization, ClientError> {
        self.get(&["v1", "organization"]).await
    }

    /// `PATCH /v1/organization`: renames the caller's organization.
    pub async fn rename_organization(
        &self,
        name: &str,
    ) -> Result<Written<Organization>, ClientError> {
        let body = OrganizationUpdate {
            name: name.to_string(),
        };
        self.send_json(Method::PATCH, &["v1", "organization"], &body)
            .await
    }

    /// `GET /v1/users[?status=...]`: the organization's users, optionally of one status
    /// (`invited`, `active`, `deactivated`).
    pub async fn users(&self, status: Option<&str>) -> Result<List<User>, ClientError> {
        let query: Vec<(&str, String)> = status
            .map(|s| vec![("status", s.to_string())])
            .unwrap_or_default();
        self.call(Method::GET, &["v1", "users"], &query, None).await
    }

    /// `GET /v1/users/{user}`: one user, by id or email.
    pub async fn user(&self, key: &str) -> Result<User, ClientError> {
        self.get(&["v1", "users", key]).await
    }

    /// `PATCH /v1/users/{user}`: changes a user's name.
    pub async fn update_user(
        &self,
        key: &str,
        update: &UserUpdate,
    ) -> Result<Written<User>, ClientError> {
        self.send_json(Method::PATCH, &["v1", "users", key], update)
            .await
    }

    /// `POST /v1/users/{user}/deactivate`.
    pub async fn deactivate_user(&self, key: &str) -> Result<Written<User>, ClientError> {
        self.call(Method::POST, &["v1", "users", key, "deactivate"], &[], None)
            .await
    }

    /// `POST /v1/users/{user}/reactivate`.
    pub async fn reactivate_user(&self, key: &str) -> Result<Written<User>, ClientError> {
        self.call(Method::POST, &["v1", "users", key, "reactivate"], &[], None)
            .await
    }

    /// `GET /v1/users/{user}/permissions`: every action the user may perform, and why.
    pub async fn user_permissions(&self, key: &str) -> Result<Permissions, ClientError> {
        self.get(&["v1", "users", key, "permissions"]).await
    }

    /// `GET /v1/whoami`: the caller, its organization and its actions.
    pub async fn whoami(&self) -> Result<Whoami, ClientError> {
        self.get(&["v1", "whoami"]).await
    }

    // -- groups ------------------------------------------------------------------------

    /// `GET /v1/groups`.
    pub async fn groups(&self) -> Result<List<Group>, ClientError> {
        self.get(&["v1", "groups"]).await
    }

    /// `GET /v1/groups/{group}`: one group, by id or name.
    pub async fn group(&self, key: &str) -> Result<Group, ClientError> {
        self.get(&["v1", "groups", key]).await
    }

    /// `POST /v1/groups`.
    pub async fn create_group(&self, input: &GroupInput) -> Result<Written<Group>, ClientError> {
        self.send_json(Method::POST, &["v1", "groups"], input).await
    }

    /// `PATCH /v1/groups/{group}`: renames a group or changes its description.
    pub async fn update_group(
        &self,
        key: &str,
        update: &GroupUpdate,
    ) -> Result<Written<Group>, ClientError> {
        self.send_json(Method::PATCH, &["v1", "groups", key], update)
            .await
    }

    /// `DELETE /v1/groups/{group}`.
    pub async fn delete_group(&self, key: &str) -> Result<Written<Group>, ClientError> {
        self.call(Method::DELETE, &["v1", "groups", key], &[], None)
            .await
    }

    /// `GET /v1/groups/{group}/members`.
    pub async fn group_members(&self, key: &str) -> Result<List<GroupMember>, ClientError> {
        self.get(&["v1", "groups", key, "members"]).await
    }

    /// `PUT /v1/groups/{group}/members/{user}`.
    pub async fn add_group_member(
        &self,
        group: &str,
        user: &str,
    ) -> Result<Written<Group>, ClientError> {
        self.call(
            Method::PUT,
            &["v1", "groups", group, "members", user],
            &[],
            None,
        )
        .await
    }

    /// `DELETE /v1/groups/{group}/members/{user}`.
    pub async fn remove_group_member(
        &self,
        group: &str,
        user: &str,
    ) -> Result<Written<Group>, ClientError> {
        self.call(
            Method::DELETE,
            &["v1", "groups", group, "members", user],
            &[],
            None,
        )
        .await
    }

    // -- policies, roles, catalog --------------------------------------------------------

    /// `GET /v1/policies`.
    pub async fn policies(&self) -> Result<List<Policy>, ClientError> {
        self.get(&["v1", "policies"]).await
    }

    /// `GET /v1/policies/{policy}`: one policy, by id or name.
    pub async fn policy(&self, key: &str) -> Result<Policy, ClientError> {
        self.get(&["v1", "policies", key]).await
    }

    /// `POST /v1/policies`.
    pub async fn create_policy(&self, input: &PolicyInput) -> Result<Written<Policy>, ClientError> {
        self.send_json(Method::POST, &["v1", "policies"], input)
            .await
    }

    /// `PUT /v1/policies/{policy}`: replaces a policy's name, description and rules.
    pub async fn replace_policy(
        &self,
        key: &str,
        input: &PolicyInput,
    ) -> Result<Written<Policy>, ClientError> {
        self.send_json(Method::PUT, &["v1", "policies", key], input)
            .await
    }

    /// `DELETE /v1/policies/{policy}`.
    pub async fn delete_policy(&self, key: &str) -> Result<Written<Policy>, ClientError> {
        self.call(Method::DELETE, &["v1", "policies", key], &[], None)
            .await
    }

    /// `GET /v1/roles`: the catalog's roles.
    pub async fn roles(&self) -> Result<List<Role>, ClientError> {
        self.get(&["v1", "roles"]).await
    }

    /// `GET /v1/roles/{role}`.
    pub async fn role(&self, id: &str) -> Result<Role, ClientError> {
        self.get(&["v1", "roles", id]).await
    }

    /// `GET /v1/catalog`: actions, aliases, roles, legacy groups, namespace permissions.
    pub async fn catalog(&self) -> Result<CatalogView, ClientError> {
        self.get(&["v1", "catalog"]).await
    }

    // -- namespaces ----------------------------------------------------------------------

    /// `GET /v1/namespaces`.
    pub async fn namespaces(&self) -> Result<List<Namespace>, ClientError> {
        self.get(&["v1", "namespaces"]).await
    }

    /// `GET /v1/namespaces/{namespace}`: one namespace, by id or name.
    pub async fn namespace(&self, key: &str) -> Result<Namespace, ClientError> {
        self.get(&["v1", "namespaces", key]).await
    }

    /// `POST /v1/namespaces`.
    pub async fn create_namespace(
        &self,
        input: &NamespaceInput,
    ) -> Result<Written<Namespace>, ClientError> {
        self.send_json(Method::POST, &["v1", "namespaces"], input)
            .await
    }

    /// `DELETE /v1/namespaces/{namespace}`.
    pub async fn delete_namespace(&self, key: &str) -> Result<Written<Namespace>, ClientError> {
        self.call(Method::DELETE, &["v1", "namespaces", key], &[], None)
            .await
    }

    /// `GET /v1/namespaces/{namespace}/access`: who holds which keys in a namespace.
    pub async fn namespace_access(&self, key: &str) -> Result<List<NamespaceAccess>, ClientError> {
        self.get(&["v1", "namespaces", key, "access"]).await
    }

    /// `PUT /v1/namespaces/{namespace}/access/{user}`: sets the grantable keys a user holds.
    pub async fn set_namespace_access(
        &self,
        namespace: &str,
        user: &str,
        input: &NamespacePermissionsInput,
    ) -> Result<Written<Namespace>, ClientError> {
        self.send_json(
            Method::PUT,
            &["v1", "namespaces", namespace, "access", user],
            input,
        )
        .await
    }

    // -- clusters ------------------------------------------------------------------------

    /// `GET /v1/clusters`.
    pub async fn clusters(&self) -> Result<List<Cluster>, ClientError> {
        self.get(&["v1", "clusters"]).await
    }

    /// `GET /v1/clusters/{cluster}`: one cluster, by id or name.
    pub async fn cluster(&self, key: &str) -> Result<Cluster, ClientError> {
        self.get(&["v1", "clusters", key]).await
    }

    /// `POST /v1/clusters`.
    pub async fn create_cluster(
        &self,
        input: &ClusterInput,
    ) -> Result<Written<Cluster>, ClientError> {
        self.send_json(Method::POST, &["v1", "clusters"], input)
            .await
    }

    /// `PATCH /v1/clusters/{cluster}`.
    pub async fn update_cluster(
        &self,
        key: &str,
        update: &ClusterUpdate,
    ) -> Result<Written<Cluster>, ClientError> {
        self.send_json(Method::PATCH, &["v1", "clusters", key], update)
            .await
    }

    /// `DELETE /v1/clusters/{cluster}`.
    pub async fn delete_cluster(&self, key: &str) -> Result<Written<Cluster>, ClientError> {
        self.call(Method::DELETE, &["v1", "clusters", key], &[], None)
            .await
    }

    // -- personal access tokens ------------------------------------------------------------

    /// `GET /v1/tokens`: the caller's own tokens.
    pub async fn tokens(&self) -> Result<List<Token>, ClientError> {
        self.get(&["v1", "tokens"]).await
    }

    /// `GET /v1/tokens/{token}`.
    pub async fn token(&self, id: &str) -> Result<Token, ClientError> {
        self.get(&["v1", "tokens", id]).await
    }

    /// `POST /v1/tokens`: a new personal token; its secret is in the answer, and only there.
    pub async fn create_token(&self, input: &TokenInput) -> Result<CreatedToken, ClientError> {
        self.send_json(Method::POST, &["v1", "tokens"], input).await
    }

    /// `DELETE /v1/tokens/{token}`: revokes one of the caller's tokens.
    pub async fn delete_token(&self, id: &str) -> Result<Written<Token>, ClientError> {
        self.call(Method::DELETE, &["v1", "tokens", id], &[], None)
            .await
    }

    // -- decisions and audit -----------------------------------------------------------------

    /// `POST /v1/authz/check`: answers one or many authorization questions.
    pub async fn check(&self, request: &CheckRequest) -> Result<CheckResponse, ClientError> {
        self.send_json(Method::POST, &["v1", "authz", "check"], request)
            .await
    }

    /// `GET /v1/authz/principals?action=...`: who may perform an action.
    pub async fn who_can(&self, action: &str) -> Result<WhoCan, ClientError> {
        self.call(
            Method::GET,
            &["v1", "authz", "principals"],
            &[("action", action.to_string())],
            None,
        )
        .await
    }

    /// `GET /v1/audit-events`: the newest events first; `before` is the previous page's
    /// last event (`(at, id)`), from which the listing resumes.
    pub async fn audit_events(
        &self,
        limit: Option<u32>,
        before: Option<(i64, &str)>,
    ) -> Result<List<AuditEvent>, ClientError> {
        let mut query = Vec::new();
        if let Some(limit) = limit {
            query.push(("limit", limit.to_string()));
        }
        if let Some((at, id)) = before {
            query.push(("before", at.to_string()));
            if !id.is_empty() {
                query.push(("before_id", id.to_string()));
            }
        }
        self.call(Method::GET, &["v1", "audit-events"], &query, None)
            .await
    }
}

fn transport(e: reqwest::Error) -> ClientError {
    // The error's source chain carries the useful part ("Connection refused", ...).
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(inner) = source {
        let text = inner.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = inner.source();
    }
    ClientError::Transport(message)
}

/// The problem document of an error response; a non-problem body (from a proxy, say) is
/// turned into one with the code `unexpected_response`.
fn problem_of(status: u16, is_problem: bool, bytes: &[u8]) -> Problem {
    if let Ok(problem) = serde_json::from_slice::<Problem>(bytes) {
        return problem;
    }
    let text = String::from_utf8_lossy(bytes);
    let quoted: String = text.trim().chars().take(QUOTED_BODY_CHARS).collect();
    let detail = if quoted.is_empty() {
        format!("the server answered HTTP {status} with an empty body")
    } else if is_problem {
        format!("the server answered HTTP {status} with a malformed problem document: {quoted}")
    } else {
        format!("the server answered HTTP {status}: {quoted}")
    };
    Problem {
        problem_type: "urn:warden:problem:unexpected_response".to_string(),
        title: "Unexpected response".to_string(),
        status,
        detail,
        code: "unexpected_response".to_string(),
        request_id: String::new(),
        field: None,
        action: None,
        revision: None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn client(base: &str) -> Client {
        Client::new(base, Some("wdn_pat_x".into())).unwrap()
    }

    #[test]
    fn path_segments_are_percent_encoded() {
        let c = client("http://127.0.0.1:8080");
        let url = c
            .url(
                &["v1", "groups", "ml team", "members", "ada+x@example.com"],
                &[],
            )
            .unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8080/v1/groups/ml%20team/members/ada+x@example.com"
        );
        let url = c.url(&["v1", "groups", "a/b?c#d%e"], &[]).unwrap();
        assert_eq!(url.path(), "/v1/groups/a%2Fb%3Fc%23d%25e");
    }

    #[test]
    fn base_path_prefix_is_kept() {
        for base in ["http://h:1/warden", "http://h:1/warden/"] {
            let url = client(base).url(&["v1", "whoami"], &[]).unwrap();
            assert_eq!(url.as_str(), "http://h:1/warden/v1/whoami");
        }
    }

    #[test]
    fn query_pairs_are_encoded() {
        let url = client("http://h")
            .url(
                &["v1", "authz", "principals"],
                &[("action", "a b&c".to_string())],
            )
            .unwrap();
        assert_eq!(url.as_str(), "http://h/v1/authz/principals?action=a+b%26c");
    }

    #[test]
    fn dot_and_empty_keys_are_refused() {
        let c = client("http://h");
        for key in ["", ".", ".."] {
            assert!(matches!(
                c.url(&["v1", "groups", key], &[]),
                Err(ClientError::InvalidUrl(_))
            ));
        }
    }

    #[test]
    fn bad_base_urls_are_refused() {
        for base in [
            "not a url",
            "ftp://h",
            "https://h",
            "mailto:a@b",
            "http://h/?q=1",
        ] {
            assert!(
                matches!(Client::new(base, None), Err(ClientError::InvalidUrl(_))),
                "{base}"
            );
        }
        assert!(matches!(
            Client::new("http://h", Some("bad\ntoken".into())),
            Err(ClientError::InvalidUrl(_))
        ));
    }

    #[test]
    fn api_error_display_is_status_code_detail() {
        let body = br#"{"type":"urn:warden:problem:unauthenticated","title":"Authentication required","status":401,"detail":"unknown or revoked token","code":"unauthenticated","request_id":"r1"}"#;
        let e = ClientError::Api(problem_of(401, true, body));
        assert_eq!(
            e.to_string(),
            "401 unauthenticated: unknown or revoked token"
        );
        assert_eq!(e.code(), Some("unauthenticated"));
    }

    #[test]
    fn non_problem_error_bodies_become_problems() {
        let p = problem_of(502, false, b"<html>Bad Gateway</html>");
        assert_eq!(p.status, 502);
        assert_eq!(p.code, "unexpected_response");
        assert!(p.detail.contains("Bad Gateway"));
        let p = problem_of(500, false, b"");
        assert!(p.detail.contains("empty body"));
    }

    #[test]
    fn debug_does_not_show_the_token() {
        let text = format!("{:?}", client("http://h"));
        assert!(!text.contains("wdn_pat_x"), "{text}");
    }
}
