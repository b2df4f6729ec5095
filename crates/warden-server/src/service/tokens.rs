//! Issuing credentials: tokens (personal and org) and clusters' webhook credentials. The
//! secret is made here and returned once; the core and the store see only its hash.

use std::sync::Arc;

use warden_core::command::{
    ClusterCommand, Key, NewToken, ScopeInput, TokenCommand, TokenLifetime,
};
use warden_core::token::SecretKind;
use warden_core::{Actor, ClusterId, OrgId, TokenId};

use super::context::new_secret;
use super::{CompiledOrg, Service, ServiceError};

/// Whose a new token is.
#[derive(Debug, Clone)]
pub enum TokenFor {
    /// A personal token of this principal (a user by id or email, a service account by id).
    Personal(Key),
    /// An org token, acting as a service account created with it.
    Org,
}

/// A new token, but its secret.
#[derive(Debug, Clone, Default)]
pub struct TokenSpec {
    pub name: String,
    pub note: String,
    pub lifetime: TokenLifetime,
    pub scope: ScopeInput,
}

/// A token just created: the organization after it, the secret (shown once) and the id.
/// `Debug` does not print the secret.
#[derive(Clone)]
pub struct IssuedToken {
    pub compiled: Arc<CompiledOrg>,
    pub secret: String,
    pub id: TokenId,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Service {
    /// Creates a token on behalf of `actor`; when the actor is an API caller, `presented` is
    /// the token it called with, which must still be valid when the write runs.
    pub async fn issue_token(
        self: &Arc<Self>,
        org: &OrgId,
        actor: &Actor,
        presented: Option<TokenId>,
        owner: TokenFor,
        spec: TokenSpec,
    ) -> Result<IssuedToken, ServiceError> {
        let kind = match owner {
            TokenFor::Personal(_) => SecretKind::Personal,
            TokenFor::Org => SecretKind::Org,
        };
        let secret = new_secret(kind);
        let token = NewToken {
            name: spec.name,
            note: spec.note,
            lifetime: spec.lifetime,
            scope: spec.scope,
            secret_hash: secret.hash_hex,
            display_prefix: secret.display_prefix,
        };
        let command = match owner {
            TokenFor::Personal(owner) => TokenCommand::CreatePersonal { owner, token },
            TokenFor::Org => TokenCommand::CreateOrg { token },
        };
        let written = self
            .execute_presenting(org, actor, presented, command.into())
            .await?;
        let id = TokenId::from(written.target().to_string());
        Ok(IssuedToken {
            compiled: written.compiled,
            secret: secret.secret,
            id,
        })
    }

    /// Creates an unscoped personal token for `owner` on behalf of `actor` (the owner itself,
    /// or the system). Returns the organization after it, the secret (shown once) and the
    /// token id.
    pub async fn issue_personal_token(
        self: &Arc<Self>,
        org: &OrgId,
        actor: &Actor,
        owner: Key,
        name: &str,
        note: &str,
        lifetime: TokenLifetime,
    ) -> Result<(Arc<CompiledOrg>, String, TokenId), ServiceError> {
        let spec = TokenSpec {
            name: name.to_string(),
            note: note.to_string(),
            lifetime,
            scope: ScopeInput::default(),
        };
        let issued = self
            .issue_token(org, actor, None, TokenFor::Personal(owner), spec)
            .await?;
        Ok((issued.compiled, issued.secret, issued.id))
    }

    /// A new webhook credential for `cluster` (the previous one stops working at once).
    pub async fn issue_webhook_credential(
        self: &Arc<Self>,
        org: &OrgId,
        actor: &Actor,
        presented: Option<TokenId>,
        cluster: Key,
    ) -> Result<(Arc<CompiledOrg>, String, ClusterId), ServiceError> {
        let secret = new_secret(SecretKind::Webhook);
        let command = ClusterCommand::IssueWebhookCredential {
            cluster,
            secret_hash: secret.hash_hex,
        };
        let written = self
            .execute_presenting(org, actor, presented, command.into())
            .await?;
        let id = ClusterId::from(written.target().to_string());
        Ok((written.compiled, secret.secret, id))
    }
}
