//! The HTTP API under `/v1`. Every handler authorizes its call with the engine: reads through
//! [`Warden::require`] on the caller's snapshot, writes inside the core's `execute` against
//! the state being changed. There is no other path to the data.

use std::borrow::Cow;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use warden_client::model as m;
use warden_core::command::{PrincipalInput, PrincipalKind, RuleInput, TokenLifetime};
use warden_core::engine::DenyReason;
use warden_core::{
    Actor, ClusterId, Command, GroupId, NamespaceId, PolicyId, TokenId, UserId, UserStatus,
};

use crate::problem::ApiError;
use crate::views;
use crate::warden::{Caller, OrgView, Warden};

/// The header every org-scoped response carries: the revision it reflects.
pub const REVISION_HEADER: &str = "warden-revision";

/// Most questions one check call may ask.
pub const MAX_CHECKS: usize = 1000;

type AppState = State<Arc<Warden>>;

/// A JSON body whose rejections become problem details.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let Json(value) = Json::<T>::from_request(req, state).await?;
        Ok(ApiJson(value))
    }
}

/// Query parameters whose rejections become problem details.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| ApiQuery(q))
            .map_err(|e| ApiError::invalid("query", e.body_text()))
    }
}

/// Path parameters whose rejections (say, invalid percent-encoding) become problem details.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| ApiPath(v))
            .map_err(|e| ApiError::invalid("path", e.body_text()))
    }
}

impl FromRequestParts<Arc<Warden>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        warden: &Arc<Warden>,
    ) -> Result<Caller, ApiError> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or(ApiError::Unauthenticated(
                "an Authorization: Bearer <token> header is required",
            ))?;
        let secret = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(ApiError::Unauthenticated(
                "the Authorization header must be `Bearer <token>`",
            ))?;
        warden.authenticate(secret).await
    }
}

impl Caller {
    fn actor(&self) -> Actor {
        Actor::User(self.user.clone())
    }
}

fn with_revision(mut response: Response, revision: u64) -> Response {
    if let Ok(value) = HeaderValue::from_str(&revision.to_string()) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REVISION_HEADER), value);
    }
    response
}

fn read<T: Serialize>(view: &OrgView, body: T) -> Response {
    with_revision(Json(body).into_response(), view.revision())
}

fn list<T: Serialize>(view: &OrgView, items: Vec<T>) -> Response {
    read(
        view,
        m::List {
            revision: view.revision(),
            items,
        },
    )
}

fn written<T: Serialize>(status: StatusCode, view: &OrgView, item: Option<T>) -> Response {
    with_revision(
        (
            status,
            Json(m::Written {
                revision: view.revision(),
                item,
            }),
        )
            .into_response(),
        view.revision(),
    )
}

fn principal_kind(kind: &str) -> Result<PrincipalKind, ApiError> {
    match kind {
        "user" => Ok(PrincipalKind::User),
        "group" => Ok(PrincipalKind::Group),
        "service_account" => Ok(PrincipalKind::ServiceAccount),
        _ => Err(ApiError::invalid(
            "principal.kind",
            "must be `user`, `group` or `service_account`",
        )),
    }
}

fn rule_inputs(rules: Vec<m::RuleInput>) -> Result<Vec<RuleInput>, ApiError> {
    rules
        .into_iter()
        .map(|r| {
            Ok(RuleInput {
                principal: PrincipalInput {
                    kind: principal_kind(&r.principal.kind)?,
                    id: r.principal.id,
                },
                roles: r.roles,
            })
        })
        .collect()
}

fn lifetime(expires_in: Option<&str>) -> Result<TokenLifetime, ApiError> {
    match expires_in {
        None => Ok(TokenLifetime::default()),
        Some(s) => TokenLifetime::parse(s).ok_or_else(|| {
            ApiError::invalid(
                "expires_in",
                format!("must be one of {}", TokenLifetime::NAMES.join(", ")),
            )
        }),
    }
}

// ---------------------------------------------------------------------------------------
// Organization and users
// ---------------------------------------------------------------------------------------

#[utoipa::path(get, path = "/v1/organization", tag = "organization",
    responses((status = 200, body = m::Organization), (status = "default", body = m::Problem)))]
async fn get_organization(State(w): AppState, caller: Caller) -> Result<Response, ApiError> {
    w.require(&caller, "iam.organizations.get")?;
    Ok(read(&caller.view, views::organization(caller.view.state())))
}

#[utoipa::path(patch, path = "/v1/organization", tag = "organization", request_body = m::OrganizationUpdate,
    responses((status = 200, body = m::Written<m::Organization>), (status = "default", body = m::Problem)))]
async fn update_organization(
    State(w): AppState,
    caller: Caller,
    ApiJson(body): ApiJson<m::OrganizationUpdate>,
) -> Result<Response, ApiError> {
    let (view, _) = w
        .execute(
            &caller.org,
            &caller.actor(),
            Command::UpdateOrganization { name: body.name },
        )
        .await?;
    let org = views::organization(view.state());
    Ok(written(StatusCode::OK, &view, Some(org)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct UserFilter {
    /// Only users with this status (`invited`, `active`, `deactivated`).
    status: Option<String>,
}

#[utoipa::path(get, path = "/v1/users", tag = "users", params(UserFilter),
    responses((status = 200, body = m::List<m::User>), (status = "default", body = m::Problem)))]
async fn list_users(
    State(w): AppState,
    caller: Caller,
    ApiQuery(filter): ApiQuery<UserFilter>,
) -> Result<Response, ApiError> {
    w.require(&caller, "iam.users.list")?;
    let status = match filter.status.as_deref() {
        None => None,
        Some(s) => Some(UserStatus::parse(s).ok_or_else(|| {
            ApiError::invalid("status", "must be invited, active or deactivated")
        })?),
    };
    let snapshot = &caller.view.snapshot;
    let items = snapshot
        .state()
        .users
        .values()
        .filter(|u| status.is_none_or(|s| u.status == s))
        .map(|u| views::user(snapshot, u))
        .collect();
    Ok(list(&caller.view, items))
}

#[utoipa::path(get, path = "/v1/users/{user}", tag = "users",
    params(("user" = String, Path, description = "User id or email")),
    responses((status = 200, body = m::User), (status = "default", body = m::Problem)))]
