//! Errors of the domain, each with a stable machine-readable code.
//!
//! The codes are part of the API contract: clients match on them. The server maps each
//! code to an HTTP status in one table (warden-server `problem.rs`).

/// Why a command was refused. Nothing was changed when one is returned.
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

impl DomainError {
    /// The stable code clients match on.
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::InvalidField { .. } => "invalid_field",
            DomainError::NotFound { .. } => "not_found",
            DomainError::Duplicate { .. } => "duplicate_name",
            DomainError::UnknownRole(_) => "unknown_role",
            DomainError::UnknownPrincipal { .. } => "unknown_principal",
            DomainError::UnknownNamespacePermission(_) => "unknown_namespace_permission",
            DomainError::Forbidden { .. } => "forbidden",
            DomainError::LastAdmin => "last_admin",
            DomainError::SelfPrivilegeChange => "self_privilege_change",
            DomainError::DefaultAdminProtected => "default_admin_protected",
            DomainError::LegacyGroupProtected(_) => "legacy_group_protected",
            DomainError::DefaultPolicyProtected(_) => "default_policy_protected",
            DomainError::DefaultPolicyRolesFixed { .. } => "default_policy_roles_fixed",
            DomainError::DefaultPolicyGroupRequired { .. } => "default_policy_group_required",
            DomainError::GroupInUse { .. } => "group_in_use",
            DomainError::ReservedNamespacePermission(_) => "reserved_namespace_permission",
            DomainError::OperatorOnly => "operator_only",
        }
    }

    pub(crate) fn invalid(field: &str, message: impl Into<String>) -> DomainError {
        DomainError::InvalidField {
            field: field.to_string(),
            message: message.into(),
        }
    }
}
