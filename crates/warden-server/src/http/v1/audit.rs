//! `/v1/audit-events`: the audit log, newest first.

use axum::extract::State;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use warden_client::model as m;
use warden_core::{AuditEvent, Outcome, Timestamp};

use super::Answer;
use crate::http::error::{ApiError, Problems};
use crate::http::extract::Query;
use crate::http::respond::list;
use crate::http::AppState;
use crate::service::Caller;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    /// At most this many events (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// Only events listed after this time (ms since the epoch): the previous page's last
    /// `at`. With `before_id` (that event's `id`), paging resumes exactly after it.
    before: Option<i64>,
    /// The previous page's last `id`, with `before`.
    #[param(max_length = 64, pattern = "^[A-Za-z0-9_-]*$")]
    before_id: Option<String>,
}

fn event(e: AuditEvent) -> m::AuditEvent {
    // A refused call records no changes; rows written before changes were always a list
    // hold `null` there.
    let changes = serde_json::from_value(e.changes).unwrap_or_default();
    m::AuditEvent {
        id: e.id,
        at: e.at.0,
        actor: e.actor,
        action: e.action,
        target: e.target,
        outcome: match e.outcome {
            Outcome::Allowed => m::Outcome::Allowed,
            Outcome::Denied => m::Outcome::Denied,
        },
        error_code: e.error_code,
        revision: e.revision,
        request_id: e.request_id,
        changes,
    }
}

/// The organization's audit log: every change and every refused management call, newest first.
///
/// Needs `iam.audit_events.list`.
#[utoipa::path(get, path = "/v1/audit-events", tag = "audit", params(AuditQuery),
    responses((status = 200, body = m::List<m::AuditEvent>), Problems))]
async fn list_audit(
    State(s): State<AppState>,
    caller: Caller,
    Query(query): Query<AuditQuery>,
) -> Answer {
    s.require(&caller, "iam.audit_events.list").await?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::parameter("limit", "must be between 1 and 1000"));
    }
    // Event ids are `evt_` + base32; anything else cannot name an event, and refusing it here
    // keeps bytes PostgreSQL will not take (NUL) away from the store.
    if query.before_id.as_ref().is_some_and(|id| {
        id.len() > 64
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    }) {
        return Err(ApiError::parameter(
            "before_id",
            "must be an event id: at most 64 letters, digits, `_` or `-`",
        ));
    }
    let events = s
        .store()
        .list_audit(
            &caller.org,
            limit,
            query
                .before
                .map(|at| (Timestamp(at), query.before_id.as_deref().unwrap_or(""))),
        )
        .await
        .map_err(crate::service::ServiceError::from)?;
    Ok(list(
        &caller.compiled,
        events.into_iter().map(event).collect(),
    ))
}