async fn get_user(
    State(w): AppState,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
) -> Result<Response, ApiError> {
    w.require(&caller, "iam.users.get")?;
    let user = views::find_user(caller.view.state(), &key)?;
    Ok(read(&caller.view, views::user(&caller.view.snapshot, user)))
}

#[utoipa::path(patch, path = "/v1/users/{user}", tag = "users", request_body = m::UserUpdate,
    params(("user" = String, Path, description = "User id or email")),
    responses((status = 200, body = m::Written<m::User>), (status = "default", body = m::Problem)))]
async fn update_user(
    State(w): AppState,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<m::UserUpdate>,
) -> Result<Response, ApiError> {
    // Authorize before resolving names, so a caller without the action cannot tell which
    // exist (the core authorizes the command again against the state it changes).
    w.require(&caller, "iam.users.update")?;
    let id = views::find_user(caller.view.state(), &key)?.id.clone();
    let command = Command::UpdateUser {
        user: id.clone(),
        first_name: body.first_name,
        last_name: body.last_name,
    };
    user_write(&w, &caller, id, command).await
}

async fn user_write(
    w: &Warden,
    caller: &Caller,
    id: UserId,
    command: Command,
) -> Result<Response, ApiError> {
    let (view, _) = w.execute(&caller.org, &caller.actor(), command).await?;
    let user = view
        .state()
        .users
        .get(&id)
        .map(|u| views::user(&view.snapshot, u));
    Ok(written(StatusCode::OK, &view, user))
}

#[utoipa::path(post, path = "/v1/users/{user}/deactivate", tag = "users",
    params(("user" = String, Path, description = "User id or email")),
    responses((status = 200, body = m::Written<m::User>), (status = "default", body = m::Problem)))]
async fn deactivate_user(
    State(w): AppState,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
) -> Result<Response, ApiError> {
    w.require(&caller, "iam.users.deactivate")?;
    let id = views::find_user(caller.view.state(), &key)?.id.clone();
    user_write(
        &w,
        &caller,
        id.clone(),
        Command::DeactivateUser { user: id },
    )
    .await
}

#[utoipa::path(post, path = "/v1/users/{user}/reactivate", tag = "users",
    params(("user" = String, Path, description = "User id or email")),
    responses((status = 200, body = m::Written<m::User>), (status = "default", body = m::Problem)))]
async fn reactivate_user(
    State(w): AppState,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
) -> Result<Response, ApiError> {
    w.require(&caller, "iam.users.reactivate")?;
    let id = views::find_user(caller.view.state(), &key)?.id.clone();
    user_write(
        &w,
        &caller,
        id.clone(),
        Command::ReactivateUser { user: id },
    )
    .await
}

#[utoipa::path(get, path = "/v1/users/{user}/permissions", tag = "authz",
    params(("user" = String, Path, description = "User id or email")),
    responses((status = 200, body = m::Permissions), (status = "default", body = m::Problem)))]
async fn user_permissions(
    State(w): AppState,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
) -> Result<Response, ApiError> {
    w.require(&caller, "iam.permissions.list")?;
    let user = views::find_user(caller.view.state(), &key)?;
    let actions = caller
        .view
        .snapshot
        .permissions(user.id.as_str())
        .into_iter()
        .map(|(action, sources)| m::PermittedAction {
            action,
            granted_by: sources.into_iter().map(views::grant).collect(),
        })
        .collect();
    Ok(read(
        &caller.view,
        m::Permissions {
            principal: user.id.0.clone(),
            revision: caller.view.revision(),
            actions,
        },
    ))
}

#[utoipa::path(get, path = "/v1/whoami", tag = "authz",
    responses((status = 200, body = m::Whoami), (status = "default", body = m::Problem)))]
async fn whoami(caller: Caller) -> Result<Response, ApiError> {
    let snapshot = &caller.view.snapshot;
    let user = snapshot
        .state()
        .users
        .get(&caller.user)
        .ok_or(ApiError::Unauthenticated("unknown user"))?;
    let actions = snapshot
        .actions_of(caller.user.as_str())
        .iter()
        .map(|id| snapshot.catalog().action_name(id).to_string())
        .collect();
    Ok(read(
        &caller.view,
        m::Whoami {
            organization_id: caller.org.0.clone(),
            user: views::user(snapshot, user),
            token_id: caller.token.0.clone(),
            actions,
            revision: caller.view.revision(),
        },
    ))
}

// ---------------------------------------------------------------------------------------
// Groups and memberships
// ---------------------------------------------------------------------------------------

#[utoipa::path(get, path = "/v1/groups", tag = "groups",
    responses((status = 200, body = m::List<m::Group>), (status = "default", body = m::Problem)))]
async fn list_groups(State(w): AppState, caller: Caller) -> Result<Response, ApiError> {
    w.require(&caller, "iam.groups.list")?;
    let state = caller.view.state();
    let items = state
        .groups
        .values()
        .map(|g| views::group(state, g))
        .collect();
    Ok(list(&caller.view, items))
}

