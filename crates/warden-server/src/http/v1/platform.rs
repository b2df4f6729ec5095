//! `/v1/platform`: platform operators' calls (an operator token). What they change in an
//! organization goes through its write path as `Actor::Operator`: authorized by the core,
//! applied at once, audited in that organization.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use warden_client::model as m;
use warden_core::command::{FirstUser, Key, NamespaceCommand};
use warden_core::{resolve, DomainError, OrgId, TokenId};

use super::invitations::{offer, sent};
use super::namespaces::namespace;
use super::organization::organization;
use super::tokens::{created_token, lifetime, token};
use super::users::user;
use super::Answer;
use crate::http::error::{ApiError, Problems};
use crate::http::extract::{Json, Path};
use crate::http::respond::{self, with_revision, written};
use crate::http::AppState;
use crate::service::{now, CompiledOrg, FirstAdminAccess, OperatorCaller, Service};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_operators, create_operator))
        .routes(routes!(list_organizations, create_organization))
        .routes(routes!(set_default_admin))
        .routes(routes!(add_user))
        .routes(routes!(remove_user))
        .routes(routes!(namespace_keys))
        .routes(routes!(invite))
}

fn operator(o: warden_store::Operator) -> m::Operator {
    m::Operator {
        id: o.id.to_string(),
        name: o.name,
        email: o.email,
        created_by: o.created_by,
        created_at: o.created_at.0,
    }
}

/// The organization a path names (loaded now if the server is still warming up).
pub(super) async fn org_of(
    s: &Service,
    org: &str,
) -> Result<(OrgId, std::sync::Arc<CompiledOrg>), ApiError> {
    let id = OrgId::from(org);
    let compiled = match s.compiled(&id) {
        Some(compiled) => Some(compiled),
        None if warden_core::command::is_org_id(org) => s.load_on_demand(&id).await?,
        None => None,
    };
    let compiled = compiled.ok_or_else(|| DomainError::not_found("organization", org))?;
    Ok((id, compiled))
}

/// The platform operators.
#[utoipa::path(get, path = "/v1/platform/operators", tag = "platform",
    responses((status = 200, body = m::List<m::Operator>), Problems))]
async fn list_operators(State(s): State<AppState>, _operator: OperatorCaller) -> Answer {
    let items = s
        .store()
        .operators()
        .await
        .map_err(crate::service::ServiceError::from)?;
    Ok(axum::Json(m::List {
        revision: 0,
        items: items.into_iter().map(operator).collect(),
    })
    .into_response())
}

/// Adds a platform operator; its token's secret is shown once.
#[utoipa::path(post, path = "/v1/platform/operators", tag = "platform", request_body = m::OperatorInput,
    responses((status = 201, body = m::CreatedOperator), Problems))]
async fn create_operator(
    State(s): State<AppState>,
    caller: OperatorCaller,
    Json(body): Json<m::OperatorInput>,
) -> Answer {
    let created = s
        .create_operator(&caller.actor(), &body.name, &body.email, false)
        .await?;
    let Some((created, secret)) = created else {
        return Ok(StatusCode::INTERNAL_SERVER_ERROR.into_response());
    };
    Ok(respond::secret(
        StatusCode::CREATED,
        m::CreatedOperator {
            operator: operator(created),
            secret,
        },
        None,
    ))
}

/// Every organization this server serves.
#[utoipa::path(get, path = "/v1/platform/organizations", tag = "platform",
    responses((status = 200, body = m::List<m::PlatformOrganization>), Problems))]
async fn list_organizations(State(s): State<AppState>, _operator: OperatorCaller) -> Answer {
    let mut items: Vec<m::PlatformOrganization> = s
        .organizations()
        .iter()
        .map(|compiled| {
            let state = compiled.state();
            m::PlatformOrganization {
                id: state.org.id.to_string(),
                name: state.org.name.clone(),
                default_admin: state.org.default_admin.to_string(),
                default_admin_email: state
                    .users
                    .get(&state.org.default_admin)
                    .map(|u| u.email.to_string())
                    .unwrap_or_default(),
                users: u64::try_from(state.users.len()).unwrap_or(u64::MAX),
                created_at: state.org.created_at.0,
                revision: state.revision,
            }
        })
        .collect();
    items.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(axum::Json(m::List { revision: 0, items }).into_response())
}

