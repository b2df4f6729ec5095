//! `/v1/service-accounts`: an organization's non-human principals, listed and shown to IAM
//! viewers; and `/v1/platform/organizations/{org}/service-accounts`, where an operator
//! creates, changes and deletes them. Managing a service account is privileged (spec sections
//! 1 and 10): no catalog role holds `iam.service_accounts.create`, `update` or `delete`, so in
//! an organization those calls are refused with 403 naming the action until a privileged
//! grant (an access request) gives it.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use warden_client::model as m;
use warden_core::command::{Key, ServiceAccountCommand};
use warden_core::{
    resolve, Command, OrgState, PrincipalId, PrincipalRef, ServiceAccount, ServiceAccountId,
};

use super::platform::org_of;
use super::tokens::token;
use super::Answer;
use crate::http::error::{ApiError, Problems};
use crate::http::extract::{Json, Path};
use crate::http::respond::{list, read, written};
use crate::http::AppState;
use crate::service::{Caller, CompiledOrg, OperatorCaller, Service, Written};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_service_accounts, create_service_account))
        .routes(routes!(
            get_service_account,
            update_service_account,
            delete_service_account
        ))
        .routes(routes!(platform_list, platform_create))
        .routes(routes!(platform_get, platform_update, platform_delete))
}

fn owner(account: &ServiceAccount) -> PrincipalId {
    PrincipalId::ServiceAccount(account.id.clone())
}

fn service_account(state: &OrgState, account: &ServiceAccount) -> m::ServiceAccount {
    let owner = owner(account);
    m::ServiceAccount {
        id: account.id.to_string(),
        name: account.name.clone(),
        active: account.active,
        system_managed: account.system_managed,
        created_by: account.created_by.as_ref().map(|u| u.to_string()),
        created_by_email: account
            .created_by
            .as_ref()
            .and_then(|u| state.users.get(u))
            .map(|u| u.email.to_string()),
        created_at: account.created_at.0,
        token_count: state.tokens.values().filter(|t| t.owner == owner).count(),
    }
}

/// An account with its tokens (never a secret or a hash) and the rules naming it.
fn details(state: &OrgState, account: &ServiceAccount) -> m::ServiceAccountDetails {
    let owner = owner(account);
    let named = PrincipalRef::ServiceAccount(account.id.clone());
    let tokens = state
        .tokens
        .values()
        .filter(|t| t.owner == owner)
        .map(|t| {
            let t = token(state, t, None);
            m::ServiceAccountToken {
                id: t.id,
                kind: t.kind,
                name: t.name,
                created_at: t.created_at,
                expires_at: t.expires_at,
            }
        })
        .collect();
    let rules = state
        .policies
        .values()
        .flat_map(|p| p.rules.iter().map(move |r| (p, r)))
        .filter(|(_, r)| r.principal == named)
        .map(|(p, r)| m::ServiceAccountRule {
            policy_id: p.id.to_string(),
            policy_name: p.name.clone(),
            roles: r.roles.clone(),
            expires_at: r.expires_at.map(|t| t.0),
        })
        .collect();
    let listed = service_account(state, account);
    m::ServiceAccountDetails {
        id: listed.id,
        name: listed.name,
        active: listed.active,
        system_managed: listed.system_managed,
        created_by: listed.created_by,
        created_by_email: listed.created_by_email,
        created_at: listed.created_at,
        token_count: listed.token_count,
        tokens,
        rules,
    }
}

fn listing(compiled: &CompiledOrg) -> Response {
    let state = compiled.state();
    let items = state
        .service_accounts
        .values()
        .map(|a| service_account(state, a))
        .collect();
    list(compiled, items)
}

/// A write's answer: the account it addressed.
fn written_account(status: StatusCode, done: &Written) -> Response {
    let state = done.compiled.state();
    let item = state
        .service_accounts
        .get(&ServiceAccountId::from(done.target().to_string()))
        .map(|a| service_account(state, a));
    written(status, &done.compiled, item)
}