#[utoipa::path(post, path = "/v1/groups", tag = "groups", request_body = m::GroupInput,
    responses((status = 201, body = m::Written<m::Group>), (status = "default", body = m::Problem)))]
async fn create_group(
    State(w): AppState,
    caller: Caller,
    ApiJson(body): ApiJson<m::GroupInput>,
) -> Result<Response, ApiError> {
    let (view, id) = w
        .execute(
            &caller.org,
            &caller.actor(),
            Command::CreateGroup {
                name: body.name,
                description: body.description,
            },
        )
        .await?;
    let state = view.state();
    let group = state
        .groups
        .get(&GroupId(id))
        .map(|g| views::group(state, g));
    Ok(written(StatusCode::CREATED, &view, group))
}

#[utoipa::path(get, path = "/v1/groups/{group}", tag = "groups",
    params(("group" = String, Path, description = "Group id or name")),
    responses((status = 200, body = m::Group), (status = "default", body = m::Problem)))]
async fn get_group(
    State(w): AppState,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
) -> Result<Response, ApiError> {
    w.require(&caller, "iam.groups.get")?;
    let state = caller.view.state();
    let group = views::find_group(state, &key)?;
    Ok(read(&caller.view, views::group(state, group)))
}

#[utoipa::path(patch, path = "/v1/groups/{group}", tag = "groups", request_body = m::GroupUpdate,
    params(("group" = String, Path, description = "Group id or name")),
    responses((status = 200, body = m::Written<m::Group>), (status = "default", body = m::Problem)))]
async fn update_group(
    State(w): AppState,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<m::GroupUpdate>,
) -> Result<Response, ApiError> {
    w.require(&caller, "iam.groups.update")?;
    let id = views::find_group(caller.view.state(), &key)?.id.clone();
    let (view, _) = w
        .execute(
            &caller.org,
            &caller.actor(),
            Command::UpdateGroup {
                group: id.clone(),
                name: body.name,
                description: body.description,
            },
        )
        .await?;
    let state = view.state();
    let group = state.groups.get(&id).map(|g| views::group(state, g));
    Ok(written(StatusCode::OK, &view, group))
}

#[utoipa::path(delete, path = "/v1/groups/{group}", tag = "groups",
    params(("group" = String, Path, description = "Group id or name")),
    responses((status = 200, body = m::Written<m::Group>), (status = "default", body = m::Problem)))]
async fn delete_group(
    State(w): AppState,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
) -> Result<Response, ApiError> {
    w.require(&caller, "iam.groups.delete")?;
    let id = views::find_group(caller.view.state(), &key)?.id.clone();
    let (view, _) = w
        .execute(
            &caller.org,
            &caller.actor(),
            Command::DeleteGroup { group: id },
        )
        .await?;
    Ok(written::<m::Group>(StatusCode::OK, &view, None))
}

#[utoipa::path(get, path = "/v1/groups/{group}/members", tag = "groups",
    params(("group" = String, Path, description = "Group id or name")),
    responses((status = 200, body = m::List<m::GroupMember>), (status = "default", body = m::Problem)))]
async fn list_members(
    State(w): AppState,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
) -> Result<Response, ApiError> {
    w.require(&caller, "iam.memberships.list")?;
    let state = caller.view.state();
    let group = views::find_group(state, &key)?;
    let items = state
        .members_of(&group.id)
        .filter_map(|u| state.users.get(u))
        .map(|u| m::GroupMember {
            user_id: u.id.0.clone(),
            email: u.email.clone(),
            status: u.status.as_str().to_string(),
        })
        .collect();
    Ok(list(&caller.view, items))
}

#[utoipa::path(put, path = "/v1/groups/{group}/members/{user}", tag = "groups",
    params(("group" = String, Path, description = "Group id or name"), ("user" = String, Path, description = "User id or email")),
    responses((status = 200, body = m::Written<m::Group>), (status = "default", body = m::Problem)))]
async fn add_member(
    State(w): AppState,
    caller: Caller,
    ApiPath((group, user)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    w.require(&caller, "iam.memberships.create")?;
    let state = caller.view.state();
    let group = views::find_group(state, &group)?.id.clone();
    let user = views::find_user(state, &user)?.id.clone();
    membership_write(&w, &caller, Command::AddGroupMember { group, user }).await
}

#[utoipa::path(delete, path = "/v1/groups/{group}/members/{user}", tag = "groups",
    params(("group" = String, Path, description = "Group id or name"), ("user" = String, Path, description = "User id or email")),
    responses((status = 200, body = m::Written<m::Group>), (status = "default", body = m::Problem)))]
async fn remove_member(
    State(w): AppState,
    caller: Caller,
    ApiPath((group, user)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    w.require(&caller, "iam.memberships.delete")?;
    let state = caller.view.state();
    let group = views::find_group(state, &group)?.id.clone();
    let user = views::find_user(state, &user)?.id.clone();
    membership_write(&w, &caller, Command::RemoveGroupMember { group, user }).await
}

async fn membership_write(
    w: &Warden,
    caller: &Caller,
    command: Command,
) -> Result<Response, ApiError> {
    let (view, id) = w.execute(&caller.org, &caller.actor(), command).await?;
    let state = view.state();
    let group = state
        .groups
        .get(&GroupId(id))
        .map(|g| views::group(state, g));
    Ok(written(StatusCode::OK, &view, group))
}

// ---------------------------------------------------------------------------------------
// Access policies and the catalog
// ---------------------------------------------------------------------------------------

#[utoipa::path(get, path = "/v1/policies", tag = "policies",
    responses((status = 200, body = m::List<m::Policy>), (status = "default", body = m::Problem)))]
