//! Audit events: one per committed command (with its changes), one per refused call.

use warden_core::command::Applied;
use warden_core::{Actor, AuditEvent, OrgId, Outcome, Timestamp};

use super::context::{current_request_id, new_id};
use super::{Service, ServiceError};

/// The audit event of one committed command.
pub(crate) fn of_change(
    org: &OrgId,
    actor: &Actor,
    at: Timestamp,
    revision: u64,
    applied: &Applied,
    request_id: &str,
) -> Result<AuditEvent, ServiceError> {
    Ok(AuditEvent {
        id: new_id("evt"),
        org_id: org.clone(),
        at,
        actor: actor.describe(),
        action: applied.action.to_string(),
        target: applied.target.clone(),
        outcome: Outcome::Allowed,
        error_code: None,
        revision,
        request_id: request_id.to_string(),
        changes: serde_json::to_value(&applied.changes)
            .map_err(|e| ServiceError::Internal(format!("audit changes: {e}")))?,
    })
}

/// The audit event of a refused call. The target is as the caller named it, with anything
/// shaped like a secret redacted.
pub(crate) fn refusal(
    org: &OrgId,
    actor: &Actor,
    action: &str,
    target: &str,
    code: &str,
    request_id: &str,
) -> AuditEvent {
    AuditEvent {
        id: new_id("evt"),
        org_id: org.clone(),
        at: super::context::now(),
        actor: actor.describe(),
        action: action.to_string(),
        target: warden_core::token::redact(target)
            .chars()
            .take(warden_core::validate::MAX_NAME)
            .collect(),
        outcome: Outcome::Denied,
        error_code: Some(code.to_string()),
        revision: 0,
        request_id: request_id.to_string(),
        changes: serde_json::Value::Array(Vec::new()),
    }
}

impl Service {
    /// Records a refused call, whatever the refusal, before its refusal is answered. A
    /// failure to record is logged, and the call stays refused.
    pub(crate) async fn record_refusal(
        &self,
        org: &OrgId,
        actor: &Actor,
        action: &str,
        target: &str,
        code: &str,
    ) {
        let event = refusal(org, actor, action, target, code, &current_request_id());
        if let Err(e) = self.store.record_audit(&event).await {
            tracing::error!(error = %e, request_id = %event.request_id, "could not record a refused call in the audit log");
        }
    }
}
