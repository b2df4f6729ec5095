//! `/v1/audit-events`: the audit log, newest first, filtered and paged; and
//! `/v1/audit-events/verify`, which recomputes its hash chain.

use axum::extract::State;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use warden_client::model as m;
use warden_core::audit_chain::Broken;
use warden_core::{Outcome, Timestamp};
use warden_store::{AuditFilter, ChainedEvent};

use super::Answer;
use crate::http::error::{ApiError, Problems};
use crate::http::extract::Query;
use crate::http::respond::read;
use crate::http::AppState;
use crate::service::{Caller, ServiceError};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_audit))
        .routes(routes!(verify_audit))
}

/// Most characters of a text filter (a refused call's target is at most 128 characters).
const MAX_FILTER: usize = 256;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    /// At most this many events (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// Only events of this actor, exactly: `user:<id>`, `service_account:<id>` or `system`.
    #[param(max_length = 256, pattern = "^[^\\u0000]*$")]
    actor: Option<String>,
    /// Only events whose target is exactly this (an entity's id; for a refused call, what
    /// the caller named).
    #[param(max_length = 256, pattern = "^[^\\u0000]*$")]
    target: Option<String>,
    /// Only events of this catalog action, exactly.
    #[param(max_length = 256, pattern = "^[^\\u0000]*$")]
    action: Option<String>,
    /// Only changes (`allowed`) or only refused calls (`denied`).
    #[param(inline)]
    outcome: Option<m::Outcome>,
    /// Only events at or after this instant (RFC 3339, e.g. `2026-12-01T02:04:15Z`).
    #[param(format = DateTime)]
    since: Option<String>,
    /// Only events before this instant (RFC 3339).
    #[param(format = DateTime)]
    until: Option<String>,
    /// Where to resume: the previous page's `next_cursor`.
    #[param(pattern = "^[0-9]{1,19}$")]
    cursor: Option<String>,
}

fn event(e: ChainedEvent) -> m::AuditEvent {
    let ChainedEvent {
        event: e,
        seq,
        hash,
    } = e;
    // A refused call records no changes; rows written before changes were always a list
    // hold `null` there.
    let changes = serde_json::from_value(e.changes).unwrap_or_default();
    m::AuditEvent {
        id: e.id,
        seq,
        hash,
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

/// A text filter: at most [`MAX_FILTER`] characters, no NUL (which no stored value holds,
/// and PostgreSQL refuses).
fn text_filter(name: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    match value {
        Some(v) if v.chars().count() > MAX_FILTER || v.contains('\0') => Err(ApiError::parameter(
            name,
            "must be at most 256 characters, without NUL",
        )),
        other => Ok(other),
    }
}

fn instant(name: &str, value: Option<String>) -> Result<Option<Timestamp>, ApiError> {
    value
        .map(|v| {
            Timestamp::parse_rfc3339(&v).ok_or_else(|| {
                ApiError::parameter(
                    name,
                    "must be an RFC 3339 date and time, such as 2026-12-01T02:04:15Z",
                )
            })
        })
        .transpose()
}

/// The organization's audit log: every change and every refused management call, newest
/// first (in the order recorded), narrowed by the filters given (each an exact match, but
/// for the time range: `since` inclusive, `until` exclusive), a page at a time: pass a
/// page's `next_cursor` as `cursor` for the next one.
///
/// Needs `iam.audit_events.list`.
#[utoipa::path(get, path = "/v1/audit-events", tag = "audit", params(AuditQuery),
    responses((status = 200, body = m::AuditEvents), Problems))]
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
    let cursor = match query.cursor {
        None => None,
        // Any 1 to 19 digits fit a u64.
        Some(c) => Some(
            c.parse::<u64>()
                .ok()
                .filter(|_| c.len() <= 19)
                .ok_or_else(|| {
                    ApiError::parameter("cursor", "must be a page's `next_cursor`: 1 to 19 digits")
                })?,
        ),
    };
    let filter = AuditFilter {
        actor: text_filter("actor", query.actor)?,
        target: text_filter("target", query.target)?,
        action: text_filter("action", query.action)?,
        outcome: query.outcome.map(|o| match o {
            m::Outcome::Allowed => Outcome::Allowed,
            m::Outcome::Denied => Outcome::Denied,
        }),
        since: instant("since", query.since)?,
        until: instant("until", query.until)?,
    };
    let page = s
        .store()
        .list_audit(&caller.org, &filter, limit, cursor)
        .await
        .map_err(ServiceError::from)?;
    Ok(read(
        &caller.compiled,
        m::AuditEvents {
            revision: caller.compiled.revision(),
            items: page.events.into_iter().map(event).collect(),
            next_cursor: page.next_cursor.map(|c| c.to_string()),
        },
    ))
}

/// Recomputes the organization's audit chain from its first event to its head: `ok` with
/// the number of events and the head's hash, or the first broken link (an event altered or
/// missing, or a chain that stops short of its head). Both are answered with 200: a broken
/// chain is a finding about the log, not an error of the call.
///
/// Needs `iam.audit_events.list`.
#[utoipa::path(get, path = "/v1/audit-events/verify", tag = "audit",
    responses((status = 200, body = m::AuditVerification), Problems))]
async fn verify_audit(State(s): State<AppState>, caller: Caller) -> Answer {
    s.require(&caller, "iam.audit_events.list").await?;
    let verdict = s
        .store()
        .verify_audit(&caller.org)
        .await
        .map_err(ServiceError::from)?;
    let answer = match verdict {
        Ok(chain) => m::AuditVerification {
            ok: true,
            events: Some(chain.events),
            head: Some(chain.head),
            events_checked: None,
            broken: None,
        },
        Err(broken) => {
            tracing::warn!(org = %caller.org, event = ?broken.event_id, seq = broken.seq,
                reason = broken.reason.as_str(), "the audit chain is broken");
            m::AuditVerification {
                ok: false,
                events: None,
                head: None,
                events_checked: Some(broken.events_checked),
                broken: Some(m::BrokenLink {
                    event_id: broken.event_id,
                    seq: broken.seq,
                    reason: match broken.reason {
                        Broken::Altered => m::BrokenReason::Altered,
                        Broken::Missing => m::BrokenReason::Missing,
                        Broken::HeadMismatch => m::BrokenReason::HeadMismatch,
                    },
                    detail: broken.detail,
                }),
            }
        }
    };
    Ok(read(&caller.compiled, answer))
}
