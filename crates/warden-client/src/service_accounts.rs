//! Service accounts: non-human principals of an organization, named by rules like users and
//! owning tokens. IAM viewers list and show them; creating, changing and deleting one is
//! privileged (no role holds those actions), so platform operators do it through
//! `/v1/platform/organizations/{org}/service-accounts`.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::model::{List, TokenKind, Written};
use crate::{Client, ClientError, Method};

/// A service account, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ServiceAccount {
    pub id: String,
    pub name: String,
    /// An inactive account holds no rights: its tokens are refused.
    pub active: bool,
    /// Created and managed by the platform itself: not for anyone to change.
    pub system_managed: bool,
    /// The id of the user who created it; absent when the platform (an operator) did.
    pub created_by: Option<String>,
    /// That user's email, when known.
    pub created_by_email: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    /// How many tokens act as it.
    pub token_count: usize,
}

/// A token of a service account: what it is, never its secret or hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ServiceAccountToken {
    pub id: String,
    pub kind: TokenKind,
    pub name: String,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

/// A rule naming a service account, and the policy it is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ServiceAccountRule {
    pub policy_id: String,
    pub policy_name: String,
    pub roles: Vec<String>,
    /// A time-bound rule grants nothing from this instant on (ms since the Unix epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

/// One service account with its tokens and the rules naming it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ServiceAccountDetails {
    pub id: String,
    pub name: String,
    pub active: bool,
    pub system_managed: bool,
    pub created_by: Option<String>,
    pub created_by_email: Option<String>,
    pub created_at: i64,
    pub token_count: usize,
    pub tokens: Vec<ServiceAccountToken>,
    pub rules: Vec<ServiceAccountRule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ServiceAccountInput {
    /// A display name, unique in the organization without regard to case.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 128,
            pattern = r"^[^\u0000-\u001F\u007F-\u009F\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF0-\uFFF8]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF0-\uFFF8][^\u0000-\u001F\u007F-\u009F\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF0-\uFFF8]*$"
        )
    )]
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ServiceAccountUpdate {
    /// A new name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 128,
            pattern = r"^[^\u0000-\u001F\u007F-\u009F\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF0-\uFFF8]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF0-\uFFF8][^\u0000-\u001F\u007F-\u009F\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF0-\uFFF8]*$"
        )
    )]
    pub name: Option<String>,
    /// `false` deactivates the account (its tokens stop working at once), `true` reactivates it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

impl Client {
    /// `GET /v1/service-accounts`.
    pub async fn service_accounts(&self) -> Result<List<ServiceAccount>, ClientError> {
        self.get(&["v1", "service-accounts"]).await
    }

    /// `GET /v1/service-accounts/{account}`: one account, by id or name, with its tokens and
    /// the rules naming it.
    pub async fn service_account(&self, key: &str) -> Result<ServiceAccountDetails, ClientError> {
        self.get(&["v1", "service-accounts", key]).await
    }

    /// `POST /v1/service-accounts` (privileged: no role holds the action).
    pub async fn create_service_account(
        &self,
        input: &ServiceAccountInput,
    ) -> Result<Written<ServiceAccount>, ClientError> {
        self.send_json(Method::POST, &["v1", "service-accounts"], input)
            .await
    }

    /// `PATCH /v1/service-accounts/{account}`: renames and/or (de)activates it (privileged).
    pub async fn update_service_account(
        &self,
        key: &str,
        update: &ServiceAccountUpdate,
    ) -> Result<Written<ServiceAccount>, ClientError> {
        self.send_json(Method::PATCH, &["v1", "service-accounts", key], update)
            .await
    }

    /// `DELETE /v1/service-accounts/{account}`: with its tokens and the rules naming it
    /// (privileged). Answers `204 No Content`.
    pub async fn delete_service_account(
        &self,
        key: &str,
    ) -> Result<Written<ServiceAccount>, ClientError> {
        self.call(Method::DELETE, &["v1", "service-accounts", key], &[], None)
            .await
    }

    /// `GET /v1/platform/organizations/{org}/service-accounts` (an operator).
    pub async fn platform_service_accounts(
        &self,
        org: &str,
    ) -> Result<List<ServiceAccount>, ClientError> {
        self.get(&platform(org, None)).await
    }

    /// `GET /v1/platform/organizations/{org}/service-accounts/{account}` (an operator).
    pub async fn platform_service_account(
        &self,
        org: &str,
        key: &str,
    ) -> Result<ServiceAccountDetails, ClientError> {
        self.get(&platform(org, Some(key))).await
    }

    /// `POST /v1/platform/organizations/{org}/service-accounts` (an operator).
    pub async fn platform_create_service_account(
        &self,
        org: &str,
        input: &ServiceAccountInput,
    ) -> Result<Written<ServiceAccount>, ClientError> {
        self.send_json(Method::POST, &platform(org, None), input)
            .await
    }

    /// `PATCH /v1/platform/organizations/{org}/service-accounts/{account}` (an operator).
    pub async fn platform_update_service_account(
        &self,
        org: &str,
        key: &str,
        update: &ServiceAccountUpdate,
    ) -> Result<Written<ServiceAccount>, ClientError> {
        self.send_json(Method::PATCH, &platform(org, Some(key)), update)
            .await
    }

    /// `DELETE /v1/platform/organizations/{org}/service-accounts/{account}` (an operator).
    pub async fn platform_delete_service_account(
        &self,
        org: &str,
        key: &str,
    ) -> Result<Written<ServiceAccount>, ClientError> {
        self.call(Method::DELETE, &platform(org, Some(key)), &[], None)
            .await
    }
}

/// The path of an organization's service accounts (or of one) under `/v1/platform`.
fn platform<'a>(org: &'a str, key: Option<&'a str>) -> Vec<&'a str> {
    let mut segments = vec!["v1", "platform", "organizations", org, "service-accounts"];
    segments.extend(key);
    segments
}
