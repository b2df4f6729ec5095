//! What operators call: `/healthz` (the process answers), `/readyz` (it can serve: the store
//! answers and the organizations are loaded) and `/metrics` (Prometheus text format), none
//! needing a token, none revealing a tenant's data; and the middleware that counts every
//! routed request for `/metrics`.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, Problems};
use super::AppState;
use crate::service::{RouteLabels, ServiceError};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

/// The process answers (liveness).
#[utoipa::path(get, path = "/healthz", tag = "service", security(()),
    responses((status = 200, description = "The server answers", body = String, content_type = "text/plain")))]
async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the store answers, and how many organizations are served.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
struct Readiness {
    status: &'static str,
    organizations: usize,
    /// Whether other servers' commits are pushed to this one (PostgreSQL `LISTEN`).
    listening: bool,
}

/// The server is ready: its store answers and every organization is loaded (503 `not_ready`
/// while a start-up is still loading them).
#[utoipa::path(get, path = "/readyz", tag = "service", security(()),
    responses((status = 200, body = Readiness), Problems))]
async fn readyz(State(s): State<AppState>) -> Result<Json<Readiness>, ApiError> {
    s.store()
        .ping()
        .await
        .map_err(|e| ServiceError::NotReady(format!("the store does not answer: {e}")))?;
    if !s.is_loaded() {
        return Err(ServiceError::NotReady(format!(
            "still loading the organizations ({} loaded so far); requests are served meanwhile, \
             each waiting for its organization",
            s.org_ids().len()
        ))
        .into());
    }
    Ok(Json(Readiness {
        status: "ready",
        organizations: s.org_ids().len(),
        listening: s.is_listening(),
    }))
}

/// Metrics in the Prometheus text format (0.0.4).
#[utoipa::path(get, path = "/metrics", tag = "service", security(()),
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain"), Problems))]
async fn metrics(State(s): State<AppState>) -> Result<Response, ApiError> {
    let text = s.render_metrics().await?;
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(response)
}

/// Counts a routed request and its latency, by method, route template and status.
pub(super) async fn record(State(s): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(String::new, |p| p.as_str().to_string());
    let response = next.run(request).await;
    let labels = RouteLabels {
        method,
        route,
        status: response.status().as_u16(),
    };
    let metrics = s.metrics();
    metrics.requests.get_or_create(&labels).inc();
    metrics
        .request_seconds
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    response
}
