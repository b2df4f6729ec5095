//! `/v1/sessions` and `/v1/password-resets`: console sign-in. A session is an HttpOnly,
//! SameSite=Strict cookie (`Secure` when the server's public URL is https); every
//! state-changing call of a session carries its CSRF token in `X-CSRF-Token`.

use std::sync::Arc;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use warden_client::model as m;
use warden_core::DomainError;

use super::users::user;
use super::Answer;
use crate::http::error::{ApiError, Problems};
use crate::http::extract::Json;
use crate::http::AppState;
use crate::service::{now, Service, SessionCaller, SESSION_COOKIE};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_in))
        .routes(routes!(current_session, sign_out))
        .routes(routes!(change_password))
        .routes(routes!(request_password_reset))
        .routes(routes!(complete_password_reset))
}

/// The session's cookie secret in a request.
pub(crate) fn cookie(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim())
}

/// Compares without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl FromRequestParts<Arc<Service>> for SessionCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        service: &Arc<Service>,
    ) -> Result<SessionCaller, ApiError> {
        let secret = cookie(parts).ok_or(crate::service::ServiceError::Unauthenticated(
            "sign in first: no session cookie",
        ))?;
        let session = service.session(secret).await?;
        // SameSite=Strict keeps other sites' requests from carrying the cookie; the CSRF
        // token is the second lock, for every call that changes something.
        if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
            let sent = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !same(sent, &session.csrf_token) {
                return Err(DomainError::CsrfFailed.into());
            }
        }
        Ok(session)
    }
}

fn info(s: &Service, session: &SessionCaller) -> Option<m::SessionInfo> {
    let state = session.compiled.state();
    let found = state.users.get(&session.user)?;
    Some(m::SessionInfo {
        organization_id: session.org.to_string(),
        organization_name: state.org.name.clone(),
        user: user(&session.compiled.snapshot, found, now()),
        csrf_token: session.csrf_token.clone(),
        expires_at: session.expires_at.0,
        idle_timeout_seconds: s.settings().sessions.idle.as_secs(),
    })
}

pub(crate) fn set_cookie(s: &Service, value: &str, max_age_secs: i64) -> Option<HeaderValue> {
    let secure = if s.settings().public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}"
    ))
    .ok()
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Signs in with email and password: starts a console session (an HttpOnly cookie) and
/// answers its CSRF token. Wrong credentials are `unauthenticated` without saying which was
/// wrong; after 5 failures for one account from one address (or 50 from one address) within
/// 15 minutes, `too_many_failed_authentications` with `Retry-After`. A deactivated user
/// cannot sign in.
#[utoipa::path(post, path = "/v1/sessions", tag = "sessions", request_body = m::SignIn, security(()),
    responses((status = 201, body = m::SessionInfo), Problems))]
async fn sign_in(
    State(s): State<AppState>,
    address: Option<axum::extract::Extension<crate::http::ClientAddr>>,
    Json(body): Json<m::SignIn>,
) -> Answer {
    let address = address.map(|a| a.0 .0);
    let signed = s
        .sign_in(
            &body.email,
            body.password,
            body.organization.as_deref(),
            address,
        )
        .await?;
    let Some(body) = info(&s, &signed.session) else {
        return Ok(StatusCode::INTERNAL_SERVER_ERROR.into_response());
    };
    let max_age = i64::try_from(s.settings().sessions.absolute.as_secs()).unwrap_or(i64::MAX);
    let mut response = (StatusCode::CREATED, axum::Json(body)).into_response();
    if let Some(cookie) = set_cookie(&s, &signed.secret, max_age) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(no_store(response))
}

/// The current console session: who is signed in, and the session's CSRF token.
#[utoipa::path(get, path = "/v1/sessions/current", tag = "sessions", security(()),
    responses((status = 200, body = m::SessionInfo), Problems))]
async fn current_session(State(s): State<AppState>, session: SessionCaller) -> Answer {
    match info(&s, &session) {
        Some(body) => Ok(no_store(axum::Json(body).into_response())),
        None => Ok(StatusCode::INTERNAL_SERVER_ERROR.into_response()),
    }
}

/// Signs out: the session ends and its cookie is cleared. Needs `X-CSRF-Token`.
#[utoipa::path(delete, path = "/v1/sessions/current", tag = "sessions", security(()),
    responses((status = 204), Problems))]
async fn sign_out(State(s): State<AppState>, session: SessionCaller) -> Answer {
    s.sign_out(&session).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Some(cookie) = set_cookie(&s, "", 0) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// Changes the signed-in user's password (the current one must match); every other session
/// of theirs ends. Needs `X-CSRF-Token`.
#[utoipa::path(post, path = "/v1/sessions/current/password", tag = "sessions",
    request_body = m::PasswordChange, security(()),
    responses((status = 204), Problems))]
async fn change_password(
    State(s): State<AppState>,
    session: SessionCaller,
    Json(body): Json<m::PasswordChange>,
) -> Answer {
    s.change_password(&session, body.current_password, body.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Asks for a password reset email. Answers 202 whether or not the address belongs to a
/// member, so the answer tells nothing about who is one; the link works once, for an hour.
#[utoipa::path(post, path = "/v1/password-resets", tag = "sessions",
    request_body = m::PasswordResetRequest, security(()),
    responses((status = 202), Problems))]
async fn request_password_reset(
    State(s): State<AppState>,
    Json(body): Json<m::PasswordResetRequest>,
) -> Answer {
    s.request_password_reset(&body.email, body.organization.as_deref())
        .await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

/// Sets a new password with the emailed link's secret; every session of the user ends.
/// `password_reset_invalid`, `password_reset_expired`, `password_reset_used`.
#[utoipa::path(post, path = "/v1/password-resets/complete", tag = "sessions",
    request_body = m::PasswordResetCompletion, security(()),
    responses((status = 204), Problems))]
async fn complete_password_reset(
    State(s): State<AppState>,
    Json(body): Json<m::PasswordResetCompletion>,
) -> Answer {
    s.complete_password_reset(m::link_secret(&body.token), body.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
