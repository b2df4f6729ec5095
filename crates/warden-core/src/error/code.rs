//! The one table of stable error codes.
//!
//! Every error a client can meet has one row here: its machine-readable name, the HTTP status
//! it is answered with, and a short title. Clients match on the name; it never changes once
//! released. Every error type of Warden implements [`ErrorCode`]; renderers (RFC 9457 problem
//! details, SCIM errors, Kubernetes review statuses) turn a code into their own shape, so a
//! code is defined once and rendered many ways. README.md lists the same table; a test keeps
//! the two equal.

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident = ($name:literal, $status:literal, $title:literal), )*) => {
        /// A stable error code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
        }

        impl Code {
            /// Every code, in table order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The machine-readable name, such as `last_admin`.
            pub const fn name(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }

            /// The HTTP status the code is answered with.
            pub const fn status(self) -> u16 {
                match self { $(Code::$variant => $status,)* }
            }

            /// The SCIM `scimType` (RFC 7644 section 3.12) a SCIM client is answered with.
            pub const fn scim_type(self) -> Option<&'static str> {
                scim_type(self)
            }

            /// A short human title, the same for every occurrence of the code.
            pub const fn title(self) -> &'static str {
                match self { $(Code::$variant => $title,)* }
            }
        }
    };
}

error_codes! {
    /// The body is not JSON.
    MalformedJson = ("malformed_json", 400, "Malformed JSON"),
    /// The body has a field the endpoint does not know (named in `field`).
    UnknownField = ("unknown_field", 400, "Unknown field"),
    /// A SCIM `filter` that does not parse (scimType `invalidFilter`).
    ScimInvalidFilter = ("scim_invalid_filter", 400, "Invalid SCIM filter"),
    /// A SCIM PATCH `path` that does not parse or names no attribute (scimType `invalidPath`).
    ScimInvalidPath = ("scim_invalid_path", 400, "Invalid SCIM path"),
    /// A SCIM PATCH whose path or filter matches nothing to change (scimType `noTarget`).
    ScimNoTarget = ("scim_no_target", 400, "No SCIM target"),
    /// A SCIM attribute value of the wrong type or form (scimType `invalidValue`).
    ScimInvalidValue = ("scim_invalid_value", 400, "Invalid SCIM value"),
    /// A SCIM request body that is not a valid SCIM message (scimType `invalidSyntax`).
    ScimInvalidSyntax = ("scim_invalid_syntax", 400, "Invalid SCIM request"),
    /// A SCIM request changing a read-only attribute such as `id` (scimType `mutability`).
    ScimMutability = ("scim_mutability", 400, "SCIM attribute not mutable"),
    /// A SCIM request asking for more than the server returns at once (scimType `tooMany`).
    ScimTooMany = ("scim_too_many", 400, "Too many SCIM results"),
    /// Missing, malformed, unknown or revoked token, or a deactivated principal.
    Unauthenticated = ("unauthenticated", 401, "Authentication required"),
    /// The token's lifetime is over.
    TokenExpired = ("token_expired", 401, "Token expired"),
    /// A SAML response that fails a check (signature, audience, recipient, time, replay, unknown request): `detail` says which.
    SamlRejected = ("saml_rejected", 401, "SAML response rejected"),
    /// The caller lacks the action (named in `action`).
    Forbidden = ("forbidden", 403, "Forbidden"),
    /// A user may not change their own organization-level privileges.
    SelfPrivilegeChange = ("self_privilege_change", 403, "Own privileges cannot be changed"),
    /// Only a platform operator may demote or deactivate the first admin.
    DefaultAdminProtected = ("default_admin_protected", 403, "Default admin protected"),
    /// `w:pods` and `w:full` are granted only by platform operators.
    ReservedNamespacePermission = ("reserved_namespace_permission", 403, "Reserved namespace permission"),
    /// A state-changing call of a console session without its CSRF token (`X-CSRF-Token`).
    CsrfFailed = ("csrf_failed", 403, "CSRF token missing or wrong"),
    /// A platform-operator action.
    OperatorOnly = ("operator_only", 403, "Platform operators only"),
    /// The organization enforces SSO: password sign-in (but the break-glass admin's) and invitations by email and password are refused.
    SsoEnforced = ("sso_enforced", 403, "Single sign-on enforced"),
    /// An invitation link that names no pending invitation (mistyped, or replaced by a
    /// resend).
    InvitationLinkInvalid = ("invitation_link_invalid", 404, "Invitation link not valid"),
    /// A password reset link that names no reset.
    PasswordResetInvalid = ("password_reset_invalid", 404, "Password reset link not valid"),
    /// Unknown entity.
    NotFound = ("not_found", 404, "Not found"),
    /// Unknown route.
    NoSuchEndpoint = ("no_such_endpoint", 404, "No such endpoint"),
    /// Wrong method for the route.
    MethodNotAllowed = ("method_not_allowed", 405, "Method not allowed"),
    /// A group, policy, namespace, cluster or user email already exists.
    DuplicateName = ("duplicate_name", 409, "Name already taken"),
    /// A name a reader could mistake for an existing one (Unicode confusables).
    ConfusableName = ("confusable_name", 409, "Name resembles another"),
    /// The invited address already belongs to a member of the organization.
    AlreadyMember = ("already_member", 409, "Already a member"),
    /// The address already has a pending invitation.
    AlreadyInvited = ("already_invited", 409, "Already invited"),
    /// An accepted, revoked or expired invitation cannot be edited, resent or revoked.
    InvitationNotPending = ("invitation_not_pending", 409, "Invitation not pending"),
    /// The change would leave no active admin.
    LastAdmin = ("last_admin", 409, "Last admin"),
    /// Legacy groups cannot be deleted or renamed.
    LegacyGroupProtected = ("legacy_group_protected", 409, "Legacy group protected"),
    /// Default policies cannot be deleted or renamed.
    DefaultPolicyProtected = ("default_policy_protected", 409, "Default policy protected"),
    /// A group named by policies cannot be deleted.
    GroupInUse = ("group_in_use", 409, "Group in use"),
    /// SAML is not configured: SSO sign-in, enforcement and SCIM need it.
    SsoNotConfigured = ("sso_not_configured", 409, "Single sign-on not configured"),
    /// Enforcing SSO needs a break-glass admin, who must stay an active IAM admin while it is enforced.
    BreakGlassRequired = ("break_glass_required", 409, "Break-glass admin required"),
    /// SAML cannot be removed while SCIM tokens exist.
    ProvisioningActive = ("provisioning_active", 409, "SCIM tokens depend on SAML"),
    /// A group pushed by SCIM named like a legacy group (`admin`, `write`, `read`, `metrics`, `billing_viewer`): never merged into it.
    LegacyGroupName = ("legacy_group_name", 409, "Legacy group name"),
    /// `at_least_revision` was not reached in time (`revision` says where the server is).
    RevisionNotReached = ("revision_not_reached", 409, "Revision not reached"),
    /// Too many concurrent writers; retry.
    ConcurrentModification = ("concurrent_modification", 409, "Concurrent modification"),
    /// The invitation was revoked.
    InvitationRevoked = ("invitation_revoked", 410, "Invitation revoked"),
    /// The invitation's time ran out.
    InvitationExpired = ("invitation_expired", 410, "Invitation expired"),
    /// The invitation was used already: a link works once.
    InvitationAccepted = ("invitation_already_accepted", 410, "Invitation already accepted"),
    /// The password reset link's time ran out.
    PasswordResetExpired = ("password_reset_expired", 410, "Password reset link expired"),
    /// The password reset link was used already.
    PasswordResetUsed = ("password_reset_used", 410, "Password reset link used"),
    /// The body is over 1 MiB.
    PayloadTooLarge = ("payload_too_large", 413, "Payload too large"),
    /// The request target is over 8 KiB.
    UriTooLong = ("uri_too_long", 414, "URI too long"),
    /// A body without `Content-Type: application/json`.
    UnsupportedMediaType = ("unsupported_media_type", 415, "Unsupported media type"),
    /// JSON of the wrong shape (a missing field, a wrong type, an array for an object).
    InvalidBody = ("invalid_body", 422, "Body does not match the schema"),
    /// A field, query or path parameter fails validation (named in `field`).
    InvalidField = ("invalid_field", 422, "Invalid field"),
    /// A role that does not exist.
    UnknownRole = ("unknown_role", 422, "Unknown role"),
    /// A user, group or service account that does not exist.
    UnknownPrincipal = ("unknown_principal", 422, "Unknown principal"),
    /// An action that is neither a catalog action nor an alias.
    UnknownAction = ("unknown_action", 422, "Unknown action"),
    /// A namespace permission key that does not exist.
    UnknownNamespacePermission = ("unknown_namespace_permission", 422, "Unknown namespace permission"),
    /// A namespace that does not exist, asked about by a caller who may list namespaces
    /// (others are answered as for a namespace they hold no key in).
    UnknownNamespace = ("unknown_namespace", 422, "Unknown namespace"),
    /// A cluster named in a request body (a token's scope) that does not exist.
    UnknownCluster = ("unknown_cluster", 422, "Unknown cluster"),
    /// Only a default policy can be reset to the catalog's roles.
    NotADefaultPolicy = ("not_a_default_policy", 409, "Not a default policy"),
    /// A service account the platform manages itself.
    SystemManaged = ("system_managed", 409, "Managed by the platform"),
    /// A default policy must keep the rule naming its legacy group.
    DefaultPolicyGroupRequired = ("default_policy_group_required", 422, "Default policy must keep its group"),
    /// Too many failed authentications from the client's address; `Retry-After` says when
    /// to try again.
    TooManyFailedAuthentications = ("too_many_failed_authentications", 429, "Too many failed authentications"),
    /// The request's headers are over 64 KiB.
    RequestHeadersTooLarge = ("request_headers_too_large", 431, "Request headers too large"),
    /// A server fault; details only in the server log, with the `request_id`.
    Internal = ("internal", 500, "Internal server error"),
    /// `/readyz`: the store cannot be reached, or the organizations are still loading.
    NotReady = ("not_ready", 503, "Not ready"),
}