async fn list_policies(State(w): AppState, caller: Caller) -> Result<Response, ApiError> {
    w.require(&caller, "iam.policies.list")?;
    let state = caller.view.state();
    let items = state
        .policies
        .values()
        .map(|p| views::policy(state, p))
        .collect();
    Ok(list(&caller.view, items))
}

#[utoipa::path(post, path = "/v1/policies", tag = "policies", request_body = m::PolicyInput,
    responses((status = 201, body = m::Written<m::Policy>), (status = "default", body = m::Problem)))]
async fn create_policy(
    State(w): AppState,
    caller: Caller,
    ApiJson(body): ApiJson<m::PolicyInput>,
) -> Result<Response, ApiError> {
    let command = Command::CreatePolicy {
        name: body.name,
        description: body.description,
        rules: rule_inputs(body.rules)?,
    };
    policy_write(&w, &caller, StatusCode::CREATED, command).await
}

async fn policy_write(
    w: &Warden,
    caller: &Caller,
    status: StatusCode,
    command: Command,
) -> Result<Response, ApiError> {
    let (view, id) = w.execute(&caller.org, &caller.actor(), command).await?;
    let state = view.state();
    let policy = state
        .policies
        .get(&PolicyId(id))
        .map(|p| views::policy(state, p));
    Ok(written(status, &view, policy))
}

#[utoipa::path(get, path = "/v1/policies/{policy}", tag = "policies",
    params(("policy" = String, Path, description = "Policy id or name")),
    responses((status = 200, body = m::Policy), (status = "default", body = m::Problem)))]
async fn get_policy(
    State(w): AppState,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
) -> Result<Response, ApiError> {
    w.require(&caller, "iam.policies.get")?;
    let state = caller.view.state();
    let policy = views::find_policy(state, &key)?;
    Ok(read(&caller.view, views::policy(state, policy)))
}

#[utoipa::path(put, path = "/v1/policies/{policy}", tag = "policies", request_body = m::PolicyInput,
    params(("policy" = String, Path, description = "Policy id or name")),
    responses((status = 200, body = m::Written<m::Policy>), (status = "default", body = m::Problem)))]
async fn replace_policy(
    State(w): AppState,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<m::PolicyInput>,
) -> Result<Response, ApiError> {
    w.require(&caller, "iam.policies.update")?;
    let policy = views::find_policy(caller.view.state(), &key)?.id.clone();
    let command = Command::ReplacePolicy {
        policy,
        name: body.name,
        description: body.description,
        rules: rule_inputs(body.rules)?,
    };
    policy_write(&w, &caller, StatusCode::OK, command).await
}

#[utoipa::path(delete, path = "/v1/policies/{policy}", tag = "policies",
    params(("policy" = String, Path, description = "Policy id or name")),
    responses((status = 200, body = m::Written<m::Policy>), (status = "default", body = m::Problem)))]
async fn delete_policy(
    State(w): AppState,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
) -> Result<Response, ApiError> {
    w.require(&caller, "iam.policies.delete")?;
    let policy = views::find_policy(caller.view.state(), &key)?.id.clone();
    let (view, _) = w
        .execute(
            &caller.org,
            &caller.actor(),
            Command::DeletePolicy { policy },
        )
        .await?;
    Ok(written::<m::Policy>(StatusCode::OK, &view, None))
}

fn role_view(role: &warden_core::catalog::Role) -> m::Role {
    m::Role {
        id: role.id.clone(),
        name: role.name.clone(),
        description: role.description.clone(),
        includes: role.includes.clone(),
        actions: role.actions.clone(),
    }
}

#[utoipa::path(get, path = "/v1/roles", tag = "roles",
    responses((status = 200, body = m::List<m::Role>), (status = "default", body = m::Problem)))]
async fn list_roles(State(w): AppState, caller: Caller) -> Result<Response, ApiError> {
    w.require(&caller, "iam.roles.list")?;
    let items = w.catalog().roles().iter().map(role_view).collect();
    Ok(list(&caller.view, items))
}

#[utoipa::path(get, path = "/v1/roles/{role}", tag = "roles",
    params(("role" = String, Path, description = "Role id")),
    responses((status = 200, body = m::Role), (status = "default", body = m::Problem)))]
async fn get_role(
    State(w): AppState,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    w.require(&caller, "iam.roles.get")?;
    let role = w
        .catalog()
        .role(&id)
        .ok_or_else(|| ApiError::not_found("role", &id))?;
    Ok(read(&caller.view, role_view(role)))
}

#[utoipa::path(get, path = "/v1/catalog", tag = "roles",
    responses((status = 200, body = m::CatalogView), (status = "default", body = m::Problem)))]
async fn get_catalog(State(w): AppState, caller: Caller) -> Result<Response, ApiError> {
    w.require(&caller, "iam.roles.list")?;
    let c = w.catalog();
    Ok(read(
        &caller.view,
        m::CatalogView {
            actions: c.actions().to_vec(),
            aliases: c.aliases().clone(),
            roles: c.roles().iter().map(role_view).collect(),
            legacy_groups: c
                .legacy_groups()
                .iter()
                .map(|g| m::LegacyGroup {
                    name: g.name.clone(),
                    roles: g.roles.clone(),
                    cluster_role: g.cluster_role.clone(),
                })
                .collect(),
            namespace_permissions: c
                .namespace_permissions()
                .iter()
                .map(|p| m::NamespacePermission {
                    key: p.key.clone(),
                    description: p.description.clone(),
                    reserved: p.reserved,
                    implies: p.implies.clone(),
                })
                .collect(),
        },
    ))
}

