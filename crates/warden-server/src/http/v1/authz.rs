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
use warden_core::engine::Explanation;
use warden_core::{resolve, DenyReason, DomainError, PrincipalId, Timestamp};

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
            token_id: caller.token.as_ref().map(|t| t.to_string()),
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
    #[serde(skip_serializing_if = "Option::is_none")]
    roles_with_action: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    explanation: Option<String>,
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

/// The id the engine knows a question's principal by: `me` is the caller, a user may be
/// named by id or email, a service account by id. `None` when the organization has no such
/// principal.
fn subject<'q>(compiled: &CompiledOrg, caller: &'q Caller, named: &'q str) -> Option<Cow<'q, str>> {
    if named == "me" {
        return Some(Cow::Borrowed(caller.principal.as_str()));
    }
    // The hot path: an id, found in the snapshot's table without touching the state.
    if compiled.snapshot.principal(named).is_some() {
        return Some(Cow::Borrowed(named));
    }
    resolve::acting_principal(compiled.snapshot.state(), named)
        .map(|p| Cow::Owned(p.as_str().to_string()))
}

/// One question, answered for `principal` (an id the snapshot knows). `hide_namespaces`:
/// the caller may not list namespaces, so a namespace that does not exist is answered as
/// one where the principal holds no key.
fn answer(
    compiled: &CompiledOrg,
    principal: &str,
    question: &CheckQuestionIn<'_>,
    hide_namespaces: bool,
    now: Timestamp,
) -> Result<CheckResultOut, DomainError> {
    let snapshot = &compiled.snapshot;
    let action = question.action.as_ref();
    let unknown_namespace = |name: &str| {
        DomainError::unknown_namespace(
            name,
            snapshot
                .state()
                .namespaces
                .values()
                .map(|n| n.name.as_str()),
        )
    };
    let explained = |e: Explanation| CheckResultOut {
        allowed: e.decision.allowed,
        reason: e.decision.reason.map(reason),
        granted_by: Some(e.decision.granted_by.into_iter().map(grant).collect()),
        roles_with_action: Some(e.roles_with_action),
        explanation: Some(e.summary),
    };
    if let Some(namespace) = question.namespace.as_deref() {
        // The explanation (strings) only when asked for: a plain check allocates nothing.
        let mut e = if question.explain {
            snapshot.explain_namespace(principal, namespace, action, now)?
        } else {
            Explanation {
                decision: snapshot.decide_namespace(principal, namespace, action, now)?,
                roles_with_action: Vec::new(),
                summary: String::new(),
            }
        };
        if e.decision.reason == Some(DenyReason::UnknownNamespace) {
            if !hide_namespaces {
                return Err(unknown_namespace(namespace));
            }
            e.decision.reason = Some(DenyReason::NamespacePermissionMissing);
        }
        return Ok(if question.explain {
            CheckResultOut {
                roles_with_action: None,
                ..explained(e)
            }
        } else {
            CheckResultOut {
                allowed: e.decision.allowed,
                reason: e.decision.reason.map(reason),
                granted_by: None,
                roles_with_action: None,
                explanation: None,
            }
        });
    }
    if question.explain {
        return Ok(explained(snapshot.explain(principal, action, now)?));
    }
    let (allowed, denied) = snapshot.decide_quickly(principal, action, now)?;
    Ok(CheckResultOut {
        allowed,
        reason: denied.map(reason),
        granted_by: None,
        roles_with_action: None,
        explanation: None,
    })
}

/// Answers one or many authorization questions, optionally explained.
///
/// Asking about oneself (by id, email or `me`) needs no action; asking about others needs
/// `iam.permissions.list`. A principal, action, key or namespace that does not exist is a
/// 422 problem, not a denial, except that a caller who may not list namespaces is told
/// nothing about which exist (an unknown namespace is a denial for them).
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
            return Err(ApiError::described(
                &format!("checks[{i}].principal"),
                format!("question {}: a principal is 1 to 254 characters", i + 1),
            ));
        }
        if q.namespace
            .as_deref()
            .is_some_and(|n| n.is_empty() || n.chars().count() > 63)
        {
            return Err(ApiError::described(
                &format!("checks[{i}].namespace"),
                format!("question {}: a namespace is 1 to 63 characters", i + 1),
            ));
        }
    }
    let mut compiled = match request.at_least_revision {
        Some(revision) => s.wait_for_revision(&caller.org, revision).await?,
        None => caller.compiled.clone(),
    };
    // A principal this server does not know may have just been written by another process
    // (`warden org add-user` on the same SQLite file): one look at the store, shared with
    // every other miss, before calling it unknown.
    // Borrowed from the request (an id, `me`): only a principal named by email costs an
    // allocation.
    let named = |compiled: &CompiledOrg| -> Vec<Option<Cow<'_, str>>> {
        request
            .checks
            .iter()
            .map(|q| subject(compiled, &caller, &q.principal))
            .collect()
    };
    let mut subjects = named(&compiled);
    if subjects.iter().any(Option::is_none) {
        if let Some(fresh) = s.refresh_after_miss(&caller.org).await {
            compiled = fresh;
            subjects = named(&compiled);
        }
    }
    if subjects
        .iter()
        .any(|p| p.as_deref() != Some(caller.principal.as_str()))
    {
        s.require(&caller, "iam.permissions.list").await?;
    }
    let now = now();
    // Asked only when a question names a namespace: most checks do not.
    let hide_namespaces = request.checks.iter().any(|q| q.namespace.is_some())
        && !compiled
            .snapshot
            .check(caller.principal.as_str(), "iam.namespaces.list", now)
            .unwrap_or(false);
    let results = request
        .checks
        .iter()
        .zip(&subjects)
        .enumerate()
        .map(|(i, (q, principal))| {
            let at = |field: &str, error| ApiError::At {
                field: format!("checks[{i}].{field}"),
                error,
            };
            let Some(principal) = principal else {
                return Err(at(
                    "principal",
                    DomainError::unknown_principal("user or service account", &q.principal),
                ));
            };
            answer(&compiled, principal, q, hide_namespaces, now).map_err(|error| {
                let field = match &error {
                    DomainError::UnknownNamespace { .. } => "namespace",
                    _ => "action",
                };
                at(field, error)
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
