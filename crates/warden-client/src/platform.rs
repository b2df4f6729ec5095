//! `/v1/platform`: what platform operators do (an operator token, `wdn_opr_…`):
//! organizations, their default admins, reserved namespace keys, removing users, operators.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::model::{
    CreatedOrganization, InvitationInput, List, NamespaceAccess, Organization, SentInvitation,
    Token, TokenLifetime, User, Written,
};
use crate::{Client, ClientError, Method};

/// A platform operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Operator {
    pub id: String,
    pub name: String,
    pub email: String,
    /// `operator:<id>`, or `system` for the first (bootstrap).
    pub created_by: String,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OperatorInput {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 128))]
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 3, max_length = 254))]
    pub email: String,
}

/// A new operator and its token's secret, shown once.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreatedOperator {
    pub operator: Operator,
    pub secret: String,
}

impl std::fmt::Debug for CreatedOperator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedOperator")
            .field("operator", &self.operator)
            .finish_non_exhaustive()
    }
}

/// An organization as operators list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PlatformOrganization {
    pub id: String,
    pub name: String,
    pub default_admin: String,
    pub default_admin_email: String,
    pub users: u64,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    pub revision: u64,
}

/// The first user of a new organization (its default admin), or a user an operator adds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PlatformUserInput {
    #[cfg_attr(feature = "openapi", schema(min_length = 3, max_length = 254))]
    pub email: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 128))]
    pub first_name: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 128))]
    pub last_name: String,
    /// Groups (id or name) to put the user in (not for the first user: they join `admin`).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 100))]
    pub groups: Vec<String>,
    /// Lifetime of the user's first personal token.
    #[serde(default)]
    pub token_expires_in: TokenLifetime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OrganizationInput {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 128))]
    pub name: String,
    /// The first user, who becomes the default admin.
    pub admin: PlatformUserInput,
    /// How the first admin gets in: a personal token in the answer (`token`, the default),
    /// or an email with a link to set their password (`email`; the link lives as long as an
    /// invitation's), after which they sign in.
    #[serde(default)]
    pub admin_access: AdminAccess,
}

/// How the first admin of a new organization gets in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AdminAccess {
    #[default]
    Token,
    Email,
}

/// A user an operator added, with their first token (shown once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AddedUser {
    pub revision: u64,
    pub user: User,
    pub token: crate::model::CreatedToken,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DefaultAdminInput {
    /// A user id or email: an active user, added to `admin` if not in it.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 254))]
    pub user: String,
}

/// Keys to add and remove for one user in one namespace (operators: reserved keys too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NamespaceKeysInput {
    /// Namespace id or name.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 128))]
    pub namespace: String,
    /// User id or email.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 254))]
    pub user: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 64))]
    pub add: Vec<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 64))]
    pub remove: Vec<String>,
}

/// A user removed from an organization: their personal tokens died with them; the tokens
/// they created for others did not (the seeds' rule) and are listed to review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RemovedUser {
    pub revision: u64,
    pub user: User,
    /// How many personal tokens of theirs were deleted.
    pub tokens_deleted: u64,
    /// Tokens they created that others hold, still working.
    pub tokens_created_for_others: Vec<Token>,
}

impl Client {
    /// `GET /v1/platform/operators`.
    pub async fn operators(&self) -> Result<List<Operator>, ClientError> {
        self.get(&["v1", "platform", "operators"]).await
    }

    /// `POST /v1/platform/operators`: another operator, with its token (shown once).
    pub async fn create_operator(
        &self,
        input: &OperatorInput,
    ) -> Result<CreatedOperator, ClientError> {
        self.send_json(Method::POST, &["v1", "platform", "operators"], input)
            .await
    }

    /// `GET /v1/platform/organizations`.
    pub async fn platform_organizations(&self) -> Result<List<PlatformOrganization>, ClientError> {
        self.get(&["v1", "platform", "organizations"]).await
    }

    /// `POST /v1/platform/organizations`: an organization, its default admin and their token.
    pub async fn create_organization(
        &self,
        input: &OrganizationInput,
    ) -> Result<CreatedOrganization, ClientError> {
        self.send_json(Method::POST, &["v1", "platform", "organizations"], input)
            .await
    }

    /// `PUT /v1/platform/organizations/{org}/default-admin`.
    pub async fn set_default_admin(
        &self,
        org: &str,
        user: &str,
    ) -> Result<Written<Organization>, ClientError> {
        let body = DefaultAdminInput {
            user: user.to_string(),
        };
        self.send_json(
            Method::PUT,
            &["v1", "platform", "organizations", org, "default-admin"],
            &body,
        )
        .await
    }

    /// `POST /v1/platform/organizations/{org}/users`: an active user with a first token.
    pub async fn platform_add_user(
        &self,
        org: &str,
        input: &PlatformUserInput,
    ) -> Result<AddedUser, ClientError> {
        self.send_json(
            Method::POST,
            &["v1", "platform", "organizations", org, "users"],
            input,
        )
        .await
    }

    /// `DELETE /v1/platform/organizations/{org}/users/{user}`: removes a user completely.
    pub async fn platform_remove_user(
        &self,
        org: &str,
        user: &str,
    ) -> Result<RemovedUser, ClientError> {
        self.call(
            Method::DELETE,
            &["v1", "platform", "organizations", org, "users", user],
            &[],
            None,
        )
        .await
    }

    /// `POST /v1/platform/organizations/{org}/namespace-keys`: adds and removes keys,
    /// reserved ones included.
    pub async fn platform_namespace_keys(
        &self,
        org: &str,
        input: &NamespaceKeysInput,
    ) -> Result<Written<NamespaceAccess>, ClientError> {
        self.send_json(
            Method::POST,
            &["v1", "platform", "organizations", org, "namespace-keys"],
            input,
        )
        .await
    }

    /// `POST /v1/platform/organizations/{org}/invitations`: an operator's invitation (it may
    /// give reserved keys).
    pub async fn platform_invite(
        &self,
        org: &str,
        input: &InvitationInput,
    ) -> Result<SentInvitation, ClientError> {
        self.send_json(
            Method::POST,
            &["v1", "platform", "organizations", org, "invitations"],
            input,
        )
        .await
    }
}
