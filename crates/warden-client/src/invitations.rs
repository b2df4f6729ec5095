//! Invitations: an admin invites an address with namespaces, flags and groups; the invitee
//! accepts with the link's secret, choosing a name and a password.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::model::{List, User, Written};
use crate::{Client, ClientError, Method};

/// Where an invitation is: `expired` is a pending one whose time ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Revoked,
    Expired,
}

impl InvitationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationStatus::Pending => "pending",
            InvitationStatus::Accepted => "accepted",
            InvitationStatus::Revoked => "revoked",
            InvitationStatus::Expired => "expired",
        }
    }
}

/// A namespace an invitation gives, with its permission keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct InvitedNamespace {
    pub namespace_id: String,
    pub namespace: String,
    pub permissions: Vec<String>,
}

/// A group an invitation gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct InvitedGroup {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Invitation {
    pub id: String,
    pub email: String,
    pub status: InvitationStatus,
    /// Who invited (`user:<id>`, `operator:<id>`), and that user's email when known.
    pub invited_by: String,
    pub invited_by_email: Option<String>,
    pub namespaces: Vec<InvitedNamespace>,
    /// The Admin checkbox: membership of `admin`.
    pub admin: bool,
    /// The View Billing checkbox: membership of `billing_viewer`.
    pub billing: bool,
    /// Other groups.
    pub groups: Vec<InvitedGroup>,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    /// When it was last sent (created or resent).
    pub sent_at: i64,
    pub expires_at: i64,
    /// The user who accepted it.
    pub accepted_user: Option<String>,
}

/// A namespace to give, by id or name, with its keys (none: `r:full`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InvitedNamespaceInput {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 128))]
    pub namespace: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 64))]
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InvitationInput {
    #[cfg_attr(feature = "openapi", schema(min_length = 3, max_length = 254))]
    pub email: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 1000))]
    pub namespaces: Vec<InvitedNamespaceInput>,
    /// The Admin checkbox (membership of `admin`).
    #[serde(default)]
    pub admin: bool,
    /// The View Billing checkbox (membership of `billing_viewer`).
    #[serde(default)]
    pub billing: bool,
    /// Other groups, by id or name.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 1000))]
    pub groups: Vec<String>,
}

/// Changes to a pending invitation: each part given replaces the recorded one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InvitationUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_items = 1000))]
    pub namespaces: Option<Vec<InvitedNamespaceInput>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_items = 1000))]
    pub groups: Option<Vec<String>>,
}

/// An invitation just sent (or sent again), with its link: whoever holds the link can join,
/// so hand it only to the invitee.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SentInvitation {
    pub revision: u64,
    pub invitation: Invitation,
    /// `<server>/invitations/accept#<secret>`.
    pub link: String,
}

impl std::fmt::Debug for SentInvitation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SentInvitation")
            .field("revision", &self.revision)
            .field("invitation", &self.invitation)
            .finish_non_exhaustive()
    }
}

/// The link of a pending invitation ("Copy link").
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct InvitationLink {
    pub link: String,
}

impl std::fmt::Debug for InvitationLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InvitationLink(..)")
    }
}

/// A link's secret, to look at the invitation before accepting it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InvitationSecret {
    /// The part of the link after `#` (or the whole link).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 2048))]
    pub token: String,
}

impl std::fmt::Debug for InvitationSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InvitationSecret(..)")
    }
}

/// What the accept page shows before the invitee accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct InvitationPreview {
    pub organization_id: String,
    pub organization_name: String,
    pub email: String,
    pub expires_at: i64,
}

/// Accepting: the link's secret, the invitee's name and password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InvitationAcceptance {
    /// The part of the link after `#` (or the whole link).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 2048))]
    pub token: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 128))]
    pub first_name: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 128))]
    pub last_name: String,
    /// At least 10 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 10, max_length = 1024))]
    pub password: String,
}

impl std::fmt::Debug for InvitationAcceptance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InvitationAcceptance")
            .field("first_name", &self.first_name)
            .field("last_name", &self.last_name)
            .finish_non_exhaustive()
    }
}

/// The member an accepted invitation made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AcceptedInvitation {
    pub revision: u64,
    pub organization_id: String,
    pub organization_name: String,
    pub user: User,
}

/// The secret of a link: the part after `#`, or the text as given.
pub fn link_secret(link: &str) -> &str {
    link.trim()
        .rsplit_once('#')
        .map_or(link.trim(), |(_, secret)| secret)
}

impl Client {
    /// `POST /v1/invitations`: invites an address; the answer holds the link.
    pub async fn invite(&self, input: &InvitationInput) -> Result<SentInvitation, ClientError> {
        self.send_json(Method::POST, &["v1", "invitations"], input)
            .await
    }

    /// `GET /v1/invitations`: the organization's invitations, newest first.
    pub async fn invitations(&self) -> Result<List<Invitation>, ClientError> {
        self.get(&["v1", "invitations"]).await
    }

    /// `GET /v1/invitations/{id}` (an id, or an invited email).
    pub async fn invitation(&self, key: &str) -> Result<Invitation, ClientError> {
        self.get(&["v1", "invitations", key]).await
    }

    /// `PATCH /v1/invitations/{id}`: edits a pending invitation.
    pub async fn update_invitation(
        &self,
        key: &str,
        update: &InvitationUpdate,
    ) -> Result<Written<Invitation>, ClientError> {
        self.send_json(Method::PATCH, &["v1", "invitations", key], update)
            .await
    }

    /// `POST /v1/invitations/{id}/resend`: a new link (the old one dies), sent again.
    pub async fn resend_invitation(&self, key: &str) -> Result<SentInvitation, ClientError> {
        self.call(
            Method::POST,
            &["v1", "invitations", key, "resend"],
            &[],
            None,
        )
        .await
    }

    /// `GET /v1/invitations/{id}/link`: the link of a pending invitation.
    pub async fn invitation_link(&self, key: &str) -> Result<InvitationLink, ClientError> {
        self.get(&["v1", "invitations", key, "link"]).await
    }

    /// `DELETE /v1/invitations/{id}`: revokes an invitation (its link stops working).
    pub async fn revoke_invitation(&self, key: &str) -> Result<Written<Invitation>, ClientError> {
        self.call(Method::DELETE, &["v1", "invitations", key], &[], None)
            .await
    }

    /// `POST /v1/invitations/inspect` (no token needed): what a link invites to.
    pub async fn inspect_invitation(&self, link: &str) -> Result<InvitationPreview, ClientError> {
        let body = InvitationSecret {
            token: link_secret(link).to_string(),
        };
        self.send_json(Method::POST, &["v1", "invitations", "inspect"], &body)
            .await
    }

    /// `POST /v1/invitations/accept` (no token needed): joins with the link's secret.
    pub async fn accept_invitation(
        &self,
        acceptance: &InvitationAcceptance,
    ) -> Result<AcceptedInvitation, ClientError> {
        self.send_json(Method::POST, &["v1", "invitations", "accept"], acceptance)
            .await
    }
}
