//! `/v1/org-tokens`: the organization's tokens (the legacy model), managed by IAM admins
//! (`iam.org_tokens.*`). Each acts as its own service account, in its namespaces only; one
//! without namespaces is a *blank* token, whose rights come only from custom Kubernetes RBAC
//! bound to its `kubernetes_username`. Editing changes name, note and namespaces, never the
//! secret. `/v1/users/{user}/org-tokens`: the org tokens a user created, which keep working
//! after the user leaves, listed and revoked in one call.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use warden_client::model as m;
use warden_core::command::{org_tokens_created_by, Key, TokenCommand};
use warden_core::{resolve, DomainError, TokenKind};

use super::tokens::{created, edit, edited, spec, token};
use super::Answer;
use crate::http::error::Problems;
use crate::http::extract::{Json, Path};
use crate::http::respond::{list, read, written};
use crate::http::AppState;
use crate::service::{Caller, TokenFor};

// The item's path parameter is `{token_id}`: named `{token}` or `{org_token}`, schemathesis'
// link inference fills it with the whole created `token` object instead of its `id`.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_org_tokens, create_org_token))
        .routes(routes!(get_org_token, update_org_token, delete_org_token))
        .routes(routes!(created_by, revoke_created_by))
}

/// The organization's tokens, never their secrets.
///
/// Needs `iam.org_tokens.list`.
#[utoipa::path(get, path = "/v1/org-tokens", tag = "tokens",
    responses((status = 200, body = m::List<m::Token>), Problems))]
async fn list_org_tokens(State(s): State<AppState>, caller: Caller) -> Answer {
    s.require(&caller, "iam.org_tokens.list").await?;
    let state = caller.compiled.state();
    let items = state
        .tokens
        .values()
        .filter(|t| t.kind == TokenKind::Org)
        .map(|t| token(state, t, None))
        .collect();
    Ok(list(&caller.compiled, items))
}

/// Creates an org token with an optional name and a set of namespaces (none: a blank token)
/// and optionally clusters; its secret and a kubeconfig embedding it are in the answer, and
/// only there.
///
/// Needs `iam.org_tokens.create`.
#[utoipa::path(post, path = "/v1/org-tokens", tag = "tokens", request_body = m::TokenInput,
    responses((status = 201, body = m::CreatedToken), Problems))]
async fn create_org_token(
    State(s): State<AppState>,
    caller: Caller,
    Json(body): Json<m::TokenInput>,
) -> Answer {
    let issued = s
        .issue_token(
            &caller.org,
            &caller.actor(),
            caller.token.clone(),
            TokenFor::Org,
            spec(body),
        )
        .await?;
    created(&issued)
}

/// One org token (never its secret).
///
/// Needs `iam.org_tokens.get`.
#[utoipa::path(get, path = "/v1/org-tokens/{token_id}", tag = "tokens",
    params(("token_id" = String, Path, description = "Org token id")),
    responses((status = 200, body = m::Token), Problems))]
async fn get_org_token(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Answer {
    s.require(&caller, "iam.org_tokens.get").await?;
    let state = caller.compiled.state();
    let found = resolve::token(state, &id)
        .ok()
        .filter(|t| t.kind == TokenKind::Org)
        .ok_or_else(|| DomainError::not_found("org token", &id))?;
    Ok(read(&caller.compiled, token(state, found, None)))
}

/// Renames, re-notes or changes the namespaces (and clusters) of an org token; never its
/// secret. A user's namespace access never changes a token; only this does.
///
/// Needs `iam.org_tokens.update`.
#[utoipa::path(patch, path = "/v1/org-tokens/{token_id}", tag = "tokens",
    request_body = m::TokenUpdate,
    params(("token_id" = String, Path, description = "Org token id")),
    responses((status = 200, body = m::Written<m::Token>), Problems))]
async fn update_org_token(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<m::TokenUpdate>,
) -> Answer {
    let command = TokenCommand::UpdateOrg {
        token: Key(id),
        edit: edit(body),
    };
    let done = s.execute_for(&caller, command.into()).await?;
    Ok(edited(&done))
}

/// Deletes an org token (and the service account it acts as, with the rules naming it): it
/// stops working at once.
///
/// Needs `iam.org_tokens.delete`.
#[utoipa::path(delete, path = "/v1/org-tokens/{token_id}", tag = "tokens",
    params(("token_id" = String, Path, description = "Org token id")),
    responses((status = 200, body = m::Written<m::Token>), Problems))]
async fn delete_org_token(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Answer {
    let command = TokenCommand::DeleteOrg { token: Key(id) };
    let done = s.execute_for(&caller, command.into()).await?;
    Ok(written::<m::Token>(StatusCode::OK, &done.compiled, None))
}

/// The org tokens a user created: they keep working after the user is deactivated or
/// removed (the seeds' rule), so an admin reviews them here.
///
/// Needs `iam.org_tokens.list`.
#[utoipa::path(get, path = "/v1/users/{user}/org-tokens", tag = "tokens",
    params(("user" = String, Path, description = "User id or email")),
    responses((status = 200, body = m::List<m::Token>), Problems))]
async fn created_by(State(s): State<AppState>, caller: Caller, Path(key): Path<String>) -> Answer {
    s.require(&caller, "iam.org_tokens.list").await?;
    let state = caller.compiled.state();
    let user = resolve::user(state, &key)?;
    let items = org_tokens_created_by(state, &user.id)
        .map(|t| token(state, t, None))
        .collect();
    Ok(list(&caller.compiled, items))
}

/// Revokes every org token a user created, in one write: what an admin does when someone
/// leaves.
///
/// Needs `iam.org_tokens.delete`.
#[utoipa::path(delete, path = "/v1/users/{user}/org-tokens", tag = "tokens",
    params(("user" = String, Path, description = "User id or email")),
    responses((status = 200, body = m::Written<m::Token>), Problems))]
async fn revoke_created_by(
    State(s): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Answer {
    let command = TokenCommand::DeleteOrgTokensCreatedBy { user: Key(key) };
    let done = s.execute_for(&caller, command.into()).await?;
    Ok(written::<m::Token>(StatusCode::OK, &done.compiled, None))
}
