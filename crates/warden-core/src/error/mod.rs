//! Errors of the domain. Each maps to one row of the table of stable codes ([`code`]).

pub mod code;

use crate::suggest::{closest, hint};

pub use code::{Code, ErrorCode};

/// Why a command or a question was refused. Nothing was changed when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("{field}: {message}")]
    InvalidField { field: String, message: String },
    #[error("{kind} `{id}` does not exist in this organization{}", hint(.did_you_mean))]
    NotFound {
        kind: &'static str,
        id: String,
        did_you_mean: Option<String>,
    },
    #[error("a {kind} named `{name}` already exists in this organization")]
    Duplicate { kind: &'static str, name: String },
    #[error("the {kind} name `{name}` could be mistaken for the existing `{resembles}`; choose a name that looks different")]
    Confusable {
        kind: &'static str,
        name: String,
        resembles: String,
    },
    #[error("unknown role `{name}`{}", hint(.did_you_mean))]
    UnknownRole {
        name: String,
        did_you_mean: Option<String>,
    },
    #[error("unknown {kind} `{id}`{}", hint(.did_you_mean))]
    UnknownPrincipal {
        kind: &'static str,
        id: String,
        did_you_mean: Option<String>,
    },
    #[error("`{name}` is not a catalog action or alias{}", hint(.did_you_mean))]
    UnknownAction {
        name: String,
        did_you_mean: Option<String>,
    },
    #[error("unknown namespace permission `{key}`{}", hint(.did_you_mean))]
    UnknownNamespacePermission {
        key: String,
        did_you_mean: Option<String>,
    },
    #[error("this organization has no namespace `{name}`{}", hint(.did_you_mean))]
    UnknownNamespace {
        name: String,
        did_you_mean: Option<String>,
    },
    #[error("this organization has no cluster `{name}`{}", hint(.did_you_mean))]
    UnknownCluster {
        name: String,
        did_you_mean: Option<String>,
    },
    #[error(
        "this call needs the action `{action}`, which no policy grants to the caller{}",
        remedy(.roles)
    )]
    Forbidden {
        action: String,
        /// The catalog's roles that contain the action, narrowest first: a rule granting
        /// one of them to the caller, or to a group they are in, would allow the call.
        roles: Vec<String>,
    },
    #[error("this change would leave the organization without an active admin")]
    LastAdmin,
    #[error(
        "administrators may not change their own organization-level privileges, nor the roles of a group they belong to; another admin must, or for the default `admin` policy a platform operator (`warden policies set-roles admin --org ORG`)"
    )]
    SelfPrivilegeChange,
    #[error("the organization's default admin must stay an active member of `admin`; only a platform operator can change it (`warden org set-default-admin`)")]
    DefaultAdminProtected,
    #[error("`{0}` is the organization's default admin: make another user the default admin first (`warden org set-default-admin`)")]
    DefaultAdminRemoval(String),
    #[error("legacy group `{0}` cannot be renamed or deleted")]
    LegacyGroupProtected(String),
    #[error("default policy `{0}` cannot be deleted or renamed")]
    DefaultPolicyProtected(String),
    #[error("policy `{0}` is not a default policy: only the five default policies (admin, write, read, metrics, billing_viewer) have catalog roles to reset to")]
    NotADefaultPolicy(String),
    #[error("service account `{0}` is managed by the platform and cannot be changed or deleted")]
    SystemManaged(String),
    #[error("default policy `{policy}` must keep a rule for its group `{group}`; only other principals may be added or removed")]
    DefaultPolicyGroupRequired { policy: String, group: String },
    #[error("group `{group}` is named by access policies [{policies}]; remove those rules first")]
    GroupInUse { group: String, policies: String },
    #[error(
        "namespace permission `{0}` is reserved: only a platform operator can grant or remove it (`warden org namespace-keys`)"
    )]
    ReservedNamespacePermission(String),
    /// The operator command that does it.
    #[error("only a platform operator may do this (`{0}`)")]
    OperatorOnly(&'static str),
    #[error("`{0}` is already a member of this organization")]
    AlreadyMember(String),
    #[error("`{0}` already has a pending invitation (`{1}`): resend or edit it instead")]
    AlreadyInvited(String, String),
    #[error("invitation `{id}` is {status}: only a pending invitation can be changed")]
    InvitationNotPending { id: String, status: &'static str },
    #[error("this invitation was revoked; ask an admin of the organization for a new one")]
    InvitationRevoked,
    #[error("this invitation expired; ask an admin of the organization to resend it")]
    InvitationExpired,
    #[error("this invitation was already accepted; sign in instead")]
    InvitationAccepted,
    #[error("this invitation link is not valid (mistyped, or replaced by a newer one)")]
    InvitationLinkInvalid,
    #[error("this password reset link is not valid (mistyped, or not ours)")]
    PasswordResetInvalid,
    #[error("this password reset link expired; ask for a new one")]
    PasswordResetExpired,
    #[error("this password reset link was used already; ask for a new one")]
    PasswordResetUsed,
    #[error("a form post needs the session's CSRF token in the X-CSRF-Token header")]
    CsrfFailed,
    #[error(
        "SAML single sign-on is not configured for this organization (`warden sso configure`)"
    )]
    SsoNotConfigured,
    /// What SSO enforcement refuses, and the way in that remains.
    #[error("this organization enforces single sign-on: {0}")]
    SsoEnforced(String),
    #[error("single sign-on is enforced and `{0}` is its break-glass admin, who must stay an active IAM admin; name another break-glass admin first (`warden sso enforce --break-glass EMAIL`), or stop enforcing SSO")]
    BreakGlassRequired(String),
    #[error("{0} SCIM token(s) depend on the SAML configuration; delete them first (`warden scim-tokens delete`)")]
    ProvisioningActive(usize),
    #[error("`{0}` is the name of a legacy group; a group pushed by the identity provider is never merged into it: rename the group in the identity provider")]
    LegacyGroupName(String),
}