/// Creates an organization: its legacy groups and default policies, and its first user, the
/// default admin, who gets in with a personal token (shown once in the answer) or, with
/// `admin_access: email`, by an emailed link to set their password (sent through the outbox,
/// written with the organization in one transaction).
#[utoipa::path(post, path = "/v1/platform/organizations", tag = "platform",
    request_body = m::OrganizationInput,
    responses((status = 201, body = m::CreatedOrganization), Problems))]
async fn create_organization(
    State(s): State<AppState>,
    caller: OperatorCaller,
    Json(body): Json<m::OrganizationInput>,
) -> Answer {
    if !body.admin.groups.is_empty() {
        return Err(DomainError::invalid(
            "admin.groups",
            "the first user joins `admin`; add other groups once the organization exists",
        )
        .into());
    }
    let access = match body.admin_access {
        m::AdminAccess::Token => FirstAdminAccess::Token(lifetime(body.admin.token_expires_in)),
        m::AdminAccess::Email => FirstAdminAccess::Email,
    };
    let first = FirstUser {
        email: body.admin.email,
        first_name: body.admin.first_name,
        last_name: body.admin.last_name,
    };
    let (compiled, first_token) = s
        .create_organization_by(&caller.actor(), &body.name, first, access)
        .await?;
    let state = compiled.state();
    let Some(admin) = state
        .users
        .get(&state.org.default_admin)
        .map(|u| user(&compiled.snapshot, u, now()))
    else {
        return Ok(StatusCode::INTERNAL_SERVER_ERROR.into_response());
    };
    let token = match first_token {
        Some((secret, id)) => {
            let Some(created) = state.tokens.get(&id) else {
                return Ok(StatusCode::INTERNAL_SERVER_ERROR.into_response());
            };
            Some(created_token(state, created, secret, compiled.revision()))
        }
        None => None,
    };
    let welcome_email_sent_to = token.is_none().then(|| admin.email.clone());
    Ok(respond::secret(
        StatusCode::CREATED,
        m::CreatedOrganization {
            organization: organization(state),
            admin,
            token,
            welcome_email_sent_to,
        },
        Some(compiled.revision()),
    ))
}

/// Makes another active user the organization's default admin (adding them to `admin` if
/// they are not in it). Only operators change the default admin (spec section 7.3).
#[utoipa::path(put, path = "/v1/platform/organizations/{org}/default-admin", tag = "platform",
    request_body = m::DefaultAdminInput,
    params(("org" = String, Path, description = "Organization id")),
    responses((status = 200, body = m::Written<m::Organization>), Problems))]
async fn set_default_admin(
    State(s): State<AppState>,
    caller: OperatorCaller,
    Path(org): Path<String>,
    Json(body): Json<m::DefaultAdminInput>,
) -> Answer {
    let (org, _) = org_of(&s, &org).await?;
    let command = warden_core::command::OrganizationCommand::SetDefaultAdmin {
        user: Key(body.user),
    };
    let done = s.execute(&org, &caller.actor(), command.into()).await?;
    let item = organization(done.compiled.state());
    Ok(written(StatusCode::OK, &done.compiled, Some(item)))
}

/// Adds an active user directly, in groups, with a first personal token (shown once). Users
/// otherwise join through invitations.
#[utoipa::path(post, path = "/v1/platform/organizations/{org}/users", tag = "platform",
    request_body = m::PlatformUserInput,
    params(("org" = String, Path, description = "Organization id")),
    responses((status = 201, body = m::AddedUser), Problems))]
async fn add_user(
    State(s): State<AppState>,
    caller: OperatorCaller,
    Path(org): Path<String>,
    Json(body): Json<m::PlatformUserInput>,
) -> Answer {
    let (org, _) = org_of(&s, &org).await?;
    let first = FirstUser {
        email: body.email,
        first_name: body.first_name,
        last_name: body.last_name,
    };
    let added = s
        .add_user(
            &org,
            &caller.actor(),
            first,
            &body.groups,
            lifetime(body.token_expires_in),
        )
        .await?;
    let compiled = &added.written.compiled;
    let state = compiled.state();
    let created = state
        .users
        .get(&added.user)
        .map(|u| user(&compiled.snapshot, u, now()));
    let (Some(created), Some(new_token)) = (created, state.tokens.get(&added.token)) else {
        return Ok(StatusCode::INTERNAL_SERVER_ERROR.into_response());
    };
    Ok(respond::secret(
        StatusCode::CREATED,
        m::AddedUser {
            revision: compiled.revision(),
            user: created,
            token: created_token(state, new_token, added.secret, compiled.revision()),
        },
        Some(compiled.revision()),
    ))
}

