//! `/v1/authz` and `/v1/whoami`: decisions.
//!
//! The check endpoint is the hot path: its body is parsed borrowing from the request bytes
//! and its answer serialized from the wire's reason enum, so a single check allocates
//! little. The JSON is exactly that of `model::CheckRequest` / `model::CheckResponse`.

use std::borrow::Cow;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use warden_client::model as m;
use warden_core::{DenyReason, DomainError, PrincipalId, Timestamp};

use super::users::user;
use super::{grant, principal, Answer};
use crate::http::error::{ApiError, Problems};
use crate::http::extract::{parse_json, Query};
use crate::http::respond::read;
use crate::http::AppState;
use crate::service::{now, Caller, CompiledOrg, DecisionLabels};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(whoami))
        .routes(routes!(check))
        .routes(routes!(who_can))
}

/// The caller: principal, organization, token and every action it may perform.
///
/// Needs no action.
#[utoipa::path(get, path = "/v1/whoami", tag = "authz",
    responses((status = 200, body = m::Whoami), Problems))]
async fn whoami(caller: Caller) -> Answer {
    let snapshot = &caller.compiled.snapshot;
    let state = snapshot.state();
    let now = now();
    let actions = snapshot
        .actions_of(caller.principal.as_str(), now)
        .iter()
        .map(|id| snapshot.catalog().action_name(id).to_string())
        .collect();
    let user = caller
        .principal
        .user()
        .and_then(|id| state.users.get(id))
        .map(|u| user(snapshot, u, now));
    Ok(read(
        &caller.compiled,
        m::Whoami {
            organization_id: caller.org.to_string(),
            principal: principal(state, &caller.principal.as_ref()),
            user,
            token_id: caller.token.to_string(),
            actions,
            revision: caller.compiled.revision(),
        },
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckRequestIn<'a> {
    #[serde(borrow)]
    checks: Vec<CheckQuestionIn<'a>>,
    #[serde(default)]
    at_least_revision: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
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
    reason: Option<m::DenyReason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    granted_by: Option<Vec<m::GrantSource>>,
}

#[derive(Serialize)]
struct CheckResponseOut {
    revision: u64,
    results: Vec<CheckResultOut>,
}

/// The wire form of a deny reason: every reason of the engine is one of the document's.
fn reason(reason: DenyReason) -> m::DenyReason {
    match reason {
        DenyReason::NoMatchingRule => m::DenyReason::NoMatchingRule,
        DenyReason::UnknownPrincipal => m::DenyReason::UnknownPrincipal,
        DenyReason::PrincipalInactive => m::DenyReason::PrincipalInactive,
        DenyReason::UnknownNamespace => m::DenyReason::UnknownNamespace,
        DenyReason::NamespacePermissionMissing => m::DenyReason::NamespacePermissionMissing,
    }
}

fn answer(
    compiled: &CompiledOrg,
    question: &CheckQuestionIn<'_>,
    now: Timestamp,
) -> Result<CheckResultOut, DomainError> {
    let snapshot = &compiled.snapshot;
    let (principal, action) = (question.principal.as_ref(), question.action.as_ref());
    if let Some(namespace) = question.namespace.as_deref() {
        let decision = snapshot.decide_namespace(principal, namespace, action, now)?;
        return Ok(CheckResultOut {
            allowed: decision.allowed,
            reason: decision.reason.map(reason),
            granted_by: question.explain.then(Vec::new),
        });
    }
    if question.explain {
        let decision = snapshot.decide(principal, action, now)?;
        return Ok(CheckResultOut {
            allowed: decision.allowed,
            reason: decision.reason.map(reason),
            granted_by: Some(decision.granted_by.into_iter().map(grant).collect()),
        });
    }
    let (allowed, denied) = snapshot.decide_quickly(principal, action, now)?;
    Ok(CheckResultOut {
        allowed,
        reason: denied.map(reason),
        granted_by: None,
    })
}

/// Answers one or many authorization questions, optionally explained.
///
/// Asking about oneself needs no action; asking about others needs `iam.permissions.list`.
#[utoipa::path(post, path = "/v1/authz/check", tag = "authz", request_body = m::CheckRequest,
    responses((status = 200, body = m::CheckResponse), Problems))]
async fn check(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let request: CheckRequestIn<'_> = parse_json(&headers, &body)?;
    if request.checks.is_empty() || request.checks.len() > m::MAX_CHECKS {
        return Err(ApiError::parameter(
            "checks",
            format!("ask between 1 and {} questions", m::MAX_CHECKS),
        ));
    }
    for (i, q) in request.checks.iter().enumerate() {
        if q.principal.is_empty() || q.principal.chars().count() > 254 {
            return Err(ApiError::parameter(
                &format!("checks[{i}].principal"),
                "must be 1 to 254 characters",
            ));
        }
        if q.namespace
            .as_deref()
            .is_some_and(|n| n.is_empty() || n.chars().count() > 63)
        {
            return Err(ApiError::parameter(
                &format!("checks[{i}].namespace"),
                "must be 1 to 63 characters",
            ));
        }
    }
    if request
        .checks
        .iter()
        .any(|q| q.principal.as_ref() != caller.principal.as_str())
    {
        s.require(&caller, "iam.permissions.list").await?;
    }
    let compiled = match request.at_least_revision {
        Some(revision) => s.wait_for_revision(&caller.org, revision).await?,
        None => caller.compiled.clone(),
    };
    let now = now();
    let results = request
        .checks
        .iter()
        .enumerate()
        .map(|(i, q)| {
            answer(&compiled, q, now).map_err(|error| ApiError::At {
                field: format!("checks[{i}].action"),
                error,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let allowed = results.iter().filter(|r| r.allowed).count() as u64;
    let decisions = &s.metrics().check_decisions;
    decisions
        .get_or_create(&DecisionLabels { decision: "allow" })
        .inc_by(allowed);
    decisions
        .get_or_create(&DecisionLabels { decision: "deny" })
        .inc_by(results.len() as u64 - allowed);
    Ok(read(
        &compiled,
        CheckResponseOut {
            revision: compiled.revision(),
            results,
        },
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct WhoCanQuery {
    /// A catalog action or alias.
    #[param(min_length = 1, max_length = 128)]
    action: String,
}

/// The active users and service accounts that may perform an action.
///
/// Needs `iam.permissions.list`.
#[utoipa::path(get, path = "/v1/authz/principals", tag = "authz", params(WhoCanQuery),
    responses((status = 200, body = m::WhoCan), Problems))]
async fn who_can(
    State(s): State<AppState>,
    caller: Caller,
    Query(query): Query<WhoCanQuery>,
) -> Answer {
    s.require(&caller, "iam.permissions.list").await?;
    let principals = caller
        .compiled
        .snapshot
        .who_can(&query.action, now())?
        .iter()
        .map(|p: &PrincipalId| p.as_str().to_string())
        .collect();
    Ok(read(
        &caller.compiled,
        m::WhoCan {
            action: query.action,
            revision: caller.compiled.revision(),
            principals,
        },
    ))
}
