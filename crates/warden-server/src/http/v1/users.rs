//! `/v1/users`: the organization's users.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use warden_client::model as m;
use warden_core::command::{org_tokens_created_by, Key, UserCommand};
use warden_core::{
    resolve, ApiToken, Command, DomainError, Snapshot, Timestamp, TokenKind, User, UserId,
};

use super::{grant, user_status, Answer};
use crate::http::error::{ApiError, Problems};
use crate::http::extract::{Json, Path, Query};
use crate::http::respond::{list, read, written};
use crate::http::AppState;
use crate::service::{now, Caller, Service};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users))
        .routes(routes!(get_user, update_user))
        .routes(routes!(deactivate_user))
        .routes(routes!(reactivate_user))
        .routes(routes!(user_permissions))
}

/// A user as the API shows it.
pub(super) fn user(snapshot: &Snapshot, user: &User, now: Timestamp) -> m::User {
    let created = org_tokens_created_by(snapshot.state(), &user.id)
        .map(summary)
        .collect();
    user_with(snapshot, user, now, created)
}

/// [`user`], given the org tokens the user created (a listing finds everyone's in one pass).
fn user_with(
    snapshot: &Snapshot,
    user: &User,
    now: Timestamp,
    org_tokens_created: Vec<m::TokenSummary>,
) -> m::User {
    let state = snapshot.state();
    m::User {
        id: user.id.to_string(),
        email: user.email.to_string(),
        first_name: user.first_name.to_string(),
        last_name: user.last_name.to_string(),
        status: user_status(user.status),
        created_at: user.created_at.0,
        groups: state
            .groups_of(&user.id)
            .filter_map(|g| state.groups.get(g))
            .map(|g| g.name.clone())
            .collect(),
        is_org_admin: snapshot.is_org_admin(user.id.as_str(), now),
        is_default_admin: state.org.default_admin == user.id,
        org_tokens_created,
    }
}

fn summary(token: &ApiToken) -> m::TokenSummary {
    m::TokenSummary {
        id: token.id.to_string(),
        name: token.name.clone(),
        kind: m::TokenKind::Org,
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct UserFilter {
    /// Only users with this status.
    status: Option<m::UserStatus>,
}

/// The organization's users.
///
/// Needs `iam.users.list`.
#[utoipa::path(get, path = "/v1/users", tag = "users", params(UserFilter),
    responses((status = 200, body = m::List<m::User>), Problems))]
async fn list_users(
    State(s): State<AppState>,
    caller: Caller,
    Query(filter): Query<UserFilter>,
) -> Answer {
    s.require(&caller, "iam.users.list").await?;
    let snapshot = &caller.compiled.snapshot;
    let now = now();
    let mut created: HashMap<&UserId, Vec<m::TokenSummary>> = HashMap::new();
    for token in snapshot.state().tokens.values() {
        if let (TokenKind::Org, Some(creator)) = (token.kind, token.created_by.user()) {
            created.entry(creator).or_default().push(summary(token));
        }
    }
    let items = snapshot
        .state()
        .users
        .values()
        .filter(|u| filter.status.is_none_or(|s| user_status(u.status) == s))
        .map(|u| user_with(snapshot, u, now, created.remove(&u.id).unwrap_or_default()))
        .collect();
    Ok(list(&caller.compiled, items))
}

/// The user a path names (id, email or `me`), for a read that anyone may make about
/// themselves and only holders of `action` about others. A caller without `action` is
/// refused alike whether or not the other user exists.
async fn readable_user<'c>(
    s: &Service,
    caller: &'c Caller,
    key: &str,
    action: &'static str,
) -> Result<&'c User, ApiError> {
    let state = caller.compiled.state();
    let found = if key == "me" {
        caller.principal.user().and_then(|id| state.users.get(id))
    } else {
        resolve::user(state, key).ok()
    };
    if found.is_none_or(|u| u.id.as_str() != caller.principal.as_str()) {
        s.require(caller, action).await?;
    }
    Ok(found.ok_or_else(|| DomainError::not_found("user", key))?)
}