/// Removes a user from the organization completely: their personal tokens, memberships,
/// namespace keys and the rules naming them go with them. Tokens they created for others
/// keep working (the seeds' rule) and are listed so they can be reviewed. The default admin
/// cannot be removed until another user takes that role.
#[utoipa::path(delete, path = "/v1/platform/organizations/{org}/users/{user}", tag = "platform",
    params(("org" = String, Path, description = "Organization id"), ("user" = String, Path, description = "User id or email")),
    responses((status = 200, body = m::RemovedUser), Problems))]
async fn remove_user(
    State(s): State<AppState>,
    caller: OperatorCaller,
    Path((org, key)): Path<(String, String)>,
) -> Answer {
    let (org, _) = org_of(&s, &org).await?;
    let removed = s.remove_user(&org, &caller.actor(), &key).await?;
    let before = removed.before.state();
    let gone = before
        .users
        .get(&removed.user)
        .map(|u| user(&removed.before.snapshot, u, now()));
    let Some(gone) = gone else {
        return Ok(StatusCode::INTERNAL_SERVER_ERROR.into_response());
    };
    let after = removed.written.compiled.state();
    let tokens_created_for_others = removed
        .tokens_created_for_others
        .iter()
        .filter_map(|id: &TokenId| after.tokens.get(id))
        .map(|t| token(after, t, None))
        .collect();
    let revision = removed.written.compiled.revision();
    Ok(with_revision(
        axum::Json(m::RemovedUser {
            revision,
            user: gone,
            tokens_deleted: removed.tokens_deleted,
            tokens_created_for_others,
        })
        .into_response(),
        revision,
    ))
}

/// Adds and removes namespace keys of one user, the reserved `w:pods` and `w:full` included
/// (only operators grant and remove those, spec section 5). Answers the user's keys there.
#[utoipa::path(post, path = "/v1/platform/organizations/{org}/namespace-keys", tag = "platform",
    request_body = m::NamespaceKeysInput,
    params(("org" = String, Path, description = "Organization id")),
    responses((status = 200, body = m::Written<m::NamespaceAccess>), Problems))]
async fn namespace_keys(
    State(s): State<AppState>,
    caller: OperatorCaller,
    Path(org): Path<String>,
    Json(body): Json<m::NamespaceKeysInput>,
) -> Answer {
    let (org, _) = org_of(&s, &org).await?;
    let command = NamespaceCommand::ChangeKeys {
        namespace: Key(body.namespace),
        user: Key(body.user.clone()),
        add: body.add,
        remove: body.remove,
    };
    let done = s.execute(&org, &caller.actor(), command.into()).await?;
    let state = done.compiled.state();
    let holder = resolve::user(state, &body.user).map(|u| u.id.clone())?;
    let access = state
        .namespaces
        .get(done.target())
        .map(|ns| namespace(state, ns))
        .and_then(|ns| ns.access.into_iter().find(|a| holder == a.user_id.as_str()))
        .unwrap_or_else(|| m::NamespaceAccess {
            user_id: holder.to_string(),
            email: body.user,
            permissions: Vec::new(),
        });
    Ok(written(StatusCode::OK, &done.compiled, Some(access)))
}

/// Invites an address into the organization as an operator (the invitation may give the
/// reserved keys); the answer holds the link.
#[utoipa::path(post, path = "/v1/platform/organizations/{org}/invitations", tag = "platform",
    request_body = m::InvitationInput,
    params(("org" = String, Path, description = "Organization id")),
    responses((status = 201, body = m::SentInvitation), Problems))]
async fn invite(
    State(s): State<AppState>,
    caller: OperatorCaller,
    Path(org): Path<String>,
    Json(body): Json<m::InvitationInput>,
) -> Answer {
    let (org, _) = org_of(&s, &org).await?;
    let (done, link) = s
        .invite(
            &org,
            &caller.actor(),
            None,
            body.email.clone(),
            offer(&body),
        )
        .await?;
    Ok(sent(&done.compiled, done.target(), link))
}
