//! `/v1/groups`: groups and their members.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use warden_client::model as m;
use warden_core::command::{GroupCommand, Key};
use warden_core::{resolve, Command, Group, GroupId, OrgState};

use super::{user_status, Answer};
use crate::http::error::Problems;
use crate::http::extract::{Json, Path};
use crate::http::respond::{list, read, written};
use crate::http::AppState;
use crate::service::{Caller, Service};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_groups, create_group))
        .routes(routes!(get_group, update_group, delete_group))
        .routes(routes!(list_members))
        .routes(routes!(add_member, remove_member))
}

fn group(state: &OrgState, group: &Group) -> m::Group {
    m::Group {
        id: group.id.to_string(),
        name: group.name.clone(),
        description: group.description.clone(),
        legacy: group.legacy,
        created_at: group.created_at.0,
        member_count: state.members_of(&group.id).count(),
    }
}

/// Runs a group command and answers with the group it addressed.
async fn group_write(
    s: &Arc<Service>,
    caller: &Caller,
    status: StatusCode,
    command: Command,
) -> Answer {
    let done = s.execute_for(caller, command).await?;
    let state = done.compiled.state();
    let item = state
        .groups
        .get(&GroupId::from(done.target().to_string()))
        .map(|g| group(state, g));
    Ok(written(status, &done.compiled, item))
}

/// Every group, the five legacy groups included.
///
/// Needs `iam.groups.list`.
#[utoipa::path(get, path = "/v1/groups", tag = "groups",
    responses((status = 200, body = m::List<m::Group>), Problems))]
async fn list_groups(State(s): State<AppState>, caller: Caller) -> Answer {
    s.require(&caller, "iam.groups.list").await?;
    let state = caller.compiled.state();
    let items = state.groups.values().map(|g| group(state, g)).collect();
    Ok(list(&caller.compiled, items))
}

/// Creates a group.
///
/// Needs `iam.groups.create`.
#[utoipa::path(post, path = "/v1/groups", tag = "groups", request_body = m::GroupInput,
    responses((status = 201, body = m::Written<m::Group>), Problems))]
async fn create_group(
    State(s): State<AppState>,
    caller: Caller,
    Json(body): Json<m::GroupInput>,
) -> Answer {
    let command = GroupCommand::Create {
        name: body.name,
        description: body.description,
    };
    group_write(&s, &caller, StatusCode::CREATED, command.into()).await
}

/// One group, by id or name.
///
/// Needs `iam.groups.get`.
#[utoipa::path(get, path = "/v1/groups/{group}", tag = "groups",
    params(("group" = String, Path, description = "Group id or name")),
    responses((status = 200, body = m::Group), Problems))]
async fn get_group(State(s): State<AppState>, caller: Caller, Path(key): Path<String>) -> Answer {
    s.require(&caller, "iam.groups.get").await?;
    let state = caller.compiled.state();
    let found = resolve::group(state, &key)?;
    Ok(read(&caller.compiled, group(state, found)))
}

/// Renames a group or changes its description (legacy groups keep their names).
///
/// Needs `iam.groups.update`.
#[utoipa::path(patch, path = "/v1/groups/{group}", tag = "groups", request_body = m::GroupUpdate,
    params(("group" = String, Path, description = "Group id or name")),
    responses((status = 200, body = m::Written<m::Group>), Problems))]
async fn update_group(
    State(s): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Json(body): Json<m::GroupUpdate>,
) -> Answer {
    let command = GroupCommand::Update {
        group: Key(key),
        name: body.name,
        description: body.description,
    };
    group_write(&s, &caller, StatusCode::OK, command.into()).await
}

/// Deletes a group that no policy names (legacy groups cannot be deleted).
///
/// Needs `iam.groups.delete`.
#[utoipa::path(delete, path = "/v1/groups/{group}", tag = "groups",
    params(("group" = String, Path, description = "Group id or name")),
    responses((status = 200, body = m::Written<m::Group>), Problems))]
async fn delete_group(
    State(s): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Answer {
    let command = GroupCommand::Delete { group: Key(key) };
    let done = s.execute_for(&caller, command.into()).await?;
    Ok(written::<m::Group>(StatusCode::OK, &done.compiled, None))
}

/// A group's members.
///
/// Needs `iam.memberships.list`.
#[utoipa::path(get, path = "/v1/groups/{group}/members", tag = "groups",
    params(("group" = String, Path, description = "Group id or name")),
    responses((status = 200, body = m::List<m::GroupMember>), Problems))]
async fn list_members(
    State(s): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Answer {
    s.require(&caller, "iam.memberships.list").await?;
    let state = caller.compiled.state();
    let found = resolve::group(state, &key)?;
    let items = state
        .members_of(&found.id)
        .filter_map(|u| state.users.get(u))
        .map(|u| m::GroupMember {
            user_id: u.id.to_string(),
            email: u.email.to_string(),
            status: user_status(u.status),
        })
        .collect();
    Ok(list(&caller.compiled, items))
}

/// Adds a user to a group.
///
/// Needs `iam.memberships.create`.
#[utoipa::path(put, path = "/v1/groups/{group}/members/{user}", tag = "groups",
    params(("group" = String, Path, description = "Group id or name"), ("user" = String, Path, description = "User id or email")),
    responses((status = 200, body = m::Written<m::Group>), Problems))]
async fn add_member(
    State(s): State<AppState>,
    caller: Caller,
    Path((group, user)): Path<(String, String)>,
) -> Answer {
    let command = GroupCommand::AddMember {
        group: Key(group),
        user: Key(user),
    };
    group_write(&s, &caller, StatusCode::OK, command.into()).await
}

/// Removes a user from a group.
///
/// Needs `iam.memberships.delete`.
#[utoipa::path(delete, path = "/v1/groups/{group}/members/{user}", tag = "groups",
    params(("group" = String, Path, description = "Group id or name"), ("user" = String, Path, description = "User id or email")),
    responses((status = 200, body = m::Written<m::Group>), Problems))]
async fn remove_member(
    State(s): State<AppState>,
    caller: Caller,
    Path((group, user)): Path<(String, String)>,
) -> Answer {
    let command = GroupCommand::RemoveMember {
        group: Key(group),
        user: Key(user),
    };
    group_write(&s, &caller, StatusCode::OK, command.into()).await
}