// ---------------------------------------------------------------------------------------
// Namespaces and clusters
// ---------------------------------------------------------------------------------------

#[utoipa::path(get, path = "/v1/namespaces", tag = "namespaces",
    responses((status = 200, body = m::List<m::Namespace>), (status = "default", body = m::Problem)))]
async fn list_namespaces(State(w): AppState, caller: Caller) -> Result<Response, ApiError> {
    w.require(&caller, "iam.namespaces.list")?;
    let state = caller.view.state();
    let items = state
        .namespaces
        .values()
        .map(|n| views::namespace(state, n))
        .collect();
    Ok(list(&caller.view, items))
}

#[utoipa::path(post, path = "/v1/namespaces", tag = "namespaces", request_body = m::NamespaceInput,
    responses((status = 201, body = m::Written<m::Namespace>), (status = "default", body = m::Problem)))]
async fn create_namespace(
    State(w): AppState,
    caller: Caller,
    ApiJson(body): ApiJson<m::NamespaceInput>,
) -> Result<Response, ApiError> {
    w.require(&caller, "iam.namespaces.create")?;
    let state = caller.view.state();
    let mut access = Vec::with_capacity(body.access.len());
    for entry in body.access {
        let user = views::find_user(state, &entry.user)
            .map_err(|_| warden_core::DomainError::UnknownPrincipal {
                kind: "user",
                id: entry.user.chars().take(128).collect(),
            })?
            .id
            .clone();
        access.push((user, entry.permissions));
    }
    let (view, id) = w
        .execute(
            &caller.org,
            &caller.actor(),
            Command::CreateNamespace {
                name: body.name,
                access,
            },
        )
        .await?;
    let state = view.state();
    let namespace = state
        .namespaces
        .get(&NamespaceId(id))
        .map(|n| views::namespace(state, n));
    Ok(written(StatusCode::CREATED, &view, namespace))
}

#[utoipa::path(get, path = "/v1/namespaces/{namespace}", tag = "namespaces",
    params(("namespace" = String, Path, description = "Namespace id or name")),
    responses((status = 200, body = m::Namespace), (status = "default", body = m::Problem)))]
async fn get_namespace(
    State(w): AppState,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
) -> Result<Response, ApiError> {
    w.require(&caller, "iam.namespaces.get")?;
    let state = caller.view.state();
    let namespace = views::find_namespace(state, &key)?;
    Ok(read(&caller.view, views::namespace(state, namespace)))
}

#[utoipa::path(delete, path = "/v1/namespaces/{namespace}", tag = "namespaces",
    params(("namespace" = String, Path, description = "Namespace id or name")),
    responses((status = 200, body = m::Written<m::Namespace>), (status = "default", body = m::Problem)))]
async fn delete_namespace(
    State(w): AppState,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
) -> Result<Response, ApiError> {
    w.require(&caller, "iam.namespaces.delete")?;
    let namespace = views::find_namespace(caller.view.state(), &key)?.id.clone();
    let (view, _) = w
        .execute(
            &caller.org,
            &caller.actor(),
            Command::DeleteNamespace { namespace },
        )
        .await?;
    Ok(written::<m::Namespace>(StatusCode::OK, &view, None))
}

#[utoipa::path(get, path = "/v1/namespaces/{namespace}/access", tag = "namespaces",
    params(("namespace" = String, Path, description = "Namespace id or name")),
    responses((status = 200, body = m::List<m::NamespaceAccess>), (status = "default", body = m::Problem)))]
async fn list_namespace_access(
    State(w): AppState,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
) -> Result<Response, ApiError> {
    w.require(&caller, "iam.namespace_access.list")?;
    let state = caller.view.state();
    let namespace = views::find_namespace(state, &key)?;
    Ok(list(
        &caller.view,
        views::namespace(state, namespace).access,
    ))
}

#[utoipa::path(put, path = "/v1/namespaces/{namespace}/access/{user}", tag = "namespaces",
    request_body = m::NamespacePermissionsInput,
    params(("namespace" = String, Path, description = "Namespace id or name"), ("user" = String, Path, description = "User id or email")),
    responses((status = 200, body = m::Written<m::Namespace>), (status = "default", body = m::Problem)))]
async fn set_namespace_access(
    State(w): AppState,
    caller: Caller,
    ApiPath((namespace, user)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<m::NamespacePermissionsInput>,
) -> Result<Response, ApiError> {
    w.require(&caller, "iam.namespace_access.update")?;
    let state = caller.view.state();
    let namespace = views::find_namespace(state, &namespace)?.id.clone();
    let user = views::find_user(state, &user)?.id.clone();
    let (view, _) = w
        .execute(
            &caller.org,
            &caller.actor(),
            Command::SetNamespaceAccess {
                namespace: namespace.clone(),
                user,
                keys: body.permissions,
            },
        )
        .await?;
    let state = view.state();
    let item = state
        .namespaces
        .get(&namespace)
        .map(|n| views::namespace(state, n));
    Ok(written(StatusCode::OK, &view, item))
}

#[utoipa::path(get, path = "/v1/clusters", tag = "clusters",
    responses((status = 200, body = m::List<m::Cluster>), (status = "default", body = m::Problem)))]
async fn list_clusters(State(w): AppState, caller: Caller) -> Result<Response, ApiError> {
    w.require(&caller, "cks.clusters.list")?;
    let items = caller
        .view
        .state()
        .clusters
        .values()
        .map(views::cluster)
        .collect();
    Ok(list(&caller.view, items))
}

#[utoipa::path(post, path = "/v1/clusters", tag = "clusters", request_body = m::ClusterInput,
    responses((status = 201, body = m::Written<m::Cluster>), (status = "default", body = m::Problem)))]