impl ErrorCode for DomainError {
    fn error_code(&self) -> Code {
        match self {
            DomainError::InvalidField { .. } => Code::InvalidField,
            DomainError::NotFound { .. } => Code::NotFound,
            DomainError::Duplicate { .. } => Code::DuplicateName,
            DomainError::Confusable { .. } => Code::ConfusableName,
            DomainError::UnknownRole { .. } => Code::UnknownRole,
            DomainError::UnknownPrincipal { .. } => Code::UnknownPrincipal,
            DomainError::UnknownAction { .. } => Code::UnknownAction,
            DomainError::UnknownNamespacePermission { .. } => Code::UnknownNamespacePermission,
            DomainError::UnknownNamespace { .. } => Code::UnknownNamespace,
            DomainError::UnknownCluster { .. } => Code::UnknownCluster,
            DomainError::Forbidden { .. } => Code::Forbidden,
            DomainError::LastAdmin => Code::LastAdmin,
            DomainError::SelfPrivilegeChange => Code::SelfPrivilegeChange,
            DomainError::DefaultAdminProtected | DomainError::DefaultAdminRemoval(_) => {
                Code::DefaultAdminProtected
            }
            DomainError::LegacyGroupProtected(_) => Code::LegacyGroupProtected,
            DomainError::DefaultPolicyProtected(_) => Code::DefaultPolicyProtected,
            DomainError::NotADefaultPolicy(_) => Code::NotADefaultPolicy,
            DomainError::SystemManaged(_) => Code::SystemManaged,
            DomainError::DefaultPolicyGroupRequired { .. } => Code::DefaultPolicyGroupRequired,
            DomainError::GroupInUse { .. } => Code::GroupInUse,
            DomainError::ReservedNamespacePermission(_) => Code::ReservedNamespacePermission,
            DomainError::OperatorOnly(_) => Code::OperatorOnly,
            DomainError::AlreadyMember(_) => Code::AlreadyMember,
            DomainError::AlreadyInvited(..) => Code::AlreadyInvited,
            DomainError::InvitationNotPending { .. } => Code::InvitationNotPending,
            DomainError::InvitationRevoked => Code::InvitationRevoked,
            DomainError::InvitationExpired => Code::InvitationExpired,
            DomainError::InvitationAccepted => Code::InvitationAccepted,
            DomainError::InvitationLinkInvalid => Code::InvitationLinkInvalid,
            DomainError::PasswordResetInvalid => Code::PasswordResetInvalid,
            DomainError::PasswordResetExpired => Code::PasswordResetExpired,
            DomainError::PasswordResetUsed => Code::PasswordResetUsed,
            DomainError::CsrfFailed => Code::CsrfFailed,
            DomainError::SsoNotConfigured => Code::SsoNotConfigured,
            DomainError::SsoEnforced(_) => Code::SsoEnforced,
            DomainError::BreakGlassRequired(_) => Code::BreakGlassRequired,
            DomainError::ProvisioningActive(_) => Code::ProvisioningActive,
            DomainError::LegacyGroupName(_) => Code::LegacyGroupName,
        }
    }
}

