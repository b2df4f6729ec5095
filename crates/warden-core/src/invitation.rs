//! Invitations: an offer to join an organization, held in its state until accepted.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::{GroupId, InvitationId, NamespaceId, Timestamp, UserId};

/// Where an invitation is in its life. "Expired" is not stored: a pending invitation whose
/// `expires_at` has passed is expired at that instant, without a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Revoked,
}

impl InvitationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationStatus::Pending => "pending",
            InvitationStatus::Accepted => "accepted",
            InvitationStatus::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<InvitationStatus> {
        match s {
            "pending" => Some(InvitationStatus::Pending),
            "accepted" => Some(InvitationStatus::Accepted),
            "revoked" => Some(InvitationStatus::Revoked),
            _ => None,
        }
    }
}

/// The keys an invitation gives in one namespace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct InvitedNamespace {
    pub namespace: NamespaceId,
    pub keys: Vec<String>,
}

/// A pending offer to join the organization (spec section 7.4): what the user gets on
/// accepting is recorded here and stays editable until then. The link's secret is not kept:
/// only its SHA-256, and the nonce the server derives it from (with a key the database does
/// not hold), so an admin can copy the link again and a database reader cannot.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    pub id: InvitationId,
    pub email: String,
    /// The actor who invited, as audit events name it (`user:<id>`, `operator:<id>`).
    pub invited_by: String,
    pub namespaces: Vec<InvitedNamespace>,
    /// The console's Admin checkbox: membership of `admin`.
    pub admin: bool,
    /// The console's View Billing checkbox: membership of `billing_viewer`.
    pub billing: bool,
    /// Other groups.
    pub groups: Vec<GroupId>,
    #[serde(skip_serializing)]
    pub secret_hash: String,
    #[serde(skip_serializing)]
    pub nonce: String,
    pub status: InvitationStatus,
    pub created_at: Timestamp,
    /// When it was last sent (created or resent).
    pub sent_at: Timestamp,
    pub expires_at: Timestamp,
    /// The user accepting it created.
    pub accepted_user: Option<UserId>,
}

impl Invitation {
    /// The status as a reader sees it at `now`: `expired` for a pending one past its time.
    pub fn status_at(&self, now: Timestamp) -> &'static str {
        match self.status {
            InvitationStatus::Pending if self.expires_at <= now => "expired",
            status => status.as_str(),
        }
    }

    /// Pending and not expired at `now`.
    pub fn is_open(&self, now: Timestamp) -> bool {
        self.status == InvitationStatus::Pending && now < self.expires_at
    }
}

impl fmt::Debug for Invitation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Invitation")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("status", &self.status)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}
