//! `/v1/policies`: access policies.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use warden_client::model as m;
use warden_core::command::{Key, PolicyCommand, PrincipalInput, PrincipalKind, RuleInput};
use warden_core::{resolve, AccessPolicy, Command, OrgState, PolicyId, Timestamp};

use super::{principal, Answer};
use crate::http::error::Problems;
use crate::http::extract::{Json, Path};
use crate::http::respond::{list, read, written};
use crate::http::AppState;
use crate::service::{Caller, Service};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_policies, create_policy))
        .routes(routes!(get_policy, replace_policy, delete_policy))
}

fn policy(state: &OrgState, policy: &AccessPolicy) -> m::Policy {
    m::Policy {
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

async fn policy_write(
    s: &Arc<Service>,
    caller: &Caller,
    status: StatusCode,
    command: Command,
) -> Answer {
    let done = s.execute_for(caller, command).await?;
    let state = done.compiled.state();
    let item = state
        .policies
        .get(&PolicyId::from(done.target().to_string()))
        .map(|p| policy(state, p));
    Ok(written(status, &done.compiled, item))
}

/// Every access policy, the five default policies included.
///
/// Needs `iam.policies.list`.
#[utoipa::path(get, path = "/v1/policies", tag = "policies",
    responses((status = 200, body = m::List<m::Policy>), Problems))]
async fn list_policies(State(s): State<AppState>, caller: Caller) -> Answer {
    s.require(&caller, "iam.policies.list").await?;
    let state = caller.compiled.state();
    let items = state.policies.values().map(|p| policy(state, p)).collect();
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
    Ok(read(&caller.compiled, policy(state, found)))
}

/// Replaces a policy's name, description and rules (a default policy keeps its name, its roles
/// and its group).
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
    let command = PolicyCommand::Replace {
        policy: Key(key),
        name: body.name,
        description: body.description,
        rules: rule_inputs(body.rules),
    };
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
