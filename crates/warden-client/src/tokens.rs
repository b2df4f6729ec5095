//! API access tokens. Personal tokens: the caller's own, optionally narrowed to namespaces and
//! clusters, and (for IAM viewers and admins) anyone's. Org tokens (the legacy model): the
//! organization's, managed by IAM admins (`/v1/org-tokens`).

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::model::{List, Principal, Written};
use crate::{Client, ClientError, Method};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// Belongs to one principal and acts with its permissions, narrowed by its scope.
    Personal,
    /// The organization's (legacy model): acts as its own service account, in its
    /// namespaces only.
    Org,
    /// A SCIM bearer token: the identity provider's provisioning client, accepted only under
    /// `/scim/v2/`.
    Scim,
}

/// A token named in another resource (a user's org tokens).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TokenSummary {
    pub id: String,
    pub name: String,
    pub kind: TokenKind,
}

/// A namespace or cluster a token is narrowed to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ScopeItem {
    pub id: String,
    /// `None` once the namespace or cluster is deleted (its id stays and matches nothing,
    /// so the token is never widened).
    pub name: Option<String>,
}

/// How long a token lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub enum TokenLifetime {
    #[serde(rename = "1h")]
    OneHour,
    #[serde(rename = "8h")]
    EightHours,
    #[default]
    #[serde(rename = "30d")]
    OneMonth,
    #[serde(rename = "90d")]
    NinetyDays,
    #[serde(rename = "1y")]
    OneYear,
    #[serde(rename = "never")]
    Never,
}

impl TokenLifetime {
    pub const ALL: [TokenLifetime; 6] = [
        TokenLifetime::OneHour,
        TokenLifetime::EightHours,
        TokenLifetime::OneMonth,
        TokenLifetime::NinetyDays,
        TokenLifetime::OneYear,
        TokenLifetime::Never,
    ];

    /// How the lifetime is written (`1h`, `30d`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            TokenLifetime::OneHour => "1h",
            TokenLifetime::EightHours => "8h",
            TokenLifetime::OneMonth => "30d",
            TokenLifetime::NinetyDays => "90d",
            TokenLifetime::OneYear => "1y",
            TokenLifetime::Never => "never",
        }
    }

    pub fn parse(text: &str) -> Option<TokenLifetime> {
        Self::ALL.into_iter().find(|l| l.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Token {
    pub id: String,
    pub kind: TokenKind,
    /// The principal the token acts as.
    pub owner: Principal,
    pub name: String,
    pub note: String,
    /// The first characters of the secret.
    pub display_prefix: String,
    /// The id of the principal who created it.
    pub created_by: String,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    /// The namespaces it is narrowed to (an org token: the only ones it acts in; none: a
    /// blank org token, whose rights come only from RBAC bound to `kubernetes_username`).
    #[serde(default)]
    pub namespaces: Vec<ScopeItem>,
    /// The clusters it is narrowed to (none: every cluster of the organization).
    #[serde(default)]
    pub clusters: Vec<ScopeItem>,
    /// The Kubernetes user name the token authenticates as (`warden:<org>:user:<email>`,
    /// `warden:<org>:serviceaccount:<id>`): the subject to bind custom RBAC to.
    pub kubernetes_username: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    /// Optional; blank means no name.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 128,
            pattern = r"^[^\u0000-\u001F\u007F-\u009F\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF0-\uFFF8]*$"
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
    pub note: String,
    /// The token's lifetime (default `30d`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<TokenLifetime>,
    /// Namespaces (ids or names) to narrow it to; none: not narrowed (a personal token) or
    /// a blank token (an org token).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(max_items = 1000))]
    pub namespaces: Vec<String>,
    /// Clusters (ids or names) to narrow it to; none: every cluster. Its kubeconfig has one
    /// context per cluster.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(max_items = 1000))]
    pub clusters: Vec<String>,
}

/// An edit of a token: what is given changes, the rest stays. Never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TokenUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 128))]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 1024))]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_items = 1000))]
    pub namespaces: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_items = 1000))]
    pub clusters: Option<Vec<String>>,
}

/// A token and its secret: the only time the secret is shown. `Debug` does not print it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreatedToken {
    pub revision: u64,
    pub token: Token,
    pub secret: String,
    /// A kubeconfig (`cw-kubeconfig`) embedding the secret: one context per cluster of the
    /// token's scope (every cluster of the organization when it names none). Shown once,
    /// like the secret.
    pub kubeconfig: String,
}

