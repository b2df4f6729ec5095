//! `/v1/policies`: access policies; and `/v1/platform/organizations/{org}/policies`, where an
//! operator changes the roles of a default policy no admin may (the `admin` policy, whose
//! group holds every admin).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use warden_client::model as m;
use warden_core::command::{Key, PolicyCommand, PrincipalInput, PrincipalKind, RuleInput};
use warden_core::{resolve, AccessPolicy, Catalog, Command, OrgState, PolicyId, Timestamp};

use super::platform::org_of;
use super::{principal, Answer};
use crate::http::error::Problems;
use crate::http::extract::{Json, Path};
use crate::http::respond::{list, read, written};
use crate::http::AppState;
use crate::service::{Caller, OperatorCaller, Service, Written};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_policies, create_policy))
        .routes(routes!(get_policy, replace_policy, delete_policy))
        .routes(routes!(reset_policy))
        .routes(routes!(platform_get_policy, platform_replace_policy))
        .routes(routes!(platform_reset_policy))
}

fn policy(catalog: &Catalog, state: &OrgState, policy: &AccessPolicy) -> m::Policy {
    let catalog_difference =
        warden_core::command::catalog_difference(catalog, state, policy).map(|d| {
            m::CatalogDifference {
                catalog_roles: d.catalog_roles,
                roles_added: d.roles_added,
                roles_removed: d.roles_removed,
            }
        });
    m::Policy {
        catalog_difference,
        id: policy.id.to_string(),
        name: policy.name.clone(),
        description: policy.description.clone(),
        default_for_group: policy.legacy_group.clone(),
        rules: policy
            .rules
            .iter()
            .map(|r| m::Rule {
                principal: principal(state, &r.principal),
                roles: r.roles.clone(),
                expires_at: r.expires_at.map(|t| t.0),
            })
            .collect(),
        created_at: policy.created_at.0,
        updated_at: policy.updated_at.0,
    }
}

fn rule_inputs(rules: Vec<m::RuleInput>) -> Vec<RuleInput> {
    rules
        .into_iter()
        .map(|r| RuleInput {
            principal: PrincipalInput {
                kind: match r.principal.kind {
                    m::PrincipalKind::User => PrincipalKind::User,
                    m::PrincipalKind::Group => PrincipalKind::Group,
                    m::PrincipalKind::ServiceAccount => PrincipalKind::ServiceAccount,
                },
                id: r.principal.id,
            },
            roles: r.roles,
            expires_at: r.expires_at.map(Timestamp),
        })
        .collect()
}

/// `PUT` of a policy, by an admin or an operator alike.
fn replace_command(key: String, body: m::PolicyInput) -> PolicyCommand {
    PolicyCommand::Replace {
        policy: Key(key),
        name: body.name,
        description: body.description,
        rules: rule_inputs(body.rules),
    }
}

async fn policy_write(
    s: &Arc<Service>,
    caller: &Caller,
    status: StatusCode,
    command: Command,
) -> Answer {
    let done = s.execute_for(caller, command).await?;
    Ok(written_policy(s, status, &done))
}

fn written_policy(s: &Service, status: StatusCode, done: &Written) -> Response {
    let state = done.compiled.state();
    let item = state
        .policies
        .get(&PolicyId::from(done.target().to_string()))
        .map(|p| policy(s.catalog(), state, p));
    written(status, &done.compiled, item)
}

/// Every access policy, the five default policies included.
///
/// Needs `iam.policies.list`.
#[utoipa::path(get, path = "/v1/policies", tag = "policies",
    responses((status = 200, body = m::List<m::Policy>), Problems))]
async fn list_policies(State(s): State<AppState>, caller: Caller) -> Answer {
    s.require(&caller, "iam.policies.list").await?;
    let state = caller.compiled.state();
    let items = state
        .policies
        .values()
        .map(|p| policy(s.catalog(), state, p))
        .collect();
    Ok(list(&caller.compiled, items))
}

/// Creates an access policy.
///
/// Needs `iam.policies.create`.
#[utoipa::path(post, path = "/v1/policies", tag = "policies", request_body = m::PolicyInput,
    responses((status = 201, body = m::Written<m::Policy>), Problems))]
async fn create_policy(
    State(s): State<AppState>,
    caller: Caller,
    Json(body): Json<m::PolicyInput>,
) -> Answer {
    let command = PolicyCommand::Create {
        name: body.name,
        description: body.description,
        rules: rule_inputs(body.rules),
    };
    policy_write(&s, &caller, StatusCode::CREATED, command.into()).await
}

/// One policy, by id or name.
///
/// Needs `iam.policies.get`.
#[utoipa::path(get, path = "/v1/policies/{policy}", tag = "policies",
    params(("policy" = String, Path, description = "Policy id or name")),
    responses((status = 200, body = m::Policy), Problems))]