async fn create_cluster(
    State(w): AppState,
    caller: Caller,
    ApiJson(body): ApiJson<m::ClusterInput>,
) -> Result<Response, ApiError> {
    let (view, id) = w
        .execute(
            &caller.org,
            &caller.actor(),
            Command::CreateCluster {
                name: body.name,
                api_server_url: body.api_server_url,
                ca_bundle: body.ca_bundle,
            },
        )
        .await?;
    let cluster = view
        .state()
        .clusters
        .get(&ClusterId(id))
        .map(views::cluster);
    Ok(written(StatusCode::CREATED, &view, cluster))
}

#[utoipa::path(get, path = "/v1/clusters/{cluster}", tag = "clusters",
    params(("cluster" = String, Path, description = "Cluster id or name")),
    responses((status = 200, body = m::Cluster), (status = "default", body = m::Problem)))]
async fn get_cluster(
    State(w): AppState,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
) -> Result<Response, ApiError> {
    w.require(&caller, "cks.clusters.get")?;
    let cluster = views::find_cluster(caller.view.state(), &key)?;
    Ok(read(&caller.view, views::cluster(cluster)))
}

#[utoipa::path(patch, path = "/v1/clusters/{cluster}", tag = "clusters", request_body = m::ClusterUpdate,
    params(("cluster" = String, Path, description = "Cluster id or name")),
    responses((status = 200, body = m::Written<m::Cluster>), (status = "default", body = m::Problem)))]
async fn update_cluster(
    State(w): AppState,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<m::ClusterUpdate>,
) -> Result<Response, ApiError> {
    w.require(&caller, "cks.clusters.update")?;
    let id = views::find_cluster(caller.view.state(), &key)?.id.clone();
    let (view, _) = w
        .execute(
            &caller.org,
            &caller.actor(),
            Command::UpdateCluster {
                cluster: id.clone(),
                api_server_url: body.api_server_url,
                ca_bundle: body.ca_bundle,
            },
        )
        .await?;
    let cluster = view.state().clusters.get(&id).map(views::cluster);
    Ok(written(StatusCode::OK, &view, cluster))
}

#[utoipa::path(delete, path = "/v1/clusters/{cluster}", tag = "clusters",
    params(("cluster" = String, Path, description = "Cluster id or name")),
    responses((status = 200, body = m::Written<m::Cluster>), (status = "default", body = m::Problem)))]
async fn delete_cluster(
    State(w): AppState,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
) -> Result<Response, ApiError> {
    w.require(&caller, "cks.clusters.delete")?;
    let cluster = views::find_cluster(caller.view.state(), &key)?.id.clone();
    let (view, _) = w
        .execute(
            &caller.org,
            &caller.actor(),
            Command::DeleteCluster { cluster },
        )
        .await?;
    Ok(written::<m::Cluster>(StatusCode::OK, &view, None))
}

// ---------------------------------------------------------------------------------------
// Personal access tokens (the caller's own)
// ---------------------------------------------------------------------------------------

async fn last_used(w: &Warden, caller: &Caller) -> Result<Vec<(TokenId, i64)>, ApiError> {
    Ok(w.store()
        .token_last_used(&caller.org)
        .await?
        .into_iter()
        .map(|(id, at)| (id, at.0))
        .collect())
}

#[utoipa::path(get, path = "/v1/tokens", tag = "tokens",
    responses((status = 200, body = m::List<m::Token>), (status = "default", body = m::Problem)))]
async fn list_tokens(State(w): AppState, caller: Caller) -> Result<Response, ApiError> {
    w.require(&caller, "tokens.personal.list")?;
    let used = last_used(&w, &caller).await?;
    let items = caller
        .view
        .state()
        .tokens
        .values()
        .filter(|t| t.user == caller.user)
        .map(|t| {
            let at = used.iter().find(|(id, _)| *id == t.id).map(|(_, at)| *at);
            views::token(t, at)
        })
        .collect();
    Ok(list(&caller.view, items))
}

#[utoipa::path(post, path = "/v1/tokens", tag = "tokens", request_body = m::TokenInput,
    responses((status = 201, body = m::CreatedToken), (status = "default", body = m::Problem)))]
async fn create_token(
    State(w): AppState,
    caller: Caller,
    ApiJson(body): ApiJson<m::TokenInput>,
) -> Result<Response, ApiError> {
    let lifetime = lifetime(body.expires_in.as_deref())?;
    let (view, secret, id) = w
        .create_personal_token(&caller.org, &caller.user, &body.name, &body.note, lifetime)
        .await?;
    let token = view
        .state()
        .tokens
        .get(&id)
        .map(|t| views::token(t, None))
        .ok_or_else(|| ApiError::Internal("created token missing from snapshot".into()))?;
    let body = m::CreatedToken {
        revision: view.revision(),
        token,
        secret,
    };
    let mut response = with_revision(
        (StatusCode::CREATED, Json(body)).into_response(),
        view.revision(),
    );
    // The secret must not linger in caches.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[utoipa::path(get, path = "/v1/tokens/{token}", tag = "tokens",
    params(("token" = String, Path, description = "Token id")),
    responses((status = 200, body = m::Token), (status = "default", body = m::Problem)))]
async fn get_token(
    State(w): AppState,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    w.require(&caller, "tokens.personal.get")?;
    let token = caller
        .view
        .state()
        .tokens
        .get(&TokenId(id.clone()))
        .filter(|t| t.user == caller.user)
        .ok_or_else(|| ApiError::not_found("token", &id))?;
    let used = last_used(&w, &caller).await?;
    let at = used.iter().find(|(t, _)| *t == token.id).map(|(_, at)| *at);
    Ok(read(&caller.view, views::token(token, at)))
}

