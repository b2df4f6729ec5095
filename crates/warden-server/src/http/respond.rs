//! Successful answers: reads carry the revision they reflect, writes the revision they made.

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use warden_client::model as m;

use crate::service::CompiledOrg;

/// The header every organization-scoped response carries: the revision it reflects.
pub const REVISION_HEADER: &str = "warden-revision";

pub fn with_revision(mut response: Response, revision: u64) -> Response {
    if let Ok(value) = HeaderValue::from_str(&revision.to_string()) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REVISION_HEADER), value);
    }
    response
}

/// An answer carrying a secret (shown once): never cached.
pub fn secret<T: Serialize>(status: StatusCode, body: T, revision: Option<u64>) -> Response {
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    match revision {
        Some(revision) => with_revision(response, revision),
        None => response,
    }
}

/// A read of `compiled`.
pub fn read<T: Serialize>(compiled: &CompiledOrg, body: T) -> Response {
    with_revision(Json(body).into_response(), compiled.revision())
}

/// A listing of `compiled`.
pub fn list<T: Serialize>(compiled: &CompiledOrg, items: Vec<T>) -> Response {
    read(
        compiled,
        m::List {
            revision: compiled.revision(),
            items,
        },
    )
}

/// A write's answer: the revision it produced and what it wrote.
pub fn written<T: Serialize>(
    status: StatusCode,
    compiled: &CompiledOrg,
    item: Option<T>,
) -> Response {
    with_revision(
        (
            status,
            Json(m::Written {
                revision: compiled.revision(),
                item,
            }),
        )
            .into_response(),
        compiled.revision(),
    )
}
