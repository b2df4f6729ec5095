//! SCIM 2.0 (RFC 7643, RFC 7644) protocol logic for inbound provisioning, pure: the HTTP
//! endpoints and the mapping to Warden's users and groups call these functions, and
//! nothing here does I/O.
//!
//! - [`filter`]: a `?filter=` expression parsed into [`Filter`] and evaluated against a
//!   resource's SCIM JSON; [`Filter::equality_on`] lets the server answer the common
//!   `userName eq "…"` from an index.
//! - [`patch`]: a PATCH body ([`PatchRequest`]) applied to a resource's SCIM JSON by
//!   [`apply`], as RFC 7644 §3.5.2 says and as Okta and Microsoft Entra ID send it.
//! - [`schema`]: the attributes of User and Group ([`ResourceSchema`]): type, multi-valued,
//!   case-exactness, mutability.
//!
//! Every refusal is a [`ScimError`]: its [`ScimErrorKind`] is the RFC 7644 §3.12
//! `scimType` of the 400 answer, its detail is written for the IdP administrator who reads
//! it in a provisioning log, and it quotes at most [`MAX_ECHO`] characters of what the
//! client sent.

pub mod filter;
pub mod patch;
mod path;
pub mod schema;

pub use filter::{AttrRef, CompareOp, Filter, Literal};
pub use patch::{apply, PatchOp, PatchOperation, PatchRequest, PATCH_OP_URN};
pub use schema::{AttrType, AttributeSchema, Mutability, ResourceSchema};

/// A SCIM request that is refused; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct ScimError {
    pub kind: ScimErrorKind,
    /// For a person: what was wrong and where, quoting at most [`MAX_ECHO`] characters of
    /// the request.
    pub detail: String,
}

impl ScimError {
    pub(crate) fn new(kind: ScimErrorKind, detail: impl Into<String>) -> ScimError {
        ScimError {
            kind,
            detail: detail.into(),
        }
    }
}

/// The RFC 7644 §3.12 `scimType` values that filters and PATCH can produce (all with HTTP
/// status 400).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScimErrorKind {
    /// The filter is malformed, or compares in a way the attribute does not allow.
    InvalidFilter,
    /// The PATCH `path` is malformed or names no attribute of the resource.
    InvalidPath,
    /// The PATCH `path` selects nothing where something must be selected.
    NoTarget,
    /// A value does not fit its attribute.
    InvalidValue,
    /// The request body is not the message it must be.
    InvalidSyntax,
    /// The change would write a readOnly or immutable attribute, or remove a required one.
    Mutability,
    /// The request asks for more work than the service provider is willing to do.
    TooMany,
}

impl ScimErrorKind {
    /// The `scimType` as RFC 7644 §3.12 spells it.
    pub fn scim_type(&self) -> &'static str {
        match self {
            ScimErrorKind::InvalidFilter => "invalidFilter",
            ScimErrorKind::InvalidPath => "invalidPath",
            ScimErrorKind::NoTarget => "noTarget",
            ScimErrorKind::InvalidValue => "invalidValue",
            ScimErrorKind::InvalidSyntax => "invalidSyntax",
            ScimErrorKind::Mutability => "mutability",
            ScimErrorKind::TooMany => "tooMany",
        }
    }
}

impl std::fmt::Display for ScimErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.scim_type())
    }
}

/// The most characters of client input an error detail quotes.
pub const MAX_ECHO: usize = 100;

/// `text` as an error detail may quote it: at most [`MAX_ECHO`] characters, and `…` when
/// there was more.
pub(crate) fn echo(text: &str) -> String {
    match text.char_indices().nth(MAX_ECHO) {
        Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or_default()),
        None => text.to_string(),
    }
}

/// The value of `object`'s member `name` in any ASCII case (RFC 7643 §2.1: attribute names
/// are case-insensitive), with the key as it is spelled there.
pub(crate) fn member<'v>(
    object: &'v serde_json::Map<String, serde_json::Value>,
    name: &str,
) -> Option<(&'v String, &'v serde_json::Value)> {
    object
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
}

/// The key of `object`'s member `name` as spelled there, in any ASCII case.
pub(crate) fn member_key(
    object: &serde_json::Map<String, serde_json::Value>,
    name: &str,
) -> Option<String> {
    member(object, name).map(|(key, _)| key.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scim_types_are_spelled_as_rfc_7644_does() {
        let all = [
            (ScimErrorKind::InvalidFilter, "invalidFilter"),
            (ScimErrorKind::InvalidPath, "invalidPath"),
            (ScimErrorKind::NoTarget, "noTarget"),
            (ScimErrorKind::InvalidValue, "invalidValue"),
            (ScimErrorKind::InvalidSyntax, "invalidSyntax"),
            (ScimErrorKind::Mutability, "mutability"),
            (ScimErrorKind::TooMany, "tooMany"),
        ];
        for (kind, spelled) in all {
            assert_eq!(kind.scim_type(), spelled);
            assert_eq!(kind.to_string(), spelled);
        }
    }

    #[test]
    fn echo_quotes_at_most_a_hundred_characters() {
        assert_eq!(echo("userName"), "userName");
        let exactly = "é".repeat(MAX_ECHO);
        assert_eq!(echo(&exactly), exactly);
        let long = "x".repeat(5000);
        let quoted = echo(&long);
        assert_eq!(quoted.chars().count(), MAX_ECHO + 1);
        assert!(quoted.ends_with('…'));
    }
}
