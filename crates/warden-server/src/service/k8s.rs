//! What Kubernetes clusters ask of Warden through the webhooks: the calling cluster is
//! authenticated by its webhook credential (a secret `warden k8s webhook-config` issues per
//! cluster), then a TokenReview turns a Warden token into the Kubernetes identity it stands
//! for, and a SubjectAccessReview is answered from the organization's snapshot. Everything is
//! answered from memory.

use std::net::IpAddr;
use std::sync::Arc;

use warden_core::k8s::K8sIdentity;
use warden_core::token::{self, SecretKind};
use warden_core::{k8s, ClusterId, OrgId};

use super::context::now;
use super::{CompiledOrg, Service, ServiceError};

/// A cluster calling a webhook: authenticated by its webhook credential.
#[derive(Debug, Clone)]
pub struct ClusterCaller {
    pub org: OrgId,
    pub cluster: ClusterId,
    /// The organization as it was when the cluster was authenticated.
    pub compiled: Arc<CompiledOrg>,
}

/// A TokenReview's answer: the identity a token stands for, or why it stands for none (said
/// to the cluster as the review's `error`, never as an HTTP error).
#[derive(Debug)]
pub enum TokenReviewOutcome {
    Authenticated(K8sIdentity),
    Refused(&'static str),
}

impl Service {
    /// Verifies a cluster's webhook credential presented from `address` (refused at once if
    /// that address failed too often lately; a failure counts against it).
    pub async fn authenticate_cluster_from(
        &self,
        secret: &str,
        address: Option<IpAddr>,
    ) -> Result<ClusterCaller, ServiceError> {
        self.throttled(address, self.authenticate_cluster(secret))
            .await
    }

    async fn authenticate_cluster(&self, secret: &str) -> Result<ClusterCaller, ServiceError> {
        match token::parse_secret(secret) {
            Ok(SecretKind::Webhook) => {}
            _ => {
                return Err(ServiceError::Unauthenticated(
                    "the webhooks take a cluster's webhook credential \
                     (`warden k8s webhook-config --cluster NAME` issues one)",
                ))
            }
        }
        let hash = token::hash_secret(secret);
        let org = self.org_of_secret(hash).await?;
        let compiled = self.serving(&org).await?;
        let cluster =
            compiled
                .webhooks
                .get(&hash)
                .cloned()
                .ok_or(ServiceError::Unauthenticated(
                    "unknown or replaced webhook credential",
                ))?;
        Ok(ClusterCaller {
            org,
            cluster,
            compiled,
        })
    }

    /// A TokenReview: the Kubernetes identity of a Warden token of the calling cluster's
    /// organization, valid now and for this cluster. Never an error: a refusal says why.
    pub fn review_token(&self, caller: &ClusterCaller, presented: &str) -> TokenReviewOutcome {
        match token::parse_secret(presented) {
            Ok(SecretKind::Personal | SecretKind::Org) => {}
            Ok(_) => return TokenReviewOutcome::Refused("not a Warden access token"),
            Err(e) => {
                return TokenReviewOutcome::Refused(match e {
                    token::SecretFormatError::UnknownPrefix => "not a Warden access token",
                    token::SecretFormatError::Malformed => "malformed token",
                    token::SecretFormatError::BadChecksum => "token checksum does not match",
                })
            }
        }
        // The organization as served now (a token revoked since the cluster's call began is
        // refused), and only the cluster's own organization: another's token is unknown here.
        let compiled = self
            .compiled(&caller.org)
            .unwrap_or_else(|| caller.compiled.clone());
        let hash = token::hash_secret(presented);
        let Some(entry) = compiled.tokens.get(&hash) else {
            return TokenReviewOutcome::Refused("unknown or revoked token");
        };
        let now = now();
        if entry.expires_at.is_some_and(|at| at <= now) {
            return TokenReviewOutcome::Refused("the token has expired");
        }
        if !compiled.snapshot.is_active(entry.owner.as_str()) {
            return TokenReviewOutcome::Refused("the token's principal is deactivated");
        }
        let state = compiled.state();
        let Some(token) = state.tokens.get(&entry.id) else {
            return TokenReviewOutcome::Refused("unknown or revoked token");
        };
        if !token.scope.allows_cluster(&caller.cluster) {
            return TokenReviewOutcome::Refused("the token is not valid for this cluster");
        }
        match k8s::identity(state, token) {
            Some(identity) => {
                self.record_use(entry, now);
                TokenReviewOutcome::Authenticated(identity)
            }
            None => TokenReviewOutcome::Refused("unknown or revoked token"),
        }
    }
}
