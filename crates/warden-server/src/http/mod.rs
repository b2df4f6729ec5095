//! The HTTP layer: one router per area under `v1/`, each registering its routes and their
//! OpenAPI operations together (`utoipa-axum`), merged here with the middleware every
//! request goes through. Handlers translate requests into service calls and service errors
//! into problem documents; they hold no business rule.
//!
//! The pages behind emailed links (`pages.rs`) are plain routes beside the API, outside the
//! OpenAPI document.
//!
//! Room for more: Kubernetes webhooks (`k8s/`), SCIM (`scim/`), SAML (`saml/`) and the web
//! console (`console/`) get folders of their own beside `v1/`.

pub mod error;
pub mod extract;
mod k8s;
pub mod ops;
pub mod pages;
pub mod respond;
pub mod serve;
pub mod v1;

use std::sync::{Arc, OnceLock};

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use tokio::net::TcpListener;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use self::error::{ApiError, PROBLEM_JSON};
pub use self::serve::{serve_app, ClientAddr, Limits};
use crate::service::context::{next_request_id, REQUEST_ID};
use crate::service::Service;

/// The largest request body accepted (policies with many rules fit comfortably).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// The longest request target (path and query) accepted.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// The most bytes of request headers accepted (names and values).
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

const REQUEST_ID_HEADER: &str = "x-request-id";

/// What every handler gets: the service.
pub type AppState = Arc<Service>;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Warden API",
        description = "Identity and access management for a GPU cloud. Every call but \
            `/healthz` and `/v1/openapi.json` needs `Authorization: Bearer <token>` and one \
            catalog action, named in the operation's description; there is no admin bypass. \
            Every error is an RFC 9457 problem document (`application/problem+json`) with a \
            stable `code`. Request bodies refuse fields they do not document.",
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// This document.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "service", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", body = Object)))]
async fn openapi_json() -> Json<&'static serde_json::Value> {
    Json(openapi())
}

/// Every route of the API, and the OpenAPI document describing them.
fn build() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(openapi_json))
        .merge(v1::router())
        .merge(ops::router())
        .split_for_parts()
}

/// The OpenAPI document of the API, with the catalog's names as enums.
pub fn openapi() -> &'static serde_json::Value {
    static DOC: OnceLock<serde_json::Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = serde_json::to_value(build().1).unwrap_or_default();
        if let Ok(catalog) = warden_core::Catalog::builtin() {
            catalog_enums(&mut doc, &catalog);
        }
        doc
    })
}

/// The value at `path` (object keys) inside `value`, if every step exists.
fn at<'a>(value: &'a mut serde_json::Value, path: &[&str]) -> Option<&'a mut serde_json::Value> {
    path.iter().try_fold(value, |v, key| v.get_mut(*key))
}