/// A deletion's answer, as every area gives it: the revision it made, and no item.
fn deleted(done: &Written) -> Response {
    written::<m::ServiceAccount>(StatusCode::OK, &done.compiled, None)
}

fn create(body: m::ServiceAccountInput) -> Command {
    ServiceAccountCommand::Create { name: body.name }.into()
}

fn update(key: String, body: m::ServiceAccountUpdate) -> Command {
    ServiceAccountCommand::Update {
        account: Key(key),
        name: body.name,
        active: body.active,
    }
    .into()
}

fn delete(key: String) -> Command {
    ServiceAccountCommand::Delete { account: Key(key) }.into()
}

/// Runs an operator's command in the organization a path names.
async fn as_operator(
    s: &Arc<Service>,
    caller: &OperatorCaller,
    org: &str,
    command: Command,
) -> Result<Written, ApiError> {
    let (org, _) = org_of(s, org).await?;
    Ok(s.execute(&org, &caller.actor(), command).await?)
}

/// Every service account, with how many tokens each owns.
///
/// Needs `iam.service_accounts.list`.
#[utoipa::path(get, path = "/v1/service-accounts", tag = "service-accounts",
    responses((status = 200, body = m::List<m::ServiceAccount>), Problems))]
async fn list_service_accounts(State(s): State<AppState>, caller: Caller) -> Answer {
    s.require(&caller, "iam.service_accounts.list").await?;
    Ok(listing(&caller.compiled))
}

/// Creates a service account. Privileged: no role holds the action, so this answers 403
/// until a privileged grant gives it; operators create accounts through
/// `POST /v1/platform/organizations/{org}/service-accounts`.
///
/// Needs `iam.service_accounts.create`.
#[utoipa::path(post, path = "/v1/service-accounts", tag = "service-accounts",
    request_body = m::ServiceAccountInput,
    responses((status = 201, body = m::Written<m::ServiceAccount>), Problems))]
async fn create_service_account(
    State(s): State<AppState>,
    caller: Caller,
    Json(body): Json<m::ServiceAccountInput>,
) -> Answer {
    let done = s.execute_for(&caller, create(body)).await?;
    Ok(written_account(StatusCode::CREATED, &done))
}

/// One service account, by id or name, with its tokens (never their secrets) and the rules
/// naming it.
///
/// Needs `iam.service_accounts.get`.
#[utoipa::path(get, path = "/v1/service-accounts/{account}", tag = "service-accounts",
    params(("account" = String, Path, description = "Service account id or name")),
    responses((status = 200, body = m::ServiceAccountDetails), Problems))]
async fn get_service_account(
    State(s): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Answer {
    s.require(&caller, "iam.service_accounts.get").await?;
    let state = caller.compiled.state();
    let found = resolve::service_account(state, &key)?;
    Ok(read(&caller.compiled, details(state, found)))
}

/// Renames a service account and/or (de)activates it: an inactive account's tokens are
/// refused at once. Privileged, like creating one; the platform's own accounts
/// (`system_managed`) are refused with 409.
///
/// Needs `iam.service_accounts.update`.
#[utoipa::path(patch, path = "/v1/service-accounts/{account}", tag = "service-accounts",
    request_body = m::ServiceAccountUpdate,
    params(("account" = String, Path, description = "Service account id or name")),
    responses((status = 200, body = m::Written<m::ServiceAccount>), Problems))]
async fn update_service_account(
    State(s): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Json(body): Json<m::ServiceAccountUpdate>,
) -> Answer {
    let done = s.execute_for(&caller, update(key, body)).await?;
    Ok(written_account(StatusCode::OK, &done))
}

