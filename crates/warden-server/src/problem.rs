//! Every API error, mapped to an RFC 9457 problem details response in one place.
//!
//! The table of stable codes lives in [`ApiError::parts`]: clients match on `code`, never on
//! `detail`. Internal error text is logged with the request id and never sent to a client.

use axum::extract::rejection::JsonRejection;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use warden_client::model::Problem;
use warden_core::DomainError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("{0}")]
    Unauthenticated(&'static str),
    #[error("the token has expired")]
    TokenExpired,
    #[error("this call needs the action `{0}`, which no policy grants to the caller")]
    Forbidden(String),
    #[error("{kind} `{id}` does not exist")]
    NotFound { kind: &'static str, id: String },
    #[error("no such endpoint")]
    NoRoute,
    #[error("method not allowed on this endpoint")]
    MethodNotAllowed,
    #[error("the body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("the body does not match the expected shape: {0}")]
    InvalidBody(String),
    #[error("the body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    #[error("the body is too large")]
    PayloadTooLarge,
    #[error("{field}: {message}")]
    InvalidField { field: String, message: String },
    /// An action name that is neither a catalog action nor an alias (the message says which
    /// and where).
    #[error("{0}")]
    UnknownAction(String),
    #[error("revision {requested} is not reached: this server is at revision {current}")]
    RevisionNotReached { requested: u64, current: u64 },
    #[error("the organization changed concurrently too often; retry the call")]
    ConcurrentModification,
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn invalid(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::InvalidField {
            field: field.to_string(),
            message: message.into(),
        }
    }

    pub fn not_found(kind: &'static str, id: &str) -> ApiError {
        ApiError::NotFound {
            kind,
            id: id.chars().take(128).collect(),
        }
    }

    /// The status, stable code and title of each error: the one table of codes.
    pub fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        use StatusCode as S;
        match self {
            ApiError::Domain(e) => {
                let status = match e {
                    DomainError::InvalidField { .. }
                    | DomainError::UnknownRole(_)
                    | DomainError::UnknownPrincipal { .. }
                    | DomainError::UnknownNamespacePermission(_)
                    | DomainError::DefaultPolicyRolesFixed { .. }
                    | DomainError::DefaultPolicyGroupRequired { .. } => S::UNPROCESSABLE_ENTITY,
                    DomainError::NotFound { .. } => S::NOT_FOUND,
                    DomainError::Duplicate { .. }
                    | DomainError::LastAdmin
                    | DomainError::LegacyGroupProtected(_)
                    | DomainError::DefaultPolicyProtected(_)
                    | DomainError::GroupInUse { .. } => S::CONFLICT,
                    DomainError::Forbidden { .. }
                    | DomainError::SelfPrivilegeChange
                    | DomainError::DefaultAdminProtected
                    | DomainError::ReservedNamespacePermission(_)
                    | DomainError::OperatorOnly => S::FORBIDDEN,
                };
                (status, e.code(), title(e.code()))
            }
            ApiError::Unauthenticated(_) => (
                S::UNAUTHORIZED,
                "unauthenticated",
                "Authentication required",
            ),
            ApiError::TokenExpired => (S::UNAUTHORIZED, "token_expired", "Token expired"),
            ApiError::Forbidden(_) => (S::FORBIDDEN, "forbidden", "Forbidden"),
            ApiError::NotFound { .. } => (S::NOT_FOUND, "not_found", "Not found"),
            ApiError::NoRoute => (S::NOT_FOUND, "no_such_endpoint", "No such endpoint"),
            ApiError::MethodNotAllowed => (
                S::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "Method not allowed",
            ),
            ApiError::MalformedJson(_) => (S::BAD_REQUEST, "malformed_json", "Malformed JSON"),
            ApiError::InvalidBody(_) => (
                S::UNPROCESSABLE_ENTITY,
                "invalid_body",
                "Body does not match the schema",
            ),
            ApiError::UnsupportedMediaType => (
                S::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Unsupported media type",
            ),
            ApiError::PayloadTooLarge => (
                S::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "Payload too large",
            ),
            ApiError::InvalidField { .. } => {
                (S::UNPROCESSABLE_ENTITY, "invalid_field", "Invalid field")
            }
            ApiError::UnknownAction(_) => {
                (S::UNPROCESSABLE_ENTITY, "unknown_action", "Unknown action")
            }
            ApiError::RevisionNotReached { .. } => {
                (S::CONFLICT, "revision_not_reached", "Revision not reached")
            }
            ApiError::ConcurrentModification => (
                S::CONFLICT,
                "concurrent_modification",
                "Concurrent modification",
            ),
            ApiError::Internal(_) => (
                S::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal server error",
            ),
        }
    }

    /// The problem document for this error.
    pub fn to_problem(&self, request_id: &str) -> Problem {
        let (status, code, title) = self.parts();
        let detail = match self {
            ApiError::Internal(_) => "an internal error occurred; see the server log".to_string(),
            other => other.to_string(),
        };
        Problem {
            problem_type: format!("urn:warden:problem:{code}"),
            title: title.to_string(),
            status: status.as_u16(),
            detail,
            code: code.to_string(),
            request_id: request_id.to_string(),
            field: match self {
                ApiError::InvalidField { field, .. }
                | ApiError::Domain(DomainError::InvalidField { field, .. }) => Some(field.clone()),
                _ => None,
            },
            action: match self {
                ApiError::Forbidden(action)
                | ApiError::Domain(DomainError::Forbidden { action }) => Some(action.clone()),
                _ => None,
            },
            revision: match self {
                ApiError::RevisionNotReached { current, .. } => Some(*current),
                _ => None,
            },
        }
    }
}

