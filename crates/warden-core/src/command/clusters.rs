//! CKS clusters: name, API server URL and CA bundle, used for kubeconfigs and RBAC export.

use super::{Apply, AreaCommand, Key};
use crate::domain::*;
use crate::error::DomainError;
use crate::{resolve, validate};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterCommand {
    Create {
        name: String,
        api_server_url: String,
        ca_bundle: String,
    },
    Update {
        cluster: Key,
        api_server_url: Option<String>,
        ca_bundle: Option<String>,
    },
    Delete {
        cluster: Key,
    },
    /// A new credential for the cluster's kube-apiserver to present to Warden's webhooks
    /// (the previous one stops working). The caller generated the secret; only its hash
    /// arrives here.
    IssueWebhookCredential {
        cluster: Key,
        secret_hash: String,
    },
}

impl AreaCommand for ClusterCommand {
    fn required_action(&self) -> &'static str {
        match self {
            ClusterCommand::Create { .. } => "cks.clusters.create",
            ClusterCommand::Update { .. } | ClusterCommand::IssueWebhookCredential { .. } => {
                "cks.clusters.update"
            }
            ClusterCommand::Delete { .. } => "cks.clusters.delete",
        }
    }

    fn target(&self) -> Option<&str> {
        match self {
            ClusterCommand::Create { .. } => None,
            ClusterCommand::Update { cluster, .. }
            | ClusterCommand::Delete { cluster }
            | ClusterCommand::IssueWebhookCredential { cluster, .. } => Some(cluster.as_str()),
        }
    }

    fn target_id(&self, state: &OrgState) -> Option<String> {
        let key = self.target()?;
        resolve::cluster(state, key).ok().map(|c| c.id.to_string())
    }

    fn apply(self, cx: &mut Apply<'_>) -> Result<String, DomainError> {
        match self {
            ClusterCommand::Create {
                name,
                api_server_url,
                ca_bundle,
            } => {
                let name = validate::dns_label("name", &name)?;
                if cx.state.clusters.values().any(|c| c.name == name) {
                    return Err(DomainError::Duplicate {
                        kind: "cluster",
                        name,
                    });
                }
                let cluster = Cluster {
                    id: ClusterId::from(cx.new_id(ClusterId::PREFIX)),
                    name,
                    api_server_url: validate::https_url("api_server_url", &api_server_url)?,
                    ca_bundle: validate::ca_bundle("ca_bundle", &ca_bundle)?,
                    created_at: cx.now,
                    webhook_secret_hash: None,
                };
                let id = cluster.id.to_string();
                cx.put_cluster(cluster);
                Ok(id)
            }
            ClusterCommand::Update {
                cluster,
                api_server_url,
                ca_bundle,
            } => {
                let mut updated = resolve::cluster(cx.state, cluster.as_str())?.clone();
                if let Some(url) = api_server_url {
                    updated.api_server_url = validate::https_url("api_server_url", &url)?;
                }
                if let Some(ca) = ca_bundle {
                    updated.ca_bundle = validate::ca_bundle("ca_bundle", &ca)?;
                }
                let id = updated.id.to_string();
                cx.put_cluster(updated);
                Ok(id)
            }
            ClusterCommand::IssueWebhookCredential {
                cluster,
                secret_hash,
            } => {
                let mut updated = resolve::cluster(cx.state, cluster.as_str())?.clone();
                updated.webhook_secret_hash = Some(secret_hash);
                let id = updated.id.to_string();
                cx.put_cluster(updated);
                Ok(id)
            }
            ClusterCommand::Delete { cluster } => {
                let id = resolve::cluster(cx.state, cluster.as_str())?.id.clone();
                cx.delete_cluster(&id);
                Ok(id.to_string())
            }
        }
    }
}