#[utoipa::path(delete, path = "/v1/tokens/{token}", tag = "tokens",
    params(("token" = String, Path, description = "Token id")),
    responses((status = 200, body = m::Written<m::Token>), (status = "default", body = m::Problem)))]
async fn delete_token(
    State(w): AppState,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let (view, _) = w
        .execute(
            &caller.org,
            &caller.actor(),
            Command::DeletePersonalToken { token: TokenId(id) },
        )
        .await?;
    Ok(written::<m::Token>(StatusCode::OK, &view, None))
}

// ---------------------------------------------------------------------------------------
// Decisions
// ---------------------------------------------------------------------------------------

fn reason_text(reason: DenyReason) -> &'static str {
    match reason {
        DenyReason::NoMatchingRule => "no_matching_rule",
        DenyReason::UnknownPrincipal => "unknown_principal",
        DenyReason::PrincipalInactive => "principal_inactive",
    }
}

// The check endpoint is the hot path: its body is parsed borrowing from the request bytes
// and its answer serialized from static reason strings, so a single check allocates
// little. The JSON is exactly that of `model::CheckRequest` / `model::CheckResponse`.

#[derive(Deserialize)]
struct CheckRequestIn<'a> {
    #[serde(borrow)]
    checks: Vec<CheckQuestionIn<'a>>,
    #[serde(default)]
    at_least_revision: Option<u64>,
}

#[derive(Deserialize)]
struct CheckQuestionIn<'a> {
    #[serde(borrow)]
    principal: Cow<'a, str>,
    #[serde(borrow)]
    action: Cow<'a, str>,
    #[serde(default, borrow)]
    namespace: Option<Cow<'a, str>>,
    #[serde(default)]
    explain: bool,
}

#[derive(Serialize)]
struct CheckResultOut {
    allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    granted_by: Option<Vec<m::GrantSource>>,
}

#[derive(Serialize)]
struct CheckResponseOut {
    revision: u64,
    results: Vec<CheckResultOut>,
}

fn answer(
    view: &OrgView,
    index: usize,
    question: &CheckQuestionIn<'_>,
) -> Result<CheckResultOut, ApiError> {
    let snapshot = &view.snapshot;
    let (principal, action) = (question.principal.as_ref(), question.action.as_ref());
    let unknown = |what: &str| ApiError::UnknownAction(format!("checks[{index}]: {what}"));
    let unknown_action = |e: warden_core::engine::UnknownAction| {
        unknown(&format!("`{}` is not a catalog action or alias", e.0))
    };
    if let Some(namespace) = question.namespace.as_deref() {
        if snapshot.catalog().namespace_permission(action).is_none() {
            return Err(unknown(&format!(
                "`{action}` is not a namespace permission key"
            )));
        }
        let allowed = snapshot.check_namespace(principal, namespace, action);
        let reason = (!allowed).then(|| match snapshot.deny_reason(principal) {
            DenyReason::NoMatchingRule => {
                if view
                    .state()
                    .namespaces
                    .values()
                    .any(|n| n.name == namespace)
                {
                    "namespace_permission_missing"
                } else {
                    "unknown_namespace"
                }
            }
            other => reason_text(other),
        });
        return Ok(CheckResultOut {
            allowed,
            reason,
            granted_by: question.explain.then(Vec::new),
        });
    }
    if question.explain {
        let explained = snapshot
            .explain(principal, action)
            .map_err(unknown_action)?;
        return Ok(CheckResultOut {
            allowed: explained.allowed,
            reason: explained.reason.map(reason_text),
            granted_by: Some(explained.granted_by.into_iter().map(views::grant).collect()),
        });
    }
    let allowed = snapshot.check(principal, action).map_err(unknown_action)?;
    Ok(CheckResultOut {
        allowed,
        reason: (!allowed).then(|| reason_text(snapshot.deny_reason(principal))),
        granted_by: None,
    })
}

fn parse_json<'a, T: Deserialize<'a>>(headers: &HeaderMap, body: &'a [u8]) -> Result<T, ApiError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let mime = v.split(';').next().unwrap_or("").trim();
            mime == "application/json" || mime.ends_with("+json")
        });
    if !json {
        return Err(ApiError::UnsupportedMediaType);
    }
    serde_json::from_slice(body).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ApiError::InvalidBody(e.to_string()),
        _ => ApiError::MalformedJson(e.to_string()),
    })
}

#[utoipa::path(post, path = "/v1/authz/check", tag = "authz", request_body = m::CheckRequest,
    responses((status = 200, body = m::CheckResponse), (status = "default", body = m::Problem)))]