/// How SCIM (RFC 7644 section 3.12) types each code: the codes a SCIM client can meet, the
/// rest without a `scimType`.
const fn scim_type(code: Code) -> Option<&'static str> {
    Some(match code {
        Code::ScimInvalidFilter => "invalidFilter",
        Code::ScimInvalidPath => "invalidPath",
        Code::ScimNoTarget => "noTarget",
        Code::ScimInvalidValue
        | Code::InvalidField
        | Code::InvalidBody
        | Code::UnknownPrincipal
        | Code::UnknownRole => "invalidValue",
        Code::ScimInvalidSyntax
        | Code::MalformedJson
        | Code::UnknownField
        | Code::UnsupportedMediaType => "invalidSyntax",
        Code::ScimMutability | Code::LegacyGroupProtected | Code::SystemManaged => "mutability",
        Code::ScimTooMany => "tooMany",
        Code::DuplicateName
        | Code::ConfusableName
        | Code::AlreadyMember
        | Code::LegacyGroupName => "uniqueness",
        _ => return None,
    })
}

/// Implemented by every error type a client can meet: the code it is answered with.
pub trait ErrorCode {
    fn error_code(&self) -> Code;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_snake_case_and_statuses_are_errors() {
        let mut names = std::collections::BTreeSet::new();
        for code in Code::ALL {
            assert!(names.insert(code.name()), "{} twice", code.name());
            assert!(code
                .name()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_'));
            assert!((400..600).contains(&code.status()), "{code:?}");
            assert!(!code.title().is_empty());
        }
    }
}
