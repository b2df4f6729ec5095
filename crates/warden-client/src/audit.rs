//! The audit log.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::model::List;
use crate::{Client, ClientError, Method};

/// What became of an audited call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A committed change.
    Allowed,
    /// A refused call.
    Denied,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChangeOp {
    /// An entity created or changed (`after`, and `before` if it existed).
    Put,
    /// An entity removed (`before`).
    Delete,
}

/// One entity changed by a write, with its value before and after. Entity values carry an
/// `entity` field naming their kind (`user`, `group`, `policy`, `membership`, ...); a token's
/// secret hash is never included.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditChange {
    pub op: ChangeOp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub before: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub after: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditEvent {
    pub id: String,
    /// Milliseconds since the Unix epoch.
    pub at: i64,
    /// `user:<id>`, `service_account:<id>` or `system`.
    pub actor: String,
    /// The catalog action of the call.
    pub action: String,
    /// The entity the call addressed, if any.
    pub target: String,
    pub outcome: Outcome,
    /// The stable code of a refused call.
    pub error_code: Option<String>,
    /// The revision a change produced (0 for a refused call).
    pub revision: u64,
    pub request_id: String,
    /// What a change changed (empty for a refused call).
    pub changes: Vec<AuditChange>,
}

impl Client {
    /// `GET /v1/audit-events`: the newest events first; `before` is the previous page's
    /// last event (`(at, id)`), from which the listing resumes.
    pub async fn audit_events(
        &self,
        limit: Option<u32>,
        before: Option<(i64, &str)>,
    ) -> Result<List<AuditEvent>, ClientError> {
        let mut query = Vec::new();
        if let Some(limit) = limit {
            query.push(("limit", limit.to_string()));
        }
        if let Some((at, id)) = before {
            query.push(("before", at.to_string()));
            if !id.is_empty() {
                query.push(("before_id", id.to_string()));
            }
        }
        self.call(Method::GET, &["v1", "audit-events"], &query, None)
            .await
    }
}
