//! Personal API access tokens: the caller's own, and (for IAM viewers and admins) anyone's.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::model::{List, Principal, Written};
use crate::{Client, ClientError, Method};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// Belongs to one principal and acts with its permissions.
    Personal,
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
}

/// A token and its secret: the only time the secret is shown. `Debug` does not print it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreatedToken {
    pub revision: u64,
    pub token: Token,
    pub secret: String,
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

    /// `DELETE /v1/tokens/{token}`: revokes one of the caller's tokens, or (with
    /// `iam.api_tokens.delete`) anyone's.
    pub async fn delete_token(&self, id: &str) -> Result<Written<Token>, ClientError> {
        self.call(Method::DELETE, &["v1", "tokens", id], &[], None)
            .await
    }
}