/// Deletes a service account with its tokens and the rules naming it. Privileged, like
/// creating one; the platform's own accounts (`system_managed`) are refused with 409.
///
/// Needs `iam.service_accounts.delete`.
#[utoipa::path(delete, path = "/v1/service-accounts/{account}", tag = "service-accounts",
    params(("account" = String, Path, description = "Service account id or name")),
    responses((status = 200, body = m::Written<m::ServiceAccount>), Problems))]
async fn delete_service_account(
    State(s): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> Answer {
    let done = s.execute_for(&caller, delete(key)).await?;
    Ok(deleted(&done))
}

/// Every service account of an organization, for an operator.
#[utoipa::path(get, path = "/v1/platform/organizations/{org}/service-accounts", tag = "platform",
    params(("org" = String, Path, description = "Organization id")),
    responses((status = 200, body = m::List<m::ServiceAccount>), Problems))]
async fn platform_list(
    State(s): State<AppState>,
    _operator: OperatorCaller,
    Path(org): Path<String>,
) -> Answer {
    let (_, compiled) = org_of(&s, &org).await?;
    Ok(listing(&compiled))
}

/// Creates a service account in an organization, as an operator.
#[utoipa::path(post, path = "/v1/platform/organizations/{org}/service-accounts", tag = "platform",
    request_body = m::ServiceAccountInput,
    params(("org" = String, Path, description = "Organization id")),
    responses((status = 201, body = m::Written<m::ServiceAccount>), Problems))]
async fn platform_create(
    State(s): State<AppState>,
    caller: OperatorCaller,
    Path(org): Path<String>,
    Json(body): Json<m::ServiceAccountInput>,
) -> Answer {
    let done = as_operator(&s, &caller, &org, create(body)).await?;
    Ok(written_account(StatusCode::CREATED, &done))
}

/// One service account of an organization, by id or name, for an operator.
#[utoipa::path(get, path = "/v1/platform/organizations/{org}/service-accounts/{account}",
    tag = "platform",
    params(("org" = String, Path, description = "Organization id"),
        ("account" = String, Path, description = "Service account id or name")),
    responses((status = 200, body = m::ServiceAccountDetails), Problems))]
async fn platform_get(
    State(s): State<AppState>,
    _operator: OperatorCaller,
    Path((org, key)): Path<(String, String)>,
) -> Answer {
    let (_, compiled) = org_of(&s, &org).await?;
    let state = compiled.state();
    let found = resolve::service_account(state, &key)?;
    Ok(read(&compiled, details(state, found)))
}

/// Renames and/or (de)activates a service account of an organization, as an operator.
#[utoipa::path(patch, path = "/v1/platform/organizations/{org}/service-accounts/{account}",
    tag = "platform", request_body = m::ServiceAccountUpdate,
    params(("org" = String, Path, description = "Organization id"),
        ("account" = String, Path, description = "Service account id or name")),
    responses((status = 200, body = m::Written<m::ServiceAccount>), Problems))]
async fn platform_update(
    State(s): State<AppState>,
    caller: OperatorCaller,
    Path((org, key)): Path<(String, String)>,
    Json(body): Json<m::ServiceAccountUpdate>,
) -> Answer {
    let done = as_operator(&s, &caller, &org, update(key, body)).await?;
    Ok(written_account(StatusCode::OK, &done))
}

/// Deletes a service account of an organization with its tokens and the rules naming it, as
/// an operator.
#[utoipa::path(delete, path = "/v1/platform/organizations/{org}/service-accounts/{account}",
    tag = "platform",
    params(("org" = String, Path, description = "Organization id"),
        ("account" = String, Path, description = "Service account id or name")),
    responses((status = 200, body = m::Written<m::ServiceAccount>), Problems))]
async fn platform_delete(
    State(s): State<AppState>,
    caller: OperatorCaller,
    Path((org, key)): Path<(String, String)>,
) -> Answer {
    let done = as_operator(&s, &caller, &org, delete(key)).await?;
    Ok(deleted(&done))
}
