//! Errors of the domain. Each maps to one row of the table of stable codes ([`code`]).

pub mod code;

pub use code::{Code, ErrorCode};

/// Why a command or a question was refused. Nothing was changed when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("{field}: {message}")]
    InvalidField { field: String, message: String },
    #[error("{kind} `{id}` does not exist in this organization")]
    NotFound { kind: &'static str, id: String },
    #[error("a {kind} named `{name}` already exists in this organization")]
    Duplicate { kind: &'static str, name: String },
    #[error("unknown role `{0}`")]
    UnknownRole(String),
    #[error("unknown {kind} `{id}`")]
    UnknownPrincipal { kind: &'static str, id: String },
    #[error("`{0}` is not a catalog action or alias")]
    UnknownAction(String),
    #[error("unknown namespace permission `{0}`")]
    UnknownNamespacePermission(String),
    #[error("this call needs the action `{action}`, which no policy grants to the caller")]
    Forbidden { action: String },
    #[error("this change would leave the organization without an active admin")]
    LastAdmin,
    #[error(
        "administrators may not change their own organization-level privileges; another admin must"
    )]
    SelfPrivilegeChange,
    #[error("the organization's default admin must stay an active member of `admin`; only a platform operator can change it")]
    DefaultAdminProtected,
    #[error("legacy group `{0}` cannot be renamed or deleted")]
    LegacyGroupProtected(String),
    #[error("default policy `{0}` cannot be deleted or renamed")]
    DefaultPolicyProtected(String),
    #[error("the roles of default policy `{policy}` are fixed to [{roles}]; only its principals may change")]
    DefaultPolicyRolesFixed { policy: String, roles: String },
    #[error("default policy `{policy}` must keep a rule for its group `{group}`; only other principals may be added or removed")]
    DefaultPolicyGroupRequired { policy: String, group: String },
    #[error("group `{group}` is named by access policies [{policies}]; remove those rules first")]
    GroupInUse { group: String, policies: String },
    #[error(
        "namespace permission `{0}` is reserved: only a platform operator can grant or remove it"
    )]
    ReservedNamespacePermission(String),
    #[error("only a platform operator may do this")]
    OperatorOnly,
}

impl ErrorCode for DomainError {
    fn error_code(&self) -> Code {
        match self {
            DomainError::InvalidField { .. } => Code::InvalidField,
            DomainError::NotFound { .. } => Code::NotFound,
            DomainError::Duplicate { .. } => Code::DuplicateName,
            DomainError::UnknownRole(_) => Code::UnknownRole,
            DomainError::UnknownPrincipal { .. } => Code::UnknownPrincipal,
            DomainError::UnknownAction(_) => Code::UnknownAction,
            DomainError::UnknownNamespacePermission(_) => Code::UnknownNamespacePermission,
            DomainError::Forbidden { .. } => Code::Forbidden,
            DomainError::LastAdmin => Code::LastAdmin,
            DomainError::SelfPrivilegeChange => Code::SelfPrivilegeChange,
            DomainError::DefaultAdminProtected => Code::DefaultAdminProtected,
            DomainError::LegacyGroupProtected(_) => Code::LegacyGroupProtected,
            DomainError::DefaultPolicyProtected(_) => Code::DefaultPolicyProtected,
            DomainError::DefaultPolicyRolesFixed { .. } => Code::DefaultPolicyRolesFixed,
            DomainError::DefaultPolicyGroupRequired { .. } => Code::DefaultPolicyGroupRequired,
            DomainError::GroupInUse { .. } => Code::GroupInUse,
            DomainError::ReservedNamespacePermission(_) => Code::ReservedNamespacePermission,
            DomainError::OperatorOnly => Code::OperatorOnly,
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

    /// The action the caller lacked, for `forbidden`.
    pub fn action(&self) -> Option<&str> {
        match self {
            DomainError::Forbidden { action } => Some(action),
            _ => None,
        }
    }

    pub(crate) fn invalid(field: &str, message: impl Into<String>) -> DomainError {
        DomainError::InvalidField {
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// `not_found` for an entity of `kind` named `id` (cut to a sane length).
    pub fn not_found(kind: &'static str, id: &str) -> DomainError {
        DomainError::NotFound {
            kind,
            id: id.chars().take(crate::validate::MAX_NAME).collect(),
        }
    }
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
