//! The role catalog: actions, aliases, roles, legacy groups and namespace permission keys.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::model::List;
use crate::{Client, ClientError};

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
pub struct Catalog {
    pub actions: Vec<String>,
    pub aliases: BTreeMap<String, Vec<String>>,
    pub roles: Vec<Role>,
    pub legacy_groups: Vec<LegacyGroup>,
    pub namespace_permissions: Vec<NamespacePermission>,
}

impl Client {
    /// `GET /v1/roles`: the catalog's roles.
    pub async fn roles(&self) -> Result<List<Role>, ClientError> {
        self.get(&["v1", "roles"]).await
    }

    /// `GET /v1/roles/{role}`.
    pub async fn role(&self, id: &str) -> Result<Role, ClientError> {
        self.get(&["v1", "roles", id]).await
    }

    /// `GET /v1/catalog`: actions, aliases, roles, legacy groups, namespace permissions.
    pub async fn catalog(&self) -> Result<Catalog, ClientError> {
        self.get(&["v1", "catalog"]).await
    }
}