async fn check(
    State(w): AppState,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: CheckRequestIn<'_> = parse_json(&headers, &body)?;
    if request.checks.is_empty() || request.checks.len() > MAX_CHECKS {
        return Err(ApiError::invalid(
            "checks",
            format!("ask between 1 and {MAX_CHECKS} questions"),
        ));
    }
    // Asking about yourself is always allowed; asking about others reads IAM configuration.
    if request
        .checks
        .iter()
        .any(|q| q.principal.as_ref() != caller.user.as_str())
    {
        w.require(&caller, "iam.permissions.list")?;
    }
    let view = match request.at_least_revision {
        Some(revision) => w.wait_for_revision(&caller.org, revision).await?,
        None => caller.view.clone(),
    };
    let results = request
        .checks
        .iter()
        .enumerate()
        .map(|(i, q)| answer(&view, i, q))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(read(
        &view,
        CheckResponseOut {
            revision: view.revision(),
            results,
        },
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct WhoCanQuery {
    /// A catalog action or alias.
    action: String,
}

#[utoipa::path(get, path = "/v1/authz/principals", tag = "authz", params(WhoCanQuery),
    responses((status = 200, body = m::WhoCan), (status = "default", body = m::Problem)))]
async fn who_can(
    State(w): AppState,
    caller: Caller,
    ApiQuery(query): ApiQuery<WhoCanQuery>,
) -> Result<Response, ApiError> {
    w.require(&caller, "iam.permissions.list")?;
    let principals = caller.view.snapshot.who_can(&query.action).map_err(|e| {
        ApiError::UnknownAction(format!("`{}` is not a catalog action or alias", e.0))
    })?;
    Ok(read(
        &caller.view,
        m::WhoCan {
            action: query.action,
            revision: caller.view.revision(),
            principals,
        },
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct AuditQuery {
    /// At most this many events (1 to 1000, default 100).
    limit: Option<u32>,
    /// Only events listed after this time (ms since the epoch): the previous page's last
    /// `at`. With `before_id` (that event's `id`), paging resumes exactly after it.
    before: Option<i64>,
    /// The previous page's last `id`, with `before`.
    before_id: Option<String>,
}

#[utoipa::path(get, path = "/v1/audit-events", tag = "audit", params(AuditQuery),
    responses((status = 200, body = m::List<m::AuditEvent>), (status = "default", body = m::Problem)))]
async fn list_audit(
    State(w): AppState,
    caller: Caller,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Response, ApiError> {
    w.require(&caller, "iam.audit_events.list")?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 1000"));
    }
    let events = w
        .store()
        .list_audit(
            &caller.org,
            limit,
            query.before.map(|at| {
                (
                    warden_core::Timestamp(at),
                    query.before_id.as_deref().unwrap_or(""),
                )
            }),
        )
        .await?;
    let items = events
        .into_iter()
        .map(|e| m::AuditEvent {
            id: e.id,
            at: e.at.0,
            actor: e.actor,
            action: e.action,
            target: e.target,
            outcome: e.outcome,
            error_code: e.error_code,
            revision: e.revision,
            request_id: e.request_id,
            changes: e.changes,
        })
        .collect();
    Ok(list(&caller.view, items))
}

// ---------------------------------------------------------------------------------------
// Router and OpenAPI document
// ---------------------------------------------------------------------------------------

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Warden API", description = "Identity and access management for a GPU cloud. Every call needs `Authorization: Bearer <token>`; errors are RFC 9457 problem details with a stable `code`."),
    paths(
        get_organization, update_organization,
        list_users, get_user, update_user, deactivate_user, reactivate_user, user_permissions, whoami,
        list_groups, create_group, get_group, update_group, delete_group,
        list_members, add_member, remove_member,
        list_policies, create_policy, get_policy, replace_policy, delete_policy,
        list_roles, get_role, get_catalog,
        list_namespaces, create_namespace, get_namespace, delete_namespace,
        list_namespace_access, set_namespace_access,
        list_clusters, create_cluster, get_cluster, update_cluster, delete_cluster,
        list_tokens, create_token, get_token, delete_token,
        check, who_can, list_audit,
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

async fn openapi_json() -> Response {
    use utoipa::OpenApi;
    Json(ApiDoc::openapi()).into_response()
}

async fn healthz() -> &'static str {
    "ok"
}

/// Every route of the API.
pub fn routes() -> Router<Arc<Warden>> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/v1/openapi.json", get(openapi_json))
        .route(
            "/v1/organization",
            get(get_organization).patch(update_organization),
        )
        .route("/v1/users", get(list_users))
        .route("/v1/users/{user}", get(get_user).patch(update_user))
        .route("/v1/users/{user}/deactivate", post(deactivate_user))
        .route("/v1/users/{user}/reactivate", post(reactivate_user))
        .route("/v1/users/{user}/permissions", get(user_permissions))
        .route("/v1/whoami", get(whoami))
        .route("/v1/groups", get(list_groups).post(create_group))
        .route(
            "/v1/groups/{group}",
            get(get_group).patch(update_group).delete(delete_group),
        )
        .route("/v1/groups/{group}/members", get(list_members))
        .route(
            "/v1/groups/{group}/members/{user}",
            put(add_member).delete(remove_member),
        )
        .route("/v1/policies", get(list_policies).post(create_policy))
        .route(
            "/v1/policies/{policy}",
            get(get_policy).put(replace_policy).delete(delete_policy),
        )
        .route("/v1/roles", get(list_roles))
        .route("/v1/roles/{role}", get(get_role))
        .route("/v1/catalog", get(get_catalog))
        .route(
            "/v1/namespaces",
            get(list_namespaces).post(create_namespace),
        )
        .route(
            "/v1/namespaces/{namespace}",
            get(get_namespace).delete(delete_namespace),
        )
        .route(
            "/v1/namespaces/{namespace}/access",
            get(list_namespace_access),
        )
        .route(
            "/v1/namespaces/{namespace}/access/{user}",
            put(set_namespace_access),
        )
        .route("/v1/clusters", get(list_clusters).post(create_cluster))
        .route(
            "/v1/clusters/{cluster}",
            get(get_cluster)
                .patch(update_cluster)
                .delete(delete_cluster),
        )
        .route("/v1/tokens", get(list_tokens).post(create_token))
        .route("/v1/tokens/{token}", get(get_token).delete(delete_token))
        .route("/v1/authz/check", post(check))
        .route("/v1/authz/principals", get(who_can))
        .route("/v1/audit-events", get(list_audit))
}
