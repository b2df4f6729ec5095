//! Users of the organization.

use serde::{Deserialize, Serialize};

pub use crate::tokens::TokenSummary;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::model::{List, Permissions, Written};
use crate::{Client, ClientError, Method};

/// Where a user is in their life: `invited → active ⇄ deactivated`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Invited,
    Active,
    Deactivated,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Invited => "invited",
            UserStatus::Active => "active",
            UserStatus::Deactivated => "deactivated",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct User {
    pub id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub status: UserStatus,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    /// Names of the groups the user belongs to.
    pub groups: Vec<String>,
    /// Holds the IAM Admin role through some policy (and is active).
    pub is_org_admin: bool,
    /// The organization's first user, whom only a platform operator can demote.
    pub is_default_admin: bool,
    /// The org tokens this user created: they keep working after the user is deactivated or
    /// removed, so they are listed here (`DELETE /v1/users/{user}/org-tokens` revokes them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub org_tokens_created: Vec<TokenSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 128,
            pattern = r"^[^\u0000-\u001F\u007F-\u009F\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF0-\uFFF8]*$"
        )
    )]
    pub first_name: Option<String>,
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 128,
            pattern = r"^[^\u0000-\u001F\u007F-\u009F\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF0-\uFFF8]*$"
        )
    )]
    pub last_name: Option<String>,
}

impl Client {
    /// `GET /v1/users[?status=...]`: the organization's users, optionally of one status.
    pub async fn users(&self, status: Option<UserStatus>) -> Result<List<User>, ClientError> {
        let query: Vec<(&str, String)> = status
            .map(|s| vec![("status", s.as_str().to_string())])
            .unwrap_or_default();
        self.call(Method::GET, &["v1", "users"], &query, None).await
    }

    /// `GET /v1/users/{user}`: one user, by id or email.
    pub async fn user(&self, key: &str) -> Result<User, ClientError> {
        self.get(&["v1", "users", key]).await
    }

    /// `PATCH /v1/users/{user}`: changes a user's name.
    pub async fn update_user(
        &self,
        key: &str,
        update: &UserUpdate,
    ) -> Result<Written<User>, ClientError> {
        self.send_json(Method::PATCH, &["v1", "users", key], update)
            .await
    }

    /// `POST /v1/users/{user}/deactivate`.
    pub async fn deactivate_user(&self, key: &str) -> Result<Written<User>, ClientError> {
        self.call(Method::POST, &["v1", "users", key, "deactivate"], &[], None)
            .await
    }

    /// `POST /v1/users/{user}/reactivate`.
    pub async fn reactivate_user(&self, key: &str) -> Result<Written<User>, ClientError> {
        self.call(Method::POST, &["v1", "users", key, "reactivate"], &[], None)
            .await
    }

    /// `GET /v1/users/{user}/permissions`: every action the user may perform, and why.
    pub async fn user_permissions(&self, key: &str) -> Result<Permissions, ClientError> {
        self.get(&["v1", "users", key, "permissions"]).await
    }
}
