//! The JSON types of Warden's HTTP API, shared by the server (which documents them in its
//! OpenAPI document) and this client. They are the wire contract: change them with care.
//!
//! Each area's types live in the area's file beside the client calls that use them
//! (`groups.rs`, `policies.rs`, ...); this module gathers them, with the shapes every area
//! shares: problems, lists and write results. Request bodies refuse unknown fields.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

pub use crate::audit::{
    AuditChange, AuditEvent, AuditEvents, AuditQuery, AuditVerification, BrokenLink, BrokenReason,
    ChangeOp, Outcome,
};
pub use crate::authz::{
    CheckQuestion, CheckRequest, CheckResponse, CheckResult, DenyReason, GrantSource, Permissions,
    PermittedAction, WhoCan, Whoami,
};
pub use crate::catalog::{Catalog, LegacyGroup, NamespacePermission, Role};
pub use crate::clusters::{Cluster, ClusterInput, ClusterUpdate};
pub use crate::groups::{Group, GroupInput, GroupMember, GroupUpdate};
pub use crate::invitations::{
    link_secret, AcceptedInvitation, Invitation, InvitationAcceptance, InvitationInput,
    InvitationLink, InvitationPreview, InvitationSecret, InvitationStatus, InvitationUpdate,
    InvitedGroup, InvitedNamespace, InvitedNamespaceInput, SentInvitation,
};
pub use crate::kubernetes::{WebhookCredential, WebhookCredentialInput};
pub use crate::namespaces::{
    Namespace, NamespaceAccess, NamespaceAccessInput, NamespaceInput, NamespacePermissionsInput,
};
pub use crate::organization::{CreatedOrganization, Organization, OrganizationUpdate};
pub use crate::platform::{
    AddedUser, AdminAccess, CreatedOperator, DefaultAdminInput, NamespaceKeysInput, Operator,
    OperatorInput, OrganizationInput, PlatformOrganization, PlatformUserInput, RemovedUser,
};
pub use crate::policies::{
    CatalogDifference, Policy, PolicyInput, Principal, PrincipalInput, PrincipalKind, Rule,
    RuleInput,
};
pub use crate::service_accounts::{
    ServiceAccount, ServiceAccountDetails, ServiceAccountInput, ServiceAccountRule,
    ServiceAccountToken, ServiceAccountUpdate,
};
pub use crate::sessions::{
    PasswordChange, PasswordResetCompletion, PasswordResetRequest, SessionInfo, SignIn,
};
pub use crate::tokens::{
    CreatedToken, ScopeItem, Token, TokenInput, TokenKind, TokenLifetime, TokenSummary, TokenUpdate,
};
pub use crate::users::{User, UserStatus, UserUpdate};

/// Most characters of a name (policies, tokens, organizations).
pub const MAX_NAME: usize = 128;
/// Most characters of a description or note.
pub const MAX_DESCRIPTION: usize = 1024;
/// Most characters of an email address.
pub const MAX_EMAIL: usize = 254;
/// Most rules of one policy.
pub const MAX_RULES: usize = 1000;
/// Most questions of one check call.
pub const MAX_CHECKS: usize = 1000;

/// An RFC 9457 problem details document: every API error has this shape, with the media
/// type `application/problem+json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Problem {
    /// `urn:warden:problem:<code>`.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code (see the error code table in the README).
    pub code: String,
    /// Correlates the response with the server's logs and audit events.
    #[serde(default)]
    pub request_id: String,
    /// The input field at fault, for `invalid_field` and `unknown_field`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The catalog action the caller lacked, for `forbidden`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The organization's current revision, for `revision_not_reached`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<u64>,
    /// The known name closest to an unknown one (a role, an action, a group, a namespace
    /// permission key), for the `unknown_*` codes and `not_found`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub did_you_mean: Option<String>,
    /// For `forbidden`: the roles that contain `action`, narrowest first; a rule granting
    /// one of them to the caller, or to a group they are in, would allow the call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
}

/// A list of items, with the organization revision it was read at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct List<T> {
    pub revision: u64,
    pub items: Vec<T>,
}

/// The response of a write: the revision the write produced, and what it wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Written<T> {
    /// Checks passing `at_least_revision` with this value see the write.
    pub revision: u64,
    /// What the write created or changed (absent after a deletion).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<T>,
}
