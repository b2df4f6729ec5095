//! `/v1/namespaces`: namespaces and the permission keys users hold in them.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use warden_client::model as m;
use warden_core::command::{Key, NamespaceCommand};
use warden_core::{resolve, Namespace, NamespaceId, OrgState};

use super::Answer;
use crate::http::error::Problems;
use crate::http::extract::{Json, Path};
use crate::http::respond::{list, read, written};
use crate::http::AppState;
use crate::service::Caller;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_namespaces, create_namespace))
        .routes(routes!(get_namespace, delete_namespace))
        .routes(routes!(list_namespace_access))
        .routes(routes!(set_namespace_access))
}

pub(super) fn namespace(state: &OrgState, namespace: &Namespace) -> m::Namespace {
    let mut access: Vec<m::NamespaceAccess> = Vec::new();
    for grant in state
        .namespace_grants
        .iter()
        .filter(|g| g.namespace == namespace.id)
    {
        match access
            .iter_mut()
            .find(|a| a.user_id == grant.user.to_string())
        {
            Some(entry) => entry.permissions.push(grant.key.clone()),
            None => access.push(m::NamespaceAccess {
                user_id: grant.user.to_string(),
                email: state
                    .users
                    .get(&grant.user)
                    .map(|u| u.email.to_string())
                    .unwrap_or_default(),
                permissions: vec![grant.key.clone()],
            }),
        }
    }
    m::Namespace {
        id: namespace.id.to_string(),
        name: namespace.name.clone(),
        created_at: namespace.created_at.0,
        access,
    }
}

fn written_namespace(
    compiled: &crate::service::CompiledOrg,
    id: &str,
    status: StatusCode,
) -> axum::response::Response {
    let state = compiled.state();
    let item = state
        .namespaces
        .get(&NamespaceId::from(id.to_string()))
        .map(|n| namespace(state, n));
    written(status, compiled, item)
}

/// Every namespace.
///
/// Needs `iam.namespaces.list`.
#[utoipa::path(get, path = "/v1/namespaces", tag = "namespaces",
    responses((status = 200, body = m::List<m::Namespace>), Problems))]
async fn list_namespaces(State(s): State<AppState>, caller: Caller) -> Answer {
    s.require(&caller, "iam.namespaces.list").await?;
    let state = caller.compiled.state();
    let items = state
        .namespaces
        .values()
        .map(|n| namespace(state, n))
        .collect();
    Ok(list(&caller.compiled, items))
}

/// Creates a namespace and gives the users named access to it.
///
/// Needs `iam.namespaces.create`.
#[utoipa::path(post, path = "/v1/namespaces", tag = "namespaces", request_body = m::NamespaceInput,
    responses((status = 201, body = m::Written<m::Namespace>), Problems))]
async fn create_namespace(
    State(s): State<AppState>,
    caller: Caller,
    Json(body): Json<m::NamespaceInput>,
) -> Answer {
    let command = NamespaceCommand::Create {
        name: body.name,
        access: body
            .access
            .into_iter()
            .map(|a| (Key(a.user), a.permissions))
            .collect(),
    };
    let done = s.execute_for(&caller, command.into()).await?;
    Ok(written_namespace(
        &done.compiled,
        done.target(),
        StatusCode::CREATED,
    ))
}

/// One namespace with its users' permissions, by id or name.
///
/// Needs `iam.namespaces.get`.
#[utoipa::path(get, path = "/v1/namespaces/{namespace}", tag = "namespaces",
    params(("namespace" = String, Path, description = "Namespace id or name")),
    responses((status = 200, body = m::Namespace), Problems))]
async fn get_namespace(
    State(s): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Answer {
    s.require(&caller, "iam.namespaces.get").await?;
    let state = caller.compiled.state();
    let found = resolve::namespace(state, &key)?;
    Ok(read(&caller.compiled, namespace(state, found)))
}

/// Deletes a namespace and every permission held in it.
///
/// Needs `iam.namespaces.delete`.
#[utoipa::path(delete, path = "/v1/namespaces/{namespace}", tag = "namespaces",
    params(("namespace" = String, Path, description = "Namespace id or name")),
    responses((status = 200, body = m::Written<m::Namespace>), Problems))]
async fn delete_namespace(
    State(s): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Answer {
    let command = NamespaceCommand::Delete {
        namespace: Key(key),
    };
    let done = s.execute_for(&caller, command.into()).await?;
    Ok(written::<m::Namespace>(
        StatusCode::OK,
        &done.compiled,
        None,
    ))
}

/// Who holds which permission keys in a namespace.
///
/// Needs `iam.namespace_access.list`.
#[utoipa::path(get, path = "/v1/namespaces/{namespace}/access", tag = "namespaces",
    params(("namespace" = String, Path, description = "Namespace id or name")),
    responses((status = 200, body = m::List<m::NamespaceAccess>), Problems))]
async fn list_namespace_access(
    State(s): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Answer {
    s.require(&caller, "iam.namespace_access.list").await?;
    let state = caller.compiled.state();
    let found = resolve::namespace(state, &key)?;
    Ok(list(&caller.compiled, namespace(state, found).access))
}

/// Sets the grantable keys a user holds in a namespace (reserved keys an operator granted are
/// kept).
///
/// Needs `iam.namespace_access.update`.
#[utoipa::path(put, path = "/v1/namespaces/{namespace}/access/{user}", tag = "namespaces",
    request_body = m::NamespacePermissionsInput,
    params(("namespace" = String, Path, description = "Namespace id or name"), ("user" = String, Path, description = "User id or email")),
    responses((status = 200, body = m::Written<m::Namespace>), Problems))]
async fn set_namespace_access(
    State(s): State<AppState>,
    caller: Caller,
    Path((namespace, user)): Path<(String, String)>,
    Json(body): Json<m::NamespacePermissionsInput>,
) -> Answer {
    let command = NamespaceCommand::SetAccess {
        namespace: Key(namespace),
        user: Key(user),
        keys: body.permissions,
    };
    let done = s.execute_for(&caller, command.into()).await?;
    Ok(written_namespace(
        &done.compiled,
        done.target(),
        StatusCode::OK,
    ))
}