/// One user, by id, email or `me`.
///
/// Needs `iam.users.get`, except for oneself.
#[utoipa::path(get, path = "/v1/users/{user}", tag = "users",
    params(("user" = String, Path, description = "User id, email or `me`")),
    responses((status = 200, body = m::User), Problems))]
async fn get_user(State(s): State<AppState>, caller: Caller, Path(key): Path<String>) -> Answer {
    let found = readable_user(&s, &caller, &key, "iam.users.get").await?;
    Ok(read(
        &caller.compiled,
        user(&caller.compiled.snapshot, found, now()),
    ))
}

/// Changes a user's first or last name.
///
/// Needs `iam.users.update`.
#[utoipa::path(patch, path = "/v1/users/{user}", tag = "users", request_body = m::UserUpdate,
    params(("user" = String, Path, description = "User id or email")),
    responses((status = 200, body = m::Written<m::User>), Problems))]
async fn update_user(
    State(s): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Json(body): Json<m::UserUpdate>,
) -> Answer {
    let command = UserCommand::Update {
        user: Key(key),
        first_name: body.first_name,
        last_name: body.last_name,
    };
    user_write(&s, &caller, command.into()).await
}

async fn user_write(s: &Arc<Service>, caller: &Caller, command: Command) -> Answer {
    let done = s.execute_for(caller, command).await?;
    let snapshot = &done.compiled.snapshot;
    let item = snapshot
        .state()
        .users
        .get(&UserId::from(done.target().to_string()))
        .map(|u| user(snapshot, u, now()));
    Ok(written(StatusCode::OK, &done.compiled, item))
}

/// Deactivates a user: blocks sign-in and their tokens at once.
///
/// Needs `iam.users.deactivate`.
#[utoipa::path(post, path = "/v1/users/{user}/deactivate", tag = "users",
    params(("user" = String, Path, description = "User id or email")),
    responses((status = 200, body = m::Written<m::User>), Problems))]
async fn deactivate_user(
    State(s): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Answer {
    let deactivated = resolve::user(caller.compiled.state(), &key)
        .ok()
        .map(|u| u.id.clone());
    let answer = user_write(
        &s,
        &caller,
        UserCommand::Deactivate { user: Key(key) }.into(),
    )
    .await?;
    // Their console sessions end now (every use checks the status too, on every server).
    if let Some(user) = deactivated {
        s.end_sessions_of(&caller.org, &user).await?;
    }
    Ok(answer)
}

/// Reactivates a deactivated user.
///
/// Needs `iam.users.reactivate`.
#[utoipa::path(post, path = "/v1/users/{user}/reactivate", tag = "users",
    params(("user" = String, Path, description = "User id or email")),
    responses((status = 200, body = m::Written<m::User>), Problems))]
async fn reactivate_user(
    State(s): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Answer {
    user_write(
        &s,
        &caller,
        UserCommand::Reactivate { user: Key(key) }.into(),
    )
    .await
}

/// Every action a user may perform, and which policy grants it.
///
/// Needs `iam.permissions.list`, except for oneself.
#[utoipa::path(get, path = "/v1/users/{user}/permissions", tag = "authz",
    params(("user" = String, Path, description = "User id, email or `me`")),
    responses((status = 200, body = m::Permissions), Problems))]
async fn user_permissions(
    State(s): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Answer {
    let found = readable_user(&s, &caller, &key, "iam.permissions.list").await?;
    let actions = caller
        .compiled
        .snapshot
        .permissions(found.id.as_str(), now())
        .into_iter()
        .map(|(action, sources)| m::PermittedAction {
            action,
            granted_by: sources.into_iter().map(grant).collect(),
        })
        .collect();
    Ok(read(
        &caller.compiled,
        m::Permissions {
            principal: found.id.to_string(),
            revision: caller.compiled.revision(),
            actions,
        },
    ))
}
