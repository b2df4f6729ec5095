//! The caller's organization.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::model::{CreatedToken, User, Written};
use crate::{Client, ClientError, Method};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Organization {
    /// Six lowercase hex digits.
    pub id: String,
    pub name: String,
    /// The first user, whom only a platform operator can change.
    pub default_admin: String,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    pub revision: u64,
}

/// The changes an organization admin may make to the organization: its name. (The default
/// admin is changed only by a platform operator.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OrganizationUpdate {
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 128,
            pattern = r"^[^\u0000-\u001F\u007F-\u009F\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF0-\uFFF8]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF0-\uFFF8][^\u0000-\u001F\u007F-\u009F\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF0-\uFFF8]*$"
        )
    )]
    pub name: String,
}

/// A new organization with its first admin and that admin's token (shown once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreatedOrganization {
    pub organization: Organization,
    pub admin: User,
    /// The first admin's token (shown once), unless they were invited by email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<CreatedToken>,
    /// With `admin_access: email`: where the link to set a password went.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub welcome_email_sent_to: Option<String>,
}

impl Client {
    /// `GET /v1/organization`: the caller's organization.
    pub async fn organization(&self) -> Result<Organization, ClientError> {
        self.get(&["v1", "organization"]).await
    }

    /// `PATCH /v1/organization`: renames the caller's organization.
    pub async fn rename_organization(
        &self,
        name: &str,
    ) -> Result<Written<Organization>, ClientError> {
        let body = OrganizationUpdate {
            name: name.to_string(),
        };
        self.send_json(Method::PATCH, &["v1", "organization"], &body)
            .await
    }
}
