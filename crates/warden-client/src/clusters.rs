//! CKS clusters.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::model::{List, Written};
use crate::{Client, ClientError, Method};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Cluster {
    pub id: String,
    pub name: String,
    pub api_server_url: String,
    pub ca_bundle: String,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ClusterInput {
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
    /// The `https://` URL of the cluster's Kubernetes API server.
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 2048,
            pattern = r"^https://[^/\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF]*$"
        )
    )]
    pub api_server_url: String,
    /// PEM certificates of the API server's CA (may be empty).
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 65536,
            pattern = r"^(?:[\t\n\r ]*|[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*-----BEGIN CERTIFICATE-----[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*)$"
        )
    )]
    pub ca_bundle: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ClusterUpdate {
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 2048,
            pattern = r"^https://[^/\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF][^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF]*$"
        )
    )]
    pub api_server_url: Option<String>,
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 65536,
            pattern = r"^(?:[\t\n\r ]*|[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*-----BEGIN CERTIFICATE-----[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*)$"
        )
    )]
    pub ca_bundle: Option<String>,
}

impl Client {
    /// `GET /v1/clusters`.
    pub async fn clusters(&self) -> Result<List<Cluster>, ClientError> {
        self.get(&["v1", "clusters"]).await
    }

    /// `GET /v1/clusters/{cluster}`: one cluster, by id or name.
    pub async fn cluster(&self, key: &str) -> Result<Cluster, ClientError> {
        self.get(&["v1", "clusters", key]).await
    }

    /// `POST /v1/clusters`.
    pub async fn create_cluster(
        &self,
        input: &ClusterInput,
    ) -> Result<Written<Cluster>, ClientError> {
        self.send_json(Method::POST, &["v1", "clusters"], input)
            .await
    }

    /// `PATCH /v1/clusters/{cluster}`.
    pub async fn update_cluster(
        &self,
        key: &str,
        update: &ClusterUpdate,
    ) -> Result<Written<Cluster>, ClientError> {
        self.send_json(Method::PATCH, &["v1", "clusters", key], update)
            .await
    }

    /// `DELETE /v1/clusters/{cluster}`.
    pub async fn delete_cluster(&self, key: &str) -> Result<Written<Cluster>, ClientError> {
        self.call(Method::DELETE, &["v1", "clusters", key], &[], None)
            .await
    }
}
