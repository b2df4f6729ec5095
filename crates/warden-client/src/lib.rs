//! A typed async client for Warden's HTTP API (`/v1`).
//!
//! ```no_run
//! # async fn demo() -> Result<(), warden_client::ClientError> {
//! let client = warden_client::Client::new("http://127.0.0.1:8080", Some("wdn_pat_...".into()))?;
//! let me = client.whoami().await?;
//! println!("{} in {}", me.principal.name, me.organization_id);
//! # Ok(())
//! # }
//! ```
//!
//! Each area's calls live beside its types (`groups.rs`, `policies.rs`, ...). Every method sends `Authorization: Bearer <token>` (when the client has a token) and maps
//! an error response to [`ClientError::Api`] carrying the server's problem document. Path keys
//! (a group name, a user email, ...) are percent-encoded, so any key the server accepts can be
//! passed as is.

// `ClientError::Api` carries the whole problem document by value (about 200 bytes): errors
// come back from network calls, where boxing would save nothing measurable and make
// matching on the problem clumsier.
#![allow(clippy::result_large_err)]

mod audit;
mod authz;
mod catalog;
mod clusters;
mod groups;
mod invitations;
mod kubernetes;
pub mod model;
mod namespaces;
mod organization;
mod platform;
mod policies;
mod service_accounts;
mod sessions;
mod tokens;
mod users;

use std::time::Duration;

use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::Url;

/// The HTTP method of [`Client::raw`].
pub use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::model::Problem;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error (a problem details document).
    #[error("{} {}: {}", .0.status, .0.code, .0.detail)]
    Api(Box<Problem>),
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
            return Err(ClientError::Api(Box::new(problem_of(
                status, is_problem, &bytes,
            ))));
        }
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode(e.to_string()))
    }

    /// A GET whose success body is text (a YAML export), an error body a problem.
    async fn get_text(&self, segments: &[&str]) -> Result<String, ClientError> {
        let url = self.url(segments, &[])?;
        let (status, is_problem, bytes) = self.send(Method::GET, url, None).await?;
        if !(200..300).contains(&status) {
            return Err(ClientError::Api(Box::new(problem_of(
                status, is_problem, &bytes,
            ))));
        }
        String::from_utf8(bytes).map_err(|e| ClientError::Decode(e.to_string()))
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
            Err(ClientError::Api(Box::new(problem_of(
                status, is_problem, &bytes,
            ))))
        }
    }

    /// `GET /v1/openapi.json`: the server's OpenAPI document.
    pub async fn openapi(&self) -> Result<serde_json::Value, ClientError> {
        self.get(&["v1", "openapi.json"]).await
    }
}

fn transport(e: reqwest::Error) -> ClientError {
    ClientError::Transport(transport_reason(&e))
}

/// Why a request got no answer, as briefly as the cause allows: `connection refused`, `timed
/// out`, or the operating system's words; else the whole chain of causes.
fn transport_reason(e: &reqwest::Error) -> String {
    use std::io::ErrorKind;
    if e.is_timeout() {
        return "timed out".to_string();
    }
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        if let Some(io) = inner.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                ErrorKind::ConnectionRefused => "connection refused".to_string(),
                ErrorKind::ConnectionReset => "connection reset".to_string(),
                ErrorKind::ConnectionAborted => "connection aborted".to_string(),
                ErrorKind::TimedOut => "timed out".to_string(),
                _ => io.to_string(),
            };
        }
        source = inner.source();
    }
    // The error's source chain carries the useful part.
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        let text = inner.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = inner.source();
    }
    message
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
        did_you_mean: None,
        roles: Vec::new(),
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
        let e = ClientError::Api(Box::new(problem_of(401, true, body)));
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