impl std::fmt::Debug for CreatedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedToken")
            .field("revision", &self.revision)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// `GET /v1/tokens`: the caller's own tokens.
    pub async fn tokens(&self) -> Result<List<Token>, ClientError> {
        self.get(&["v1", "tokens"]).await
    }

    /// `GET /v1/tokens?user=`: one principal's tokens (a user's id or email, a service
    /// account's id, or `me`); another's need `iam.api_tokens.list`.
    pub async fn tokens_of(&self, user: &str) -> Result<List<Token>, ClientError> {
        self.call(
            Method::GET,
            &["v1", "tokens"],
            &[("user", user.to_string())],
            None,
        )
        .await
    }

    /// `GET /v1/tokens?all=true`: every principal's tokens (needs `iam.api_tokens.list`).
    pub async fn all_tokens(&self) -> Result<List<Token>, ClientError> {
        self.call(
            Method::GET,
            &["v1", "tokens"],
            &[("all", "true".to_string())],
            None,
        )
        .await
    }

    /// `GET /v1/tokens/{token}`.
    pub async fn token(&self, id: &str) -> Result<Token, ClientError> {
        self.get(&["v1", "tokens", id]).await
    }

    /// `POST /v1/tokens`: a new personal token; its secret is in the answer, and only there.
    pub async fn create_token(&self, input: &TokenInput) -> Result<CreatedToken, ClientError> {
        self.send_json(Method::POST, &["v1", "tokens"], input).await
    }

    /// `PATCH /v1/tokens/{token}`: renames, re-notes or re-scopes one of the caller's own
    /// personal tokens.
    pub async fn update_token(
        &self,
        id: &str,
        update: &TokenUpdate,
    ) -> Result<Written<Token>, ClientError> {
        self.send_json(Method::PATCH, &["v1", "tokens", id], update)
            .await
    }

    /// `GET /v1/org-tokens`: the organization's tokens (needs `iam.api_tokens.list`).
    pub async fn org_tokens(&self) -> Result<List<Token>, ClientError> {
        self.get(&["v1", "org-tokens"]).await
    }

    /// `POST /v1/org-tokens`: a new org token; its secret and kubeconfig are in the answer,
    /// and only there.
    pub async fn create_org_token(&self, input: &TokenInput) -> Result<CreatedToken, ClientError> {
        self.send_json(Method::POST, &["v1", "org-tokens"], input)
            .await
    }

    /// `GET /v1/org-tokens/{token}`.
    pub async fn org_token(&self, id: &str) -> Result<Token, ClientError> {
        self.get(&["v1", "org-tokens", id]).await
    }

    /// `PATCH /v1/org-tokens/{token}`: name, note and namespaces; never the secret.
    pub async fn update_org_token(
        &self,
        id: &str,
        update: &TokenUpdate,
    ) -> Result<Written<Token>, ClientError> {
        self.send_json(Method::PATCH, &["v1", "org-tokens", id], update)
            .await
    }

    /// `DELETE /v1/org-tokens/{token}`: the token stops working at once.
    pub async fn delete_org_token(&self, id: &str) -> Result<Written<Token>, ClientError> {
        self.call(Method::DELETE, &["v1", "org-tokens", id], &[], None)
            .await
    }

    /// `GET /v1/users/{user}/org-tokens`: the org tokens a user created (they keep working
    /// after the user leaves).
    pub async fn org_tokens_created_by(&self, user: &str) -> Result<List<Token>, ClientError> {
        self.get(&["v1", "users", user, "org-tokens"]).await
    }

    /// `DELETE /v1/users/{user}/org-tokens`: revokes every org token a user created.
    pub async fn revoke_org_tokens_created_by(
        &self,
        user: &str,
    ) -> Result<Written<Token>, ClientError> {
        self.call(
            Method::DELETE,
            &["v1", "users", user, "org-tokens"],
            &[],
            None,
        )
        .await
    }

    /// `DELETE /v1/tokens/{token}`: revokes one of the caller's tokens, or (with
    /// `iam.api_tokens.delete`) anyone's.
    pub async fn delete_token(&self, id: &str) -> Result<Written<Token>, ClientError> {
        self.call(Method::DELETE, &["v1", "tokens", id], &[], None)
            .await
    }
}
