//! Decisions: checks, explanations, permitted actions, who can, and who am I.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::model::{Principal, User};
use crate::{Client, ClientError, Method};

/// Why a question was answered "deny".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DenyReason {
    /// No rule in force grants the action to the principal or any of its groups.
    NoMatchingRule,
    /// The principal is not a user or service account of this organization.
    UnknownPrincipal,
    /// The principal is deactivated (or not yet active).
    PrincipalInactive,
    /// The organization has no namespace of that name.
    UnknownNamespace,
    /// The principal holds no key implying the one asked about in that namespace.
    NamespacePermissionMissing,
}

impl DenyReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DenyReason::NoMatchingRule => "no_matching_rule",
            DenyReason::UnknownPrincipal => "unknown_principal",
            DenyReason::PrincipalInactive => "principal_inactive",
            DenyReason::UnknownNamespace => "unknown_namespace",
            DenyReason::NamespacePermissionMissing => "namespace_permission_missing",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CheckQuestion {
    /// A user (by id or email), a service account (by id), or `me` for the caller. Asking
    /// about oneself, however named, needs no action.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 254))]
    pub principal: String,
    /// A catalog action (or alias); with `namespace`, a namespace permission key.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 128))]
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 63))]
    pub namespace: Option<String>,
    /// Also answer which policies, rules, groups and roles grant the action.
    #[serde(default)]
    pub explain: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 1000))]
    pub checks: Vec<CheckQuestion>,
    /// Answer from a snapshot at least this new (the revision a write returned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least_revision: Option<u64>,
}

/// One path by which an action is granted: policy → rule → (group) → role.
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
    /// When the rule stops granting, if it is time-bound (ms since the Unix epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CheckResult {
    pub allowed: bool,
    /// Why it was denied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<DenyReason>,
    /// With `explain`: every path that grants the action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granted_by: Option<Vec<GrantSource>>,
    /// With `explain`: the catalog's roles that contain the action, narrowest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles_with_action: Option<Vec<String>>,
    /// With `explain`: the decision in a sentence: what grants the action, or what is
    /// missing and the smallest change that would allow it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
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
    /// Ids of the active users and service accounts allowed.
    pub principals: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Whoami {
    pub organization_id: String,
    /// The calling principal.
    pub principal: Principal,
    /// The calling user, when the principal is a user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// The token the call was made with; absent for a console session (a cookie).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_id: Option<String>,
    /// Every action the caller may perform.
    pub actions: Vec<String>,
    pub revision: u64,
}

impl Client {
    /// `GET /v1/whoami`: the caller, its organization and its actions.
    pub async fn whoami(&self) -> Result<Whoami, ClientError> {
        self.get(&["v1", "whoami"]).await
    }

    /// `POST /v1/authz/check`: answers one or many authorization questions.
    pub async fn check(&self, request: &CheckRequest) -> Result<CheckResponse, ClientError> {
        self.send_json(Method::POST, &["v1", "authz", "check"], request)
            .await
    }

    /// `GET /v1/authz/principals?action=...`: who may perform an action.
    pub async fn who_can(&self, action: &str) -> Result<WhoCan, ClientError> {
        self.call(
            Method::GET,
            &["v1", "authz", "principals"],
            &[("action", action.to_string())],
            None,
        )
        .await
    }
}