/// States the catalog's names (roles, actions and aliases, namespace permission keys) as
/// enums, so the document says which names exist; the catalog is data, so the enums are
/// filled in from it rather than written in the types.
fn catalog_enums(doc: &mut serde_json::Value, catalog: &warden_core::Catalog) {
    use serde_json::json;
    let roles: Vec<&str> = catalog.roles().iter().map(|r| r.id.as_str()).collect();
    let mut actions: Vec<&str> = catalog.actions().iter().map(String::as_str).collect();
    actions.extend(catalog.aliases().keys().map(String::as_str));
    let keys: Vec<&str> = catalog
        .namespace_permissions()
        .iter()
        .map(|p| p.key.as_str())
        .collect();
    let mut questions = actions.clone();
    questions.extend(keys.iter().copied());
    if let Some(schemas) = at(doc, &["components", "schemas"]).and_then(|s| s.as_object_mut()) {
        schemas.insert(
            "RoleId".into(),
            json!({"type": "string", "description": "A role of the catalog (`GET /v1/roles`).", "enum": roles}),
        );
        schemas.insert(
            "ActionName".into(),
            json!({"type": "string", "description": "A catalog action, or one of the seeds' aliases.", "enum": actions}),
        );
        schemas.insert(
            "NamespacePermissionKey".into(),
            json!({"type": "string", "description": "A namespace permission key of the catalog.", "enum": keys}),
        );
        schemas.insert(
            "CheckAction".into(),
            json!({"type": "string", "description": "A catalog action or alias; with `namespace`, a namespace permission key.", "enum": questions}),
        );
    }
    let reference = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    for (path, schema) in [
        (
            &[
                "components",
                "schemas",
                "RuleInput",
                "properties",
                "roles",
                "items",
            ][..],
            "RoleId",
        ),
        (
            &[
                "components",
                "schemas",
                "NamespaceAccessInput",
                "properties",
                "permissions",
                "items",
            ],
            "NamespacePermissionKey",
        ),
        (
            &[
                "components",
                "schemas",
                "NamespacePermissionsInput",
                "properties",
                "permissions",
                "items",
            ],
            "NamespacePermissionKey",
        ),
        (
            &[
                "components",
                "schemas",
                "CheckQuestion",
                "properties",
                "action",
            ],
            "CheckAction",
        ),
    ] {
        if let Some(slot) = at(doc, path) {
            *slot = reference(schema);
        }
    }
    if let Some(params) = at(doc, &["paths", "/v1/authz/principals", "get", "parameters"])
        .and_then(|p| p.as_array_mut())
    {
        for param in params.iter_mut().filter(|p| p["name"] == "action") {
            if let Some(slot) = param.get_mut("schema") {
                *slot = reference("ActionName");
            }
        }
    }
}

/// Gives every request an id (a sane incoming `X-Request-Id` is kept), visible to the
/// service through the task-local request id and returned in the response header; refuses
/// over-long targets and headers with problem documents; and turns the plain-text 413 of the
/// body-limit layer into one. (One middleware, not several: each layer of `from_fn` costs a
/// boxed future per request.)
async fn edge(request: Request, next: Next) -> Response {
    let incoming = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_string);
    let id = incoming.unwrap_or_else(next_request_id);
    let uri_len = request
        .uri()
        .path_and_query()
        .map_or(0, |pq| pq.as_str().len());
    let header_bytes: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    let mut response = REQUEST_ID
        .scope(id.clone(), async move {
            if uri_len > MAX_URI_BYTES {
                return ApiError::UriTooLong.into_response();
            }
            if header_bytes > MAX_HEADER_BYTES {
                return ApiError::HeadersTooLarge.into_response();
            }
            let response = next.run(request).await;
            let is_problem = response
                .headers()
                .get(axum::http::header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
            if response.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE && !is_problem {
                return ApiError::PayloadTooLarge.into_response();
            }
            response
        })
        .await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    response
}

async fn no_route() -> Response {
    ApiError::NoRoute.into_response()
}

async fn method_not_allowed() -> Response {
    ApiError::MethodNotAllowed.into_response()
}

/// The whole application.
pub fn app(service: Arc<Service>) -> Router {
    build()
        .0
        .merge(pages::router())
        .merge(k8s::router())
        .route_layer(middleware::from_fn_with_state(service.clone(), ops::record))
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(
            tower_http::trace::TraceLayer::new_for_http().make_span_with(
                // The default span records the whole URI, where a pasted secret may sit
                // (`DELETE /v1/tokens/wdn_…`): record it redacted.
                |request: &Request| {
                    let target = request.uri().path_and_query().map_or("", |pq| pq.as_str());
                    tracing::debug_span!(
                        "request",
                        method = %request.method(),
                        uri = %warden_core::token::redact(target),
                    )
                },
            ),
        )
        .layer(middleware::from_fn(edge))
        .with_state(service)
}

/// Serves the API on `listener` within `limits` until `shutdown` resolves; then stops
/// accepting connections and lets requests in flight finish.
pub async fn serve(
    service: Arc<Service>,
    listener: TcpListener,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    service.spawn_background();
    serve_app(app(service), listener, limits, shutdown).await
}
