//! `/v1/tokens`: the caller's own personal access tokens.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use warden_client::model as m;
use warden_core::command::{Key, TokenCommand, TokenLifetime};
use warden_core::{resolve, ApiToken, DomainError, OrgState, TokenId};

use super::{principal, Answer};
use crate::http::error::Problems;
use crate::http::extract::{Json, Path};
use crate::http::respond::{list, read, with_revision, written};
use crate::http::AppState;
use crate::service::{Caller, Service, ServiceError};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(get_token, delete_token))
}

fn token(state: &OrgState, token: &ApiToken, last_used_at: Option<i64>) -> m::Token {
    m::Token {
        id: token.id.to_string(),
        kind: m::TokenKind::Personal,
        owner: principal(state, &token.owner.as_ref()),
        name: token.name.clone(),
        note: token.note.clone(),
        display_prefix: token.display_prefix.clone(),
        created_by: token.created_by.as_str().to_string(),
        created_at: token.created_at.0,
        expires_at: token.expires_at.map(|t| t.0),
        last_used_at,
    }
}

fn lifetime(lifetime: m::TokenLifetime) -> TokenLifetime {
    match lifetime {
        m::TokenLifetime::OneHour => TokenLifetime::OneHour,
        m::TokenLifetime::EightHours => TokenLifetime::EightHours,
        m::TokenLifetime::OneMonth => TokenLifetime::OneMonth,
        m::TokenLifetime::NinetyDays => TokenLifetime::NinetyDays,
        m::TokenLifetime::OneYear => TokenLifetime::OneYear,
        m::TokenLifetime::Never => TokenLifetime::Never,
    }
}

async fn last_used(s: &Service, caller: &Caller) -> Result<Vec<(TokenId, i64)>, ServiceError> {
    Ok(s.store()
        .token_last_used(&caller.org)
        .await?
        .into_iter()
        .map(|(id, at)| (id, at.0))
        .collect())
}

/// The caller's own tokens (never their secrets).
///
/// Needs `tokens.personal.list`.
#[utoipa::path(get, path = "/v1/tokens", tag = "tokens",
    responses((status = 200, body = m::List<m::Token>), Problems))]
async fn list_tokens(State(s): State<AppState>, caller: Caller) -> Answer {
    s.require(&caller, "tokens.personal.list").await?;
    let used = last_used(&s, &caller).await?;
    let state = caller.compiled.state();
    let items = state
        .tokens
        .values()
        .filter(|t| t.owner == caller.principal)
        .map(|t| {
            let at = used.iter().find(|(id, _)| *id == t.id).map(|(_, at)| *at);
            token(state, t, at)
        })
        .collect();
    Ok(list(&caller.compiled, items))
}

/// Creates a personal token for the caller; its secret is in the answer, and only there.
///
/// Needs `tokens.personal.create`.
#[utoipa::path(post, path = "/v1/tokens", tag = "tokens", request_body = m::TokenInput,
    responses((status = 201, body = m::CreatedToken), Problems))]
async fn create_token(
    State(s): State<AppState>,
    caller: Caller,
    Json(body): Json<m::TokenInput>,
) -> Answer {
    let (compiled, secret, id) = s
        .issue_personal_token(
            &caller.org,
            &caller.actor(),
            Key(caller.principal.as_str().to_string()),
            &body.name,
            &body.note,
            lifetime(body.expires_in.unwrap_or_default()),
        )
        .await?;
    let state = compiled.state();
    let item = state
        .tokens
        .get(&id)
        .map(|t| token(state, t, None))
        .ok_or_else(|| ServiceError::Internal("created token missing from snapshot".into()))?;
    let body = m::CreatedToken {
        revision: compiled.revision(),
        token: item,
        secret,
    };
    let mut response = with_revision(
        (StatusCode::CREATED, axum::Json(body)).into_response(),
        compiled.revision(),
    );
    // The secret must not linger in caches.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// One of the caller's tokens.
///
/// Needs `tokens.personal.get`.
#[utoipa::path(get, path = "/v1/tokens/{token}", tag = "tokens",
    params(("token" = String, Path, description = "Token id")),
    responses((status = 200, body = m::Token), Problems))]
async fn get_token(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> Answer {
    s.require(&caller, "tokens.personal.get").await?;
    let state = caller.compiled.state();
    // Another principal's token is as absent as one that does not exist.
    let found = resolve::token(state, &id)
        .ok()
        .filter(|t| t.owner == caller.principal)
        .ok_or_else(|| DomainError::not_found("token", &id))?;
    let used = last_used(&s, &caller).await?;
    let at = used.iter().find(|(t, _)| *t == found.id).map(|(_, at)| *at);
    Ok(read(&caller.compiled, token(state, found, at)))
}

/// Revokes one of the caller's tokens.
///
/// Needs `tokens.personal.delete`.
#[utoipa::path(delete, path = "/v1/tokens/{token}", tag = "tokens",
    params(("token" = String, Path, description = "Token id")),
    responses((status = 200, body = m::Written<m::Token>), Problems))]
async fn delete_token(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> Answer {
    let command = TokenCommand::DeletePersonal { token: Key(id) };
    let done = s.execute_for(&caller, command.into()).await?;
    Ok(written::<m::Token>(StatusCode::OK, &done.compiled, None))
}
