//! Access policies: named lists of rules `principal → roles`.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::model::{List, Written};
use crate::{Client, ClientError, Method};

/// The kinds of principal a rule can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    User,
    Group,
    ServiceAccount,
}

impl PrincipalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::User => "user",
            PrincipalKind::Group => "group",
            PrincipalKind::ServiceAccount => "service_account",
        }
    }
}

/// A principal named by a rule (or acting), with a display name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Principal {
    pub kind: PrincipalKind,
    pub id: String,
    /// The user's email, the group's or service account's name.
    pub name: String,
}

/// A principal as a caller names it: `id` is an id, or a group's or service account's name,
/// or a user's email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PrincipalInput {
    pub kind: PrincipalKind,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 254))]
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Rule {
    pub principal: Principal,
    pub roles: Vec<String>,
    /// A time-bound rule grants nothing from this instant on (ms since the Unix epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    pub principal: PrincipalInput,
    /// Role ids from the catalog (`GET /v1/roles`).
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 64))]
    pub roles: Vec<String>,
    /// Optional end of a time-bound rule (ms since the Unix epoch, in the future).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Policy {
    pub id: String,
    pub name: String,
    pub description: String,
    /// Set on the five default policies: the legacy group they give roles to.
    pub default_for_group: Option<String>,
    pub rules: Vec<Rule>,
    /// Default policies only: how the roles they give their group differ from the catalog's
    /// (`warden policies reset` restores the catalog's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_difference: Option<CatalogDifference>,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    pub updated_at: i64,
}

/// How the roles a default policy gives its legacy group differ from the catalog's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CatalogDifference {
    /// The catalog's roles for the group.
    pub catalog_roles: Vec<String>,
    /// Roles the policy gives the group beyond the catalog's.
    pub roles_added: Vec<String>,
    /// Catalog roles the policy no longer gives the group.
    pub roles_removed: Vec<String>,
}

impl CatalogDifference {
    /// Whether the policy gives its group exactly the catalog's roles.
    pub fn is_unchanged(&self) -> bool {
        self.roles_added.is_empty() && self.roles_removed.is_empty()
    }
}

/// The body of a policy create or replace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PolicyInput {
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 128,
            pattern = r"^[^\u0000-\u001F\u007F-\u009F\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF0-\uFFF8]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF0-\uFFF8][^\u0000-\u001F\u007F-\u009F\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF0-\uFFF8]*$"
        )
    )]
    pub name: String,
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 1024,
            pattern = r"^[^\u0000-\u0009\u000B-\u001F\u007F-\u009F]*$"
        )
    )]
    pub description: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 1000))]
    pub rules: Vec<RuleInput>,
}

impl Client {
    /// `GET /v1/policies`.
    pub async fn policies(&self) -> Result<List<Policy>, ClientError> {
        self.get(&["v1", "policies"]).await
    }

    /// `GET /v1/policies/{policy}`: one policy, by id or name.
    pub async fn policy(&self, key: &str) -> Result<Policy, ClientError> {
        self.get(&["v1", "policies", key]).await
    }

    /// `POST /v1/policies`.
    pub async fn create_policy(&self, input: &PolicyInput) -> Result<Written<Policy>, ClientError> {
        self.send_json(Method::POST, &["v1", "policies"], input)
            .await
    }

    /// `PUT /v1/policies/{policy}`: replaces a policy's name, description and rules.
    pub async fn replace_policy(
        &self,
        key: &str,
        input: &PolicyInput,
    ) -> Result<Written<Policy>, ClientError> {
        self.send_json(Method::PUT, &["v1", "policies", key], input)
            .await
    }

    /// `DELETE /v1/policies/{policy}`.
    pub async fn delete_policy(&self, key: &str) -> Result<Written<Policy>, ClientError> {
        self.call(Method::DELETE, &["v1", "policies", key], &[], None)
            .await
    }

    /// `POST /v1/policies/{policy}/reset`: gives a default policy's rules the catalog's roles
    /// again.
    pub async fn reset_policy(&self, key: &str) -> Result<Written<Policy>, ClientError> {
        self.call(Method::POST, &["v1", "policies", key, "reset"], &[], None)
            .await
    }

    /// `GET /v1/platform/organizations/{org}/policies/{policy}` (an operator).
    pub async fn platform_policy(&self, org: &str, key: &str) -> Result<Policy, ClientError> {
        self.get(&["v1", "platform", "organizations", org, "policies", key])
            .await
    }

    /// `PUT /v1/platform/organizations/{org}/policies/{policy}` (an operator, who may change
    /// the default `admin` policy that no admin can).
    pub async fn platform_replace_policy(
        &self,
        org: &str,
        key: &str,
        input: &PolicyInput,
    ) -> Result<Written<Policy>, ClientError> {
        self.send_json(
            Method::PUT,
            &["v1", "platform", "organizations", org, "policies", key],
            input,
        )
        .await
    }

    /// `POST /v1/platform/organizations/{org}/policies/{policy}/reset` (an operator).
    pub async fn platform_reset_policy(
        &self,
        org: &str,
        key: &str,
    ) -> Result<Written<Policy>, ClientError> {
        self.call(
            Method::POST,
            &[
                "v1",
                "platform",
                "organizations",
                org,
                "policies",
                key,
                "reset",
            ],
            &[],
            None,
        )
        .await
    }
}
