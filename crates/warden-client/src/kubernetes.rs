//! Kubernetes Managed Auth: a cluster's RBAC export, and the credential its kube-apiserver
//! presents to Warden's webhooks, with the webhook configuration files that use it.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::{Client, ClientError, Method};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WebhookCredentialInput {
    /// PEM certificates of the CA that signed Warden's own HTTPS certificate, when the
    /// kube-apiserver does not trust it already; embedded in the configuration files.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 65536,
            pattern = r"^(?:[\t\n\r ]*|[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*-----BEGIN CERTIFICATE-----[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*)$"
        )
    )]
    pub warden_ca_bundle: String,
}

/// A cluster's new webhook credential (the previous one stops working), shown once, with the
/// two kube-apiserver webhook configuration files (kubeconfig format) that embed it.
/// `Debug` does not print the secret or the files.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WebhookCredential {
    pub revision: u64,
    /// The cluster's id.
    pub cluster: String,
    pub secret: String,
    /// Where the kube-apiserver sends TokenReviews (`…/k8s/authenticate`).
    pub authenticate_url: String,
    /// Where it sends SubjectAccessReviews (`…/k8s/authorize`).
    pub authorize_url: String,
    /// For `--authentication-token-webhook-config-file`.
    pub authentication_config: String,
    /// For `--authorization-webhook-config-file`.
    pub authorization_config: String,
}

impl std::fmt::Debug for WebhookCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookCredential")
            .field("revision", &self.revision)
            .field("cluster", &self.cluster)
            .field("authenticate_url", &self.authenticate_url)
            .field("authorize_url", &self.authorize_url)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// `GET /v1/clusters/{cluster}/rbac`: the cluster's RBAC objects as a YAML stream
    /// (ClusterRoleBindings for the legacy groups, per namespace the Roles its keys stand for
    /// and their RoleBindings), in a stable order.
    pub async fn cluster_rbac(&self, cluster: &str) -> Result<String, ClientError> {
        self.get_text(&["v1", "clusters", cluster, "rbac"]).await
    }

    /// `POST /v1/clusters/{cluster}/webhook-credential`: a new credential for the cluster's
    /// kube-apiserver to call the webhooks with, and the configuration files using it.
    pub async fn issue_webhook_credential(
        &self,
        cluster: &str,
        input: &WebhookCredentialInput,
    ) -> Result<WebhookCredential, ClientError> {
        self.send_json(
            Method::POST,
            &["v1", "clusters", cluster, "webhook-credential"],
            input,
        )
        .await
    }
}
