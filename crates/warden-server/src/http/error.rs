//! Every error the API answers, rendered once, here, as an RFC 9457 problem document
//! (`application/problem+json`) carrying the stable code of `warden_core::error::code`.
//! Internal error text is logged with the request id and never sent to a client.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use warden_client::model::Problem;
use warden_core::{Code, DomainError, ErrorCode};

use crate::service::context::current_request_id;
use crate::service::ServiceError;

/// The media type of every error response.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Why a request failed: a service error, or one the HTTP layer raised itself.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error("the body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("{field}: unknown field (the body may only have the fields the endpoint documents)")]
    UnknownField { field: String },
    #[error("the body does not match the expected shape: {0}")]
    InvalidBody(String),
    #[error("the body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    #[error("the body is larger than {} bytes", super::MAX_BODY_BYTES)]
    PayloadTooLarge,
    #[error("the request target is longer than {} bytes", super::MAX_URI_BYTES)]
    UriTooLong,
    #[error(
        "the request headers are larger than {} bytes",
        super::MAX_HEADER_BYTES
    )]
    HeadersTooLarge,
    #[error("no such endpoint")]
    NoRoute,
    #[error("method not allowed on this endpoint")]
    MethodNotAllowed,
    /// A refusal about one part of the request, named by `field` (`checks[1].action`).
    #[error("{error}")]
    At { field: String, error: DomainError },
    /// A query or path parameter that cannot be parsed or is out of range.
    #[error("{field}: {message}")]
    InvalidParameter { field: String, message: String },
    /// A part of the request that is out of range, told in words a person reads (the field's
    /// path is in `field`, not in the message).
    #[error("{detail}")]
    Described { field: String, detail: String },
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> ApiError {
        ApiError::Service(ServiceError::Domain(e))
    }
}

impl ErrorCode for ApiError {
    fn error_code(&self) -> Code {
        match self {
            ApiError::Service(e) => e.error_code(),
            ApiError::MalformedJson(_) => Code::MalformedJson,
            ApiError::UnknownField { .. } => Code::UnknownField,
            ApiError::InvalidBody(_) => Code::InvalidBody,
            ApiError::UnsupportedMediaType => Code::UnsupportedMediaType,
            ApiError::PayloadTooLarge => Code::PayloadTooLarge,
            ApiError::UriTooLong => Code::UriTooLong,
            ApiError::HeadersTooLarge => Code::RequestHeadersTooLarge,
            ApiError::NoRoute => Code::NoSuchEndpoint,
            ApiError::MethodNotAllowed => Code::MethodNotAllowed,
            ApiError::InvalidParameter { .. } | ApiError::Described { .. } => Code::InvalidField,
            ApiError::At { error, .. } => error.error_code(),
        }
    }
}

impl ApiError {
    /// `invalid_field` for `field`, with a message that stands on its own.
    pub fn described(field: &str, detail: impl Into<String>) -> ApiError {
        ApiError::Described {
            field: field.to_string(),
            detail: detail.into(),
        }
    }

    pub fn parameter(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::InvalidParameter {
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// The problem document for this error.
    pub fn to_problem(&self, request_id: &str) -> Problem {
        let code = self.error_code();
        let detail = match self {
            ApiError::Service(e) => e.public_detail(),
            other => other.to_string(),
        };
        let (field, action, revision) = match self {
            ApiError::Service(e) => (
                e.field().map(str::to_string),
                e.action().map(str::to_string),
                e.revision(),
            ),
            ApiError::UnknownField { field }
            | ApiError::InvalidParameter { field, .. }
            | ApiError::Described { field, .. }
            | ApiError::At { field, .. } => (Some(field.clone()), None, None),
            _ => (None, None, None),
        };
        let (did_you_mean, roles) = match self {
            ApiError::Service(e) => (e.did_you_mean().map(str::to_string), e.roles().to_vec()),
            ApiError::At { error, .. } => (
                error.did_you_mean().map(str::to_string),
                error.roles().to_vec(),
            ),
            _ => (None, Vec::new()),
        };
        Problem {
            problem_type: format!("urn:warden:problem:{}", code.name()),
            title: code.title().to_string(),
            status: code.status(),
            detail,
            code: code.name().to_string(),
            request_id: request_id.to_string(),
            field,
            action,
            revision,
            did_you_mean,
            roles,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let request_id = current_request_id();
        if self.error_code() == Code::Internal {
            tracing::error!(request_id = %request_id, error = %self, "internal error");
        }
        let mut response = problem_response(&self.to_problem(&request_id));
        if let ApiError::Service(e) = &self {
            if let Some(seconds) = e.retry_after_secs() {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
        }
        response
    }
}

/// A problem document as a response.
pub fn problem_response(problem: &Problem) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(problem).unwrap_or_default();
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"warden\""),
        );
    }
    response
}

/// The error responses every operation may give, for the OpenAPI document.
#[derive(Debug, utoipa::IntoResponses)]
pub enum Problems {
    /// An error: a problem document with a stable `code` (README, "Errors").
    #[response(status = "default", content_type = "application/problem+json")]
    Problem(#[to_schema] Problem),
}
