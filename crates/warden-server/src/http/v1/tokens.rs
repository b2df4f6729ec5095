//! `/v1/tokens`: personal access tokens. Everyone manages their own
//! (`tokens.personal.*`), optionally narrowed to namespaces and clusters; IAM viewers list and
//! show anyone's (`iam.api_tokens.list`, `iam.api_tokens.get`) and IAM admins revoke anyone's
//! (`iam.api_tokens.delete`). To a caller without those, another principal's token is as
//! absent as one that does not exist. A new token's answer carries its secret and a
//! kubeconfig embedding it, once (`created`, shared with `org_tokens.rs`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use warden_client::model as m;
use warden_core::command::{Key, ScopeInput, TokenCommand, TokenEdit, TokenLifetime};
use warden_core::{k8s, resolve, ApiToken, DomainError, OrgState, PrincipalId, TokenId};

use super::{principal, Answer};
use crate::http::error::ApiError;
use crate::http::error::Problems;
use crate::http::extract::{Json, Path, Query};
use crate::http::respond::{list, read, secret, written};
use crate::http::AppState;
use crate::service::{Caller, IssuedToken, Service, ServiceError, TokenFor, TokenSpec};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(get_token, update_token, delete_token))
}

pub(super) fn token(state: &OrgState, token: &ApiToken, last_used_at: Option<i64>) -> m::Token {
    m::Token {
        id: token.id.to_string(),
        kind: match token.kind {
            warden_core::TokenKind::Personal => m::TokenKind::Personal,
            warden_core::TokenKind::Org => m::TokenKind::Org,
            warden_core::TokenKind::Scim => m::TokenKind::Scim,
        },
        namespaces: by_name(token.scope.namespaces.iter().map(|id| m::ScopeItem {
            id: id.to_string(),
            name: state.namespaces.get(id).map(|n| n.name.clone()),
        })),
        clusters: by_name(token.scope.clusters.iter().map(|id| m::ScopeItem {
            id: id.to_string(),
            name: state.clusters.get(id).map(|c| c.name.clone()),
        })),
        kubernetes_username: k8s::username(state, &token.owner).unwrap_or_default(),
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

/// Scope entries by name, the deleted ones (no name) last.
fn by_name(items: impl Iterator<Item = m::ScopeItem>) -> Vec<m::ScopeItem> {
    let mut items: Vec<m::ScopeItem> = items.collect();
    items.sort_by(|a, b| {
        (a.name.is_none(), &a.name, &a.id).cmp(&(b.name.is_none(), &b.name, &b.id))
    });
    items
}

/// A new token's spec from the API's input.
pub(super) fn spec(body: m::TokenInput) -> TokenSpec {
    TokenSpec {
        name: body.name,
        note: body.note,
        lifetime: lifetime(body.expires_in.unwrap_or_default()),
        scope: ScopeInput {
            namespaces: body.namespaces.into_iter().map(Key).collect(),
            clusters: body.clusters.into_iter().map(Key).collect(),
        },
    }
}

/// An edit from the API's input.
pub(super) fn edit(body: m::TokenUpdate) -> TokenEdit {
    TokenEdit {
        name: body.name,
        note: body.note,
        namespaces: body.namespaces.map(|n| n.into_iter().map(Key).collect()),
        clusters: body.clusters.map(|c| c.into_iter().map(Key).collect()),
    }
}

/// The answer to a token's creation: the token, its secret and a kubeconfig embedding it,
/// never cached.
pub(super) fn created(issued: &IssuedToken) -> Answer {
    let state = issued.compiled.state();
    let created = state
        .tokens
        .get(&issued.id)
        .ok_or_else(|| ServiceError::Internal("created token missing from snapshot".into()))?;
    let body = created_token(
        state,
        created,
        issued.secret.clone(),
        issued.compiled.revision(),
    );
    Ok(secret(
        StatusCode::CREATED,
        body,
        Some(issued.compiled.revision()),
    ))
}

/// A new token as its creator sees it, once: with its secret and a kubeconfig embedding it.
pub(super) fn created_token(
    state: &OrgState,
    created: &ApiToken,
    secret: String,
    revision: u64,
) -> m::CreatedToken {
    m::CreatedToken {
        revision,
        token: token(state, created, None),
        kubeconfig: k8s::token_kubeconfig(state, created, &secret),
        secret,
    }
}

/// A token after an edit.
pub(super) fn edited(done: &crate::service::Written) -> Response {
    let state = done.compiled.state();
    let item = state
        .tokens
        .get(&TokenId::from(done.target().to_string()))
        .map(|t| token(state, t, None));
    written(StatusCode::OK, &done.compiled, item)
}

pub(super) fn lifetime(lifetime: m::TokenLifetime) -> TokenLifetime {
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct TokenFilter {
    /// Whose tokens: a user's id or email, a service account's id, or `me` (the default).
    user: Option<String>,
    /// `true`: every principal's tokens, each with its owner.
    all: Option<bool>,
}

/// Whose tokens a listing shows (`None`: everyone's), once the caller may see them: their
/// own with `tokens.personal.list`, anyone else's or everyone's with `iam.api_tokens.list`
/// (asked before the name is resolved, so a caller without it learns nothing).
async fn owner_filter(
    s: &Service,
    caller: &Caller,
    filter: &TokenFilter,
) -> Result<Option<PrincipalId>, ApiError> {
    let all = filter.all.unwrap_or(false);
    let named = match (filter.user.as_deref(), all) {
        (Some(_), true) => {
            return Err(ApiError::described(
                "all",
                "give `user` or `all=true`, not both",
            ))
        }
        (None, true) => {
            s.require(caller, "iam.api_tokens.list").await?;
            return Ok(None);
        }
        (None | Some("me"), false) => None,
        (Some(key), false) => Some(key),
    };
    let state = caller.compiled.state();
    let owner = match named {
        None => Some(caller.principal.clone()),
        Some(key) => resolve::acting_principal(state, key),
    };
    match owner {
        Some(owner) if owner == caller.principal => {
            s.require(caller, "tokens.personal.list").await?;
            Ok(Some(owner))
        }
        other => {
            s.require(caller, "iam.api_tokens.list").await?;
            let key = named.unwrap_or_default();
            Ok(Some(other.ok_or_else(|| {
                DomainError::unknown_principal("user or service account", key)
            })?))
        }
    }
}

/// Whether the caller holds `action` (asked without auditing a refusal: the caller falls
/// back to what they may do with their own tokens).
fn holds(caller: &Caller, action: &str) -> bool {
    caller
        .compiled
        .snapshot
        .check(caller.principal.as_str(), action, crate::service::now())
        .unwrap_or(false)
}

/// Personal tokens, never their secrets: the caller's own, one principal's (`user`), or
/// everyone's (`all=true`).
///
/// Needs `tokens.personal.list` for one's own tokens; `iam.api_tokens.list` for another
/// principal's or everyone's.
#[utoipa::path(get, path = "/v1/tokens", tag = "tokens", params(TokenFilter),
    responses((status = 200, body = m::List<m::Token>), Problems))]
async fn list_tokens(
    State(s): State<AppState>,
    caller: Caller,
    Query(filter): Query<TokenFilter>,
) -> Answer {
    let owner = owner_filter(&s, &caller, &filter).await?;
    let used = last_used(&s, &caller).await?;
    let state = caller.compiled.state();
    let items = state
        .tokens
        .values()
        // Org tokens are listed by `/v1/org-tokens`, to org admins alone.
        .filter(|t| t.kind == warden_core::TokenKind::Personal)
        .filter(|t| owner.as_ref().is_none_or(|o| t.owner == *o))
        .map(|t| {
            let at = used.iter().find(|(id, _)| *id == t.id).map(|(_, at)| *at);
            token(state, t, at)
        })
        .collect();
    Ok(list(&caller.compiled, items))
}

/// Creates a personal token for the caller, optionally narrowed to namespaces and clusters
/// (by id or name); its secret and a kubeconfig embedding it are in the answer, and only there.
///
/// Needs `tokens.personal.create`.
#[utoipa::path(post, path = "/v1/tokens", tag = "tokens", request_body = m::TokenInput,
    responses((status = 201, body = m::CreatedToken), Problems))]
