//! The JSON types of Warden's HTTP API, shared by the server (which documents them in its
//! OpenAPI document) and this client. They are the wire contract: change them with care.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// An RFC 9457 problem details document: every API error has this shape.
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
    /// The input field at fault, for `invalid_field`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The catalog action the caller lacked, for `forbidden`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The organization's current revision, for `revision_not_reached`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<u64>,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<T>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Organization {
    pub id: String,
    pub name: String,
    pub default_admin: String,
    pub created_at: i64,
    pub revision: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OrganizationUpdate {
    pub name: String,
}

/// A new organization with its first admin and that admin's token (shown once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreatedOrganization {
    pub organization: Organization,
    pub admin: User,
    pub token: CreatedToken,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct User {
    pub id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// `invited`, `active` or `deactivated`.
    pub status: String,
    pub created_at: i64,
    /// Names of the groups the user belongs to.
    pub groups: Vec<String>,
    /// Holds the IAM Admin role through some policy (and is active).
    pub is_org_admin: bool,
    /// The organization's first user, whom only a platform operator can demote.
    pub is_default_admin: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UserUpdate {
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Group {
    pub id: String,
    pub name: String,
    pub description: String,
    /// One of the five legacy groups (cannot be renamed or deleted).
    pub legacy: bool,
    pub created_at: i64,
    pub member_count: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct GroupInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct GroupUpdate {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct GroupMember {
    pub user_id: String,
    pub email: String,
    pub status: String,
}

/// A principal named by a rule, with a display name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Principal {
    /// `user`, `group` or `service_account`.
    pub kind: String,
    pub id: String,
    /// The user's email, the group's or service account's name.
    pub name: String,
}

/// A principal as a caller names it: `id` is an id, or a group's name, or a user's email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PrincipalInput {
    /// `user`, `group` or `service_account`.
    pub kind: String,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Rule {
    pub principal: Principal,
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RuleInput {
    pub principal: PrincipalInput,
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Policy {
    pub id: String,
    pub name: String,
    pub description: String,
    /// Set on the five default policies: the legacy group whose roles they fix.
    pub default_for_group: Option<String>,
    pub rules: Vec<Rule>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The body of a policy create or replace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PolicyInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub rules: Vec<RuleInput>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Role {
    pub id: String,
    pub name: String,
    pub description: String,
    pub includes: Vec<String>,
    /// Every action of the role, includes expanded.
    pub actions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LegacyGroup {
    pub name: String,
    pub roles: Vec<String>,
    pub cluster_role: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NamespacePermission {
    pub key: String,
    pub description: String,
    pub reserved: bool,
    pub implies: Vec<String>,
}

/// The whole catalog: actions, aliases, roles, legacy groups, namespace permission keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CatalogView {
    pub actions: Vec<String>,
    pub aliases: BTreeMap<String, Vec<String>>,
    pub roles: Vec<Role>,
    pub legacy_groups: Vec<LegacyGroup>,
    pub namespace_permissions: Vec<NamespacePermission>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NamespaceAccess {
    pub user_id: String,
    pub email: String,
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Namespace {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub access: Vec<NamespaceAccess>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NamespaceAccessInput {
    /// A user id or email.
    pub user: String,
    /// Namespace permission keys; empty means `r:full`.
    #[serde(default)]
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NamespaceInput {
    pub name: String,
    /// Users who get access to the new namespace.
    #[serde(default)]
    pub access: Vec<NamespaceAccessInput>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NamespacePermissionsInput {
    /// The grantable keys the user holds after the call; reserved keys an operator granted
    /// are kept.
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Cluster {
    pub id: String,
    pub name: String,
    pub api_server_url: String,
    pub ca_bundle: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ClusterInput {
    pub name: String,
    pub api_server_url: String,
    #[serde(default)]
    pub ca_bundle: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ClusterUpdate {
    #[serde(default)]
    pub api_server_url: Option<String>,
    #[serde(default)]
    pub ca_bundle: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Token {
    pub id: String,
    /// `personal`.
    pub kind: String,
    pub user_id: String,
    pub name: String,
    pub note: String,
    /// The first characters of the secret.
    pub display_prefix: String,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TokenInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub note: String,
    /// `1h`, `8h`, `30d` (default), `90d`, `1y` or `never`.
    #[serde(default)]
    pub expires_in: Option<String>,
}

/// A token and its secret: the only time the secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreatedToken {
    pub revision: u64,
    pub token: Token,
    pub secret: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CheckQuestion {
    /// A user or service account id.
    pub principal: String,
    /// A catalog action (or alias); with `namespace`, a namespace permission key.
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default)]
    pub explain: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CheckRequest {
    pub checks: Vec<CheckQuestion>,
    /// Answer from a snapshot at least this new (the revision a write returned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least_revision: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct GrantSource {
    pub policy_id: String,
    pub policy_name: String,
    pub rule_index: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via_group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via_group_id: Option<String>,
    pub role_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CheckResult {
    pub allowed: bool,
    /// Why it was denied: `no_matching_rule`, `unknown_principal`, `principal_inactive`,
    /// `unknown_namespace` or `namespace_permission_missing`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// With `explain`: every path that grants the action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granted_by: Option<Vec<GrantSource>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CheckResponse {
    /// The revision of the snapshot that answered.
    pub revision: u64,
    pub results: Vec<CheckResult>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PermittedAction {
    pub action: String,
    pub granted_by: Vec<GrantSource>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Permissions {
    pub principal: String,
    pub revision: u64,
    pub actions: Vec<PermittedAction>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WhoCan {
    pub action: String,
    pub revision: u64,
    pub principals: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Whoami {
    pub organization_id: String,
    pub user: User,
    pub token_id: String,
    /// Every action the caller may perform.
    pub actions: Vec<String>,
    pub revision: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditEvent {
    pub id: String,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    /// `allowed` or `denied`.
    pub outcome: String,
    pub error_code: Option<String>,
    pub revision: u64,
    pub request_id: String,
    /// Entity changes with their before and after values.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub changes: serde_json::Value,
}
