//! Groups and their members.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::model::{List, UserStatus, Written};
use crate::{Client, ClientError, Method};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Group {
    pub id: String,
    pub name: String,
    pub description: String,
    /// One of the five legacy groups (cannot be renamed or deleted).
    pub legacy: bool,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    pub member_count: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GroupInput {
    /// 1 to 63 lowercase letters, digits, `-`, `_` and `.`, starting with a letter or digit:
    /// it becomes part of a Kubernetes subject.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 63,
            pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"
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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GroupUpdate {
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 63,
            pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"
        )
    )]
    pub name: Option<String>,
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 1024,
            pattern = r"^[^\u0000-\u0009\u000B-\u001F\u007F-\u009F]*$"
        )
    )]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct GroupMember {
    pub user_id: String,
    pub email: String,
    pub status: UserStatus,
}

impl Client {
    /// `GET /v1/groups`.
    pub async fn groups(&self) -> Result<List<Group>, ClientError> {
        self.get(&["v1", "groups"]).await
    }

    /// `GET /v1/groups/{group}`: one group, by id or name.
    pub async fn group(&self, key: &str) -> Result<Group, ClientError> {
        self.get(&["v1", "groups", key]).await
    }

    /// `POST /v1/groups`.
    pub async fn create_group(&self, input: &GroupInput) -> Result<Written<Group>, ClientError> {
        self.send_json(Method::POST, &["v1", "groups"], input).await
    }

    /// `PATCH /v1/groups/{group}`: renames a group or changes its description.
    pub async fn update_group(
        &self,
        key: &str,
        update: &GroupUpdate,
    ) -> Result<Written<Group>, ClientError> {
        self.send_json(Method::PATCH, &["v1", "groups", key], update)
            .await
    }

    /// `DELETE /v1/groups/{group}`.
    pub async fn delete_group(&self, key: &str) -> Result<Written<Group>, ClientError> {
        self.call(Method::DELETE, &["v1", "groups", key], &[], None)
            .await
    }

    /// `GET /v1/groups/{group}/members`.
    pub async fn group_members(&self, key: &str) -> Result<List<GroupMember>, ClientError> {
        self.get(&["v1", "groups", key, "members"]).await
    }

    /// `PUT /v1/groups/{group}/members/{user}`.
    pub async fn add_group_member(
        &self,
        group: &str,
        user: &str,
    ) -> Result<Written<Group>, ClientError> {
        self.call(
            Method::PUT,
            &["v1", "groups", group, "members", user],
            &[],
            None,
        )
        .await
    }

    /// `DELETE /v1/groups/{group}/members/{user}`.
    pub async fn remove_group_member(
        &self,
        group: &str,
        user: &str,
    ) -> Result<Written<Group>, ClientError> {
        self.call(
            Method::DELETE,
            &["v1", "groups", group, "members", user],
            &[],
            None,
        )
        .await
    }
}
