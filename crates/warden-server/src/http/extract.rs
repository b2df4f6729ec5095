//! Extractors whose rejections are problem documents: a strict JSON body, query and path
//! parameters, and the authenticated caller.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::{Deserialize, DeserializeOwned};

use super::error::ApiError;
use warden_core::PrincipalId;

use crate::service::{Caller, ClusterCaller, OperatorCaller, Service, SessionCaller};

/// A JSON request body, strictly: `Content-Type: application/json`, an object at the top
/// (never an array standing for one), no field the type does not know (each input type
/// denies unknown fields), nothing after it.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let headers = req.headers().clone();
        let body = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::MalformedJson(e.body_text())
            }
        })?;
        parse_json(&headers, &body).map(Json)
    }
}

/// Parses a JSON body by the rules of [`Json`], borrowing from `body` where `T` wants.
pub fn parse_json<'a, T: Deserialize<'a>>(
    headers: &HeaderMap,
    body: &'a [u8],
) -> Result<T, ApiError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let mime = v
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        });
    if !json {
        return Err(ApiError::UnsupportedMediaType);
    }
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    match first {
        None => return Err(ApiError::MalformedJson("the body is empty".to_string())),
        Some(b'{') => {}
        Some(b'[' | b'"' | b't' | b'f' | b'n' | b'-' | b'0'..=b'9') => {
            return Err(ApiError::InvalidBody(
                "expected a JSON object at the top level".to_string(),
            ))
        }
        Some(_) => {
            return Err(ApiError::MalformedJson(
                "expected a JSON object at the top level".to_string(),
            ))
        }
    }
    // The plain parse first (the check endpoint's hot path); only a refused body is parsed
    // again, tracking the path to the field at fault for the problem document.
    match serde_json::from_slice(body) {
        Ok(value) => Ok(value),
        Err(e) if e.classify() != serde_json::error::Category::Data => {
            Err(ApiError::MalformedJson(e.to_string()))
        }
        Err(plain) => {
            let mut de = serde_json::Deserializer::from_slice(body);
            match serde_path_to_error::deserialize::<_, T>(&mut de) {
                Err(e) => Err(body_error(e)),
                Ok(_) => Err(ApiError::InvalidBody(plain.to_string())),
            }
        }
    }
}

fn body_error(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = e.path().to_string();
    let inner = e.into_inner();
    match inner.classify() {
        serde_json::error::Category::Data => {
            let message = inner.to_string();
            if let Some(name) = message
                .strip_prefix("unknown field `")
                .and_then(|rest| rest.split('`').next())
            {
                let field = if path == "." || path.is_empty() {
                    name.to_string()
                } else if path.ends_with(name) {
                    path
                } else {
                    format!("{path}.{name}")
                };
                return ApiError::UnknownField { field };
            }
            if path == "." || path.is_empty() {
                ApiError::InvalidBody(message)
            } else {
                ApiError::InvalidBody(format!("{path}: {message}"))
            }
        }
        _ => ApiError::MalformedJson(inner.to_string()),
    }
}

/// Query parameters whose rejections become problem details.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(q)| Query(q))
            .map_err(|e| ApiError::parameter("query", e.body_text()))
    }
}

/// Path parameters whose rejections (say, invalid percent-encoding) become problem details.
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| Path(v))
            .map_err(|e| ApiError::parameter("path", e.body_text()))
    }
}

/// The bearer secret of a request and the client's address; a missing or malformed
/// header counts as a failed authentication.
fn bearer<'a>(
    parts: &'a Parts,
    service: &Service,
) -> Result<(&'a str, Option<std::net::IpAddr>), ApiError> {
    let address = parts
        .extensions
        .get::<crate::http::serve::ClientAddr>()
        .map(|a| a.0);
    let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
        service.unauthenticated_from(
            address,
            "an Authorization: Bearer <token> header is required",
        )
    })?;
    let secret = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| {
            service
                .unauthenticated_from(address, "the Authorization header must be `Bearer <token>`")
        })?;
    Ok((secret, address))
}

impl FromRequestParts<Arc<Service>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        service: &Arc<Service>,
    ) -> Result<Caller, ApiError> {
        // A console session stands for its user when no token is presented.
        if !parts.headers.contains_key(header::AUTHORIZATION)
            && crate::http::v1::sessions::cookie(parts).is_some()
        {
            let session = SessionCaller::from_request_parts(parts, service).await?;
            return Ok(Caller {
                org: session.org,
                principal: PrincipalId::User(session.user),
                token: None,
                compiled: session.compiled,
            });
        }
        let (secret, address) = bearer(parts, service)?;
        Ok(service.authenticate_from(secret, address).await?)
    }
}

/// A cluster's kube-apiserver, by its webhook credential (`/k8s/...`).
impl FromRequestParts<Arc<Service>> for ClusterCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        service: &Arc<Service>,
    ) -> Result<ClusterCaller, ApiError> {
        let (secret, address) = bearer(parts, service)?;
        Ok(service.authenticate_cluster_from(secret, address).await?)
    }
}

/// A platform operator, by an operator token (`/v1/platform/...`).
impl FromRequestParts<Arc<Service>> for OperatorCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        service: &Arc<Service>,
    ) -> Result<OperatorCaller, ApiError> {
        let (secret, address) = bearer(parts, service)?;
        Ok(service.authenticate_operator_from(secret, address).await?)
    }
}