async fn get_policy(State(s): State<AppState>, caller: Caller, Path(key): Path<String>) -> Answer {
    s.require(&caller, "iam.policies.get").await?;
    let state = caller.compiled.state();
    let found = resolve::policy(state, &key)?;
    Ok(read(&caller.compiled, policy(s.catalog(), state, found)))
}

/// Replaces a policy's name, description and rules (a default policy keeps its name and a
/// rule for its group that does not end; its roles may change).
///
/// Needs `iam.policies.update`.
#[utoipa::path(put, path = "/v1/policies/{policy}", tag = "policies", request_body = m::PolicyInput,
    params(("policy" = String, Path, description = "Policy id or name")),
    responses((status = 200, body = m::Written<m::Policy>), Problems))]
async fn replace_policy(
    State(s): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Json(body): Json<m::PolicyInput>,
) -> Answer {
    let command = replace_command(key, body);
    policy_write(&s, &caller, StatusCode::OK, command.into()).await
}

/// Deletes a policy (default policies cannot be deleted).
///
/// Needs `iam.policies.delete`.
#[utoipa::path(delete, path = "/v1/policies/{policy}", tag = "policies",
    params(("policy" = String, Path, description = "Policy id or name")),
    responses((status = 200, body = m::Written<m::Policy>), Problems))]
async fn delete_policy(
    State(s): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Answer {
    let command = PolicyCommand::Delete { policy: Key(key) };
    let done = s.execute_for(&caller, command.into()).await?;
    Ok(written::<m::Policy>(StatusCode::OK, &done.compiled, None))
}

/// Gives every rule of a default policy the catalog's roles for its group again (principals
/// and ends are kept). `not_a_default_policy` for other policies. Resetting the `admin`
/// policy changes the roles of the admins' own group: only an operator can
/// (`POST /v1/platform/organizations/{org}/policies/admin/reset`).
///
/// Needs `iam.policies.update`.
#[utoipa::path(post, path = "/v1/policies/{policy}/reset", tag = "policies",
    params(("policy" = String, Path, description = "Policy id or name")),
    responses((status = 200, body = m::Written<m::Policy>), Problems))]
async fn reset_policy(
    State(s): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Answer {
    let command = PolicyCommand::Reset { policy: Key(key) };
    policy_write(&s, &caller, StatusCode::OK, command.into()).await
}

/// One policy of an organization, by id or name, for an operator.
#[utoipa::path(get, path = "/v1/platform/organizations/{org}/policies/{policy}", tag = "platform",
    params(("org" = String, Path, description = "Organization id"),
        ("policy" = String, Path, description = "Policy id or name")),
    responses((status = 200, body = m::Policy), Problems))]
async fn platform_get_policy(
    State(s): State<AppState>,
    _operator: OperatorCaller,
    Path((org, key)): Path<(String, String)>,
) -> Answer {
    let (_, compiled) = org_of(&s, &org).await?;
    let state = compiled.state();
    let found = resolve::policy(state, &key)?;
    Ok(read(&compiled, policy(s.catalog(), state, found)))
}

/// Replaces a policy of an organization as an operator: the same rules as
/// `PUT /v1/policies/{policy}`, but an operator belongs to no group, so the roles of the
/// default `admin` policy can change.
#[utoipa::path(put, path = "/v1/platform/organizations/{org}/policies/{policy}", tag = "platform",
    request_body = m::PolicyInput,
    params(("org" = String, Path, description = "Organization id"),
        ("policy" = String, Path, description = "Policy id or name")),
    responses((status = 200, body = m::Written<m::Policy>), Problems))]
async fn platform_replace_policy(
    State(s): State<AppState>,
    caller: OperatorCaller,
    Path((org, key)): Path<(String, String)>,
    Json(body): Json<m::PolicyInput>,
) -> Answer {
    let (org, _) = org_of(&s, &org).await?;
    let command = replace_command(key, body);
    let done = s.execute(&org, &caller.actor(), command.into()).await?;
    Ok(written_policy(&s, StatusCode::OK, &done))
}

/// Resets a default policy of an organization to the catalog's roles, as an operator.
#[utoipa::path(post, path = "/v1/platform/organizations/{org}/policies/{policy}/reset",
    tag = "platform",
    params(("org" = String, Path, description = "Organization id"),
        ("policy" = String, Path, description = "Policy id or name")),
    responses((status = 200, body = m::Written<m::Policy>), Problems))]
async fn platform_reset_policy(
    State(s): State<AppState>,
    caller: OperatorCaller,
    Path((org, key)): Path<(String, String)>,
) -> Answer {
    let (org, _) = org_of(&s, &org).await?;
    let command = PolicyCommand::Reset { policy: Key(key) };
    let done = s.execute(&org, &caller.actor(), command.into()).await?;
    Ok(written_policy(&s, StatusCode::OK, &done))
}