fn title(code: &str) -> &'static str {
    match code {
        "invalid_field" => "Invalid field",
        "not_found" => "Not found",
        "duplicate_name" => "Name already taken",
        "unknown_role" => "Unknown role",
        "unknown_principal" => "Unknown principal",
        "unknown_namespace_permission" => "Unknown namespace permission",
        "forbidden" => "Forbidden",
        "last_admin" => "Last admin",
        "self_privilege_change" => "Own privileges cannot be changed",
        "default_admin_protected" => "Default admin protected",
        "legacy_group_protected" => "Legacy group protected",
        "default_policy_protected" => "Default policy protected",
        "default_policy_roles_fixed" => "Default policy roles are fixed",
        "default_policy_group_required" => "Default policy must keep its group",
        "group_in_use" => "Group in use",
        "reserved_namespace_permission" => "Reserved namespace permission",
        "operator_only" => "Platform operators only",
        _ => "Error",
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> ApiError {
        match rejection {
            JsonRejection::JsonDataError(e) => ApiError::InvalidBody(e.body_text()),
            JsonRejection::JsonSyntaxError(e) => ApiError::MalformedJson(e.body_text()),
            JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType,
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::PayloadTooLarge
            }
            other => ApiError::MalformedJson(other.body_text()),
        }
    }
}

impl From<warden_store::StoreError> for ApiError {
    fn from(e: warden_store::StoreError) -> ApiError {
        ApiError::Internal(e.to_string())
    }
}

/// The request id of the call being answered, set by the request-id middleware.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

tokio::task_local! {
    /// The current request's id, readable from anywhere in its handler.
    pub static REQUEST_ID: String;
}

pub fn current_request_id() -> String {
    REQUEST_ID
        .try_with(|id| id.clone())
        .unwrap_or_else(|_| String::from("-"))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let request_id = current_request_id();
        if let ApiError::Internal(message) = &self {
            tracing::error!(request_id = %request_id, error = %message, "internal error");
        }
        let problem = self.to_problem(&request_id);
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"warden\""),
            );
        }
        response
    }
}
