//! Namespaces and the permission keys users hold in them.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::model::{List, Written};
use crate::{Client, ClientError, Method};

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
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    pub access: Vec<NamespaceAccess>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NamespaceAccessInput {
    /// A user id or email.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 254))]
    pub user: String,
    /// Namespace permission keys; empty means `r:full`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 64))]
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NamespaceInput {
    /// A Kubernetes DNS label.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 63,
            pattern = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
        )
    )]
    pub name: String,
    /// Users who get access to the new namespace.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 1000))]
    pub access: Vec<NamespaceAccessInput>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NamespacePermissionsInput {
    /// The grantable keys the user holds after the call; reserved keys an operator granted
    /// are kept.
    #[cfg_attr(feature = "openapi", schema(max_items = 64))]
    pub permissions: Vec<String>,
}

impl Client {
    /// `GET /v1/namespaces`.
    pub async fn namespaces(&self) -> Result<List<Namespace>, ClientError> {
        self.get(&["v1", "namespaces"]).await
    }

    /// `GET /v1/namespaces/{namespace}`: one namespace, by id or name.
    pub async fn namespace(&self, key: &str) -> Result<Namespace, ClientError> {
        self.get(&["v1", "namespaces", key]).await
    }

    /// `POST /v1/namespaces`.
    pub async fn create_namespace(
        &self,
        input: &NamespaceInput,
    ) -> Result<Written<Namespace>, ClientError> {
        self.send_json(Method::POST, &["v1", "namespaces"], input)
            .await
    }

    /// `DELETE /v1/namespaces/{namespace}`.
    pub async fn delete_namespace(&self, key: &str) -> Result<Written<Namespace>, ClientError> {
        self.call(Method::DELETE, &["v1", "namespaces", key], &[], None)
            .await
    }

    /// `GET /v1/namespaces/{namespace}/access`: who holds which keys in a namespace.
    pub async fn namespace_access(&self, key: &str) -> Result<List<NamespaceAccess>, ClientError> {
        self.get(&["v1", "namespaces", key, "access"]).await
    }

    /// `PUT /v1/namespaces/{namespace}/access/{user}`: sets the grantable keys a user holds.
    pub async fn set_namespace_access(
        &self,
        namespace: &str,
        user: &str,
        input: &NamespacePermissionsInput,
    ) -> Result<Written<Namespace>, ClientError> {
        self.send_json(
            Method::PUT,
            &["v1", "namespaces", namespace, "access", user],
            input,
        )
        .await
    }
}