async fn create_token(
    State(s): State<AppState>,
    caller: Caller,
    Json(body): Json<m::TokenInput>,
) -> Answer {
    let owner = TokenFor::Personal(Key(caller.principal.as_str().to_string()));
    let issued = s
        .issue_token(
            &caller.org,
            &caller.actor(),
            caller.token.clone(),
            owner,
            spec(body),
        )
        .await?;
    created(&issued)
}

/// Renames, re-notes or re-scopes one of the caller's own personal tokens; never its secret.
///
/// Needs `tokens.personal.update`.
#[utoipa::path(patch, path = "/v1/tokens/{token}", tag = "tokens", request_body = m::TokenUpdate,
    params(("token" = String, Path, description = "Token id")),
    responses((status = 200, body = m::Written<m::Token>), Problems))]
async fn update_token(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<m::TokenUpdate>,
) -> Answer {
    let command = TokenCommand::UpdatePersonal {
        token: Key(id),
        edit: edit(body),
    };
    let done = s.execute_for(&caller, command.into()).await?;
    Ok(edited(&done))
}

/// One token (never its secret).
///
/// Needs `tokens.personal.get` for one's own token; `iam.api_tokens.get` for another
/// principal's (without it, another principal's token is answered as absent).
#[utoipa::path(get, path = "/v1/tokens/{token}", tag = "tokens",
    params(("token" = String, Path, description = "Token id")),
    responses((status = 200, body = m::Token), Problems))]
async fn get_token(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> Answer {
    let state = caller.compiled.state();
    let found = resolve::token(state, &id)
        .ok()
        .filter(|t| t.kind == warden_core::TokenKind::Personal);
    let anyones =
        found.is_some_and(|t| t.owner != caller.principal) && holds(&caller, "iam.api_tokens.get");
    if !anyones {
        s.require(&caller, "tokens.personal.get").await?;
    }
    // Another principal's token is as absent as one that does not exist.
    let found = found
        .filter(|t| anyones || t.owner == caller.principal)
        .ok_or_else(|| DomainError::not_found("token", &id))?;
    let used = last_used(&s, &caller).await?;
    let at = used.iter().find(|(t, _)| *t == found.id).map(|(_, at)| *at);
    Ok(read(&caller.compiled, token(state, found, at)))
}

/// Revokes a token: it stops working at once.
///
/// Needs `tokens.personal.delete` for one's own token; `iam.api_tokens.delete` for another
/// principal's (without it, another principal's token is answered as absent).
#[utoipa::path(delete, path = "/v1/tokens/{token}", tag = "tokens",
    params(("token" = String, Path, description = "Token id")),
    responses((status = 200, body = m::Written<m::Token>), Problems))]
async fn delete_token(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> Answer {
    let anyones = resolve::token(caller.compiled.state(), &id)
        .is_ok_and(|t| t.owner != caller.principal)
        && holds(&caller, "iam.api_tokens.delete");
    let command = if anyones {
        TokenCommand::RevokeAny { token: Key(id) }
    } else {
        TokenCommand::DeletePersonal { token: Key(id) }
    };
    let done = s.execute_for(&caller, command.into()).await?;
    Ok(written::<m::Token>(StatusCode::OK, &done.compiled, None))
}