impl DomainError {
    /// The stable code's name (`last_admin`, ...).
    pub fn code(&self) -> &'static str {
        self.error_code().name()
    }

    /// The input field at fault, for `invalid_field`.
    pub fn field(&self) -> Option<&str> {
        match self {
            DomainError::InvalidField { field, .. } => Some(field),
            _ => None,
        }
    }

    /// The known name closest to an unknown one ("did you mean …").
    pub fn did_you_mean(&self) -> Option<&str> {
        match self {
            DomainError::NotFound { did_you_mean, .. }
            | DomainError::UnknownRole { did_you_mean, .. }
            | DomainError::UnknownPrincipal { did_you_mean, .. }
            | DomainError::UnknownAction { did_you_mean, .. }
            | DomainError::UnknownNamespacePermission { did_you_mean, .. }
            | DomainError::UnknownNamespace { did_you_mean, .. }
            | DomainError::UnknownCluster { did_you_mean, .. } => did_you_mean.as_deref(),
            _ => None,
        }
    }

    /// The roles that would grant what the caller lacked, for `forbidden`.
    pub fn roles(&self) -> &[String] {
        match self {
            DomainError::Forbidden { roles, .. } => roles,
            _ => &[],
        }
    }

    /// The action the caller lacked, for `forbidden`.
    pub fn action(&self) -> Option<&str> {
        match self {
            DomainError::Forbidden { action, .. } => Some(action),
            _ => None,
        }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> DomainError {
        DomainError::InvalidField {
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// `not_found` for an entity of `kind` named `id` (cut to a sane length).
    pub fn not_found(kind: &'static str, id: &str) -> DomainError {
        DomainError::NotFound {
            kind,
            id: cut(id),
            did_you_mean: None,
        }
    }

    /// `unknown_principal` for a principal named in a request (no suggestion: who is in an
    /// organization is not something a typo should reveal).
    pub fn unknown_principal(kind: &'static str, id: &str) -> DomainError {
        DomainError::UnknownPrincipal {
            kind,
            id: cut(id),
            did_you_mean: None,
        }
    }

    /// `unknown_namespace`, with the closest of `known` names as a suggestion.
    pub fn unknown_namespace<'a>(
        name: &str,
        known: impl IntoIterator<Item = &'a str>,
    ) -> DomainError {
        DomainError::UnknownNamespace {
            name: cut(name),
            did_you_mean: closest(name, known),
        }
    }

    /// `not_found`, with the closest of `known` names as a suggestion.
    pub fn not_found_among<'a>(
        kind: &'static str,
        id: &str,
        known: impl IntoIterator<Item = &'a str>,
    ) -> DomainError {
        DomainError::NotFound {
            kind,
            id: cut(id),
            did_you_mean: closest(id, known),
        }
    }
}

/// The smallest change that would allow a refused call, as the end of its message.
fn remedy(roles: &[String]) -> String {
    match roles {
        [] => String::new(),
        [only] => format!(
            "; a rule granting the role `{only}` to the caller, or to a group they are in, would allow it"
        ),
        [first, rest @ ..] => format!(
            "; a rule granting the role `{first}` (or any of {}) to the caller, or to a group they are in, would allow it",
            rest.iter()
                .take(4)
                .map(|r| format!("`{r}`"))
                .collect::<Vec<_>>()
                .join(", ")
                + if rest.len() > 4 { ", …" } else { "" }
        ),
    }
}

/// A name as quoted back in an error: cut to a sane length, and with anything shaped like
/// a secret redacted (a token pasted where an id belongs is not echoed into messages, which
/// end up in logs).
pub(crate) fn cut(name: &str) -> String {
    crate::token::redact(name)
        .chars()
        .take(crate::validate::MAX_NAME)
        .collect()
}

/// A command of a batch was refused: which one, and why. Nothing of the batch was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("command {index} of the batch: {error}")]
pub struct BatchError {
    /// Position of the refused command in the batch (0-based).
    pub index: usize,
    pub error: DomainError,
}

impl ErrorCode for BatchError {
    fn error_code(&self) -> Code {
        self.error.error_code()
    }
}
