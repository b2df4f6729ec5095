//! The audit log.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

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
    /// The event's place in its organization's hash chain: 1, 2, 3, ... in the order
    /// recorded.
    pub seq: u64,
    /// The event's hash in the chain (hex SHA-256 of every stored field and the hash of the
    /// event before it).
    pub hash: String,
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

/// A page of the audit log, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditEvents {
    /// The organization revision when the page was read.
    pub revision: u64,
    pub items: Vec<AuditEvent>,
    /// Pass as `cursor` for the next (older) page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Which audit events to list: every field set narrows the listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// At most this many events (the server's default is 100).
    pub limit: Option<u32>,
    /// Exactly this actor (`user:<id>`, `service_account:<id>`, `system`).
    pub actor: Option<String>,
    /// Exactly this target.
    pub target: Option<String>,
    /// Exactly this action.
    pub action: Option<String>,
    pub outcome: Option<Outcome>,
    /// Events at or after this instant (RFC 3339).
    pub since: Option<String>,
    /// Events before this instant (RFC 3339).
    pub until: Option<String>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
}

impl AuditQuery {
    /// The newest `limit` events.
    pub fn newest(limit: u32) -> AuditQuery {
        AuditQuery {
            limit: Some(limit),
            ..AuditQuery::default()
        }
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut query = Vec::new();
        if let Some(limit) = self.limit {
            query.push(("limit", limit.to_string()));
        }
        let texts = [
            ("actor", &self.actor),
            ("target", &self.target),
            ("action", &self.action),
            ("since", &self.since),
            ("until", &self.until),
            ("cursor", &self.cursor),
        ];
        for (name, value) in texts {
            if let Some(value) = value {
                query.push((name, value.clone()));
            }
        }
        if let Some(outcome) = self.outcome {
            let name = match outcome {
                Outcome::Allowed => "allowed",
                Outcome::Denied => "denied",
            };
            query.push(("outcome", name.to_string()));
        }
        query
    }
}

/// Why an audit chain is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BrokenReason {
    /// The event's stored fields no longer hash to its stored hash.
    Altered,
    /// Events are missing before this one (a gap in `seq`, or a link to an event that is not
    /// the one before it).
    Missing,
    /// The chain does not end at the organization's recorded head: its last events are
    /// missing.
    HeadMismatch,
}

impl BrokenReason {
    pub fn as_str(self) -> &'static str {
        match self {
            BrokenReason::Altered => "altered",
            BrokenReason::Missing => "missing",
            BrokenReason::HeadMismatch => "head_mismatch",
        }
    }
}

/// The first broken link of an audit chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct BrokenLink {
    /// The event at the break: the altered one, the first one after missing events, or (head
    /// mismatch) the last one found. Absent when no event is left to name.
    pub event_id: Option<String>,
    /// The break's place in the chain (for a head mismatch, the head's).
    pub seq: i64,
    pub reason: BrokenReason,
    /// The break in a sentence.
    pub detail: String,
}

/// The result of recomputing the organization's audit chain. A broken chain is a finding,
/// answered with 200 like an intact one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditVerification {
    /// Whether every event hashes as stored, follows the one before it, and the chain ends
    /// at its head.
    pub ok: bool,
    /// `ok`: how many events the chain holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<u64>,
    /// `ok`: the hash of the chain's last event (a value to keep elsewhere: a later
    /// verification must pass through it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<String>,
    /// Not `ok`: how many events verified before the break.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events_checked: Option<u64>,
    /// Not `ok`: the first broken link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broken: Option<BrokenLink>,
}

impl Client {
    /// `GET /v1/audit-events`: a page of the newest events that match `query`.
    pub async fn audit_events(&self, query: &AuditQuery) -> Result<AuditEvents, ClientError> {
        self.call(Method::GET, &["v1", "audit-events"], &query.pairs(), None)
            .await
    }

    /// `GET /v1/audit-events/verify`: recomputes the organization's audit chain.
    pub async fn verify_audit(&self) -> Result<AuditVerification, ClientError> {
        self.get(&["v1", "audit-events", "verify"]).await
    }
}
