//! Warden's HTTP server: the API under `/v1`, authenticated by bearer tokens and authorized
//! by the engine, over the in-memory snapshots that [`Warden`] keeps in step with the store.

pub mod api;
pub mod problem;
mod views;
pub mod warden;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tokio::net::TcpListener;

pub use crate::problem::ApiError;
pub use crate::warden::{Caller, Settings, Warden};

/// The largest request body accepted (policies with many rules fit comfortably).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

const REQUEST_ID: &str = "x-request-id";

/// A request id unique to this process run: a random prefix drawn once, and a counter.
/// (Drawing randomness per request was a system call on the hot path.)
fn next_request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static PREFIX: OnceLock<String> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(|| {
        let mut ctx = warden::SystemContext::new();
        let mut prefix = warden_core::CommandContext::random_suffix(&mut ctx);
        prefix.truncate(8);
        prefix
    });
    format!("{prefix}-{:x}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// Gives every request an id (a sane incoming `X-Request-Id` is kept), visible to handlers
/// through [`problem::current_request_id`] and returned in the response header; and turns
/// the plain-text 413 of the body-limit layer into a problem document. (One middleware, not
/// two: each layer of `from_fn` costs a boxed future per request.)
async fn request_id(request: Request, next: Next) -> Response {
    let incoming = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_string);
    let id = incoming.unwrap_or_else(next_request_id);
    let mut response = problem::REQUEST_ID
        .scope(id.clone(), async move {
            let response = next.run(request).await;
            let is_problem = response
                .headers()
                .get(axum::http::header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
            if response.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE && !is_problem {
                return ApiError::PayloadTooLarge.into_response();
            }
            response
        })
        .await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID), value);
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
pub fn app(warden: Arc<Warden>) -> Router {
    api::routes()
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .layer(middleware::from_fn(request_id))
        .with_state(warden)
}

/// Serves the API on `listener` until `shutdown` resolves; then stops accepting
/// connections and lets requests in flight finish.
pub async fn serve(
    warden: Arc<Warden>,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    warden.spawn_background();
    let app = app(warden);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
