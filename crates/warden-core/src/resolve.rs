//! Finding entities as callers name them: by id, or by their natural key (a user's email, a
//! group's, policy's, namespace's or cluster's name). The one place that decides how a name
//! resolves, for commands and reads alike.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::*;
use crate::error::DomainError;

/// An existing entity as a caller names it: its id, or its natural key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Key(pub String);

impl Key {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Key {
    fn from(s: &str) -> Key {
        Key(s.to_string())
    }
}

impl From<String> for Key {
    fn from(s: String) -> Key {
        Key(s)
    }
}

macro_rules! key_from_id {
    ($($id:ty),*) => {$(
        impl From<$id> for Key {
            fn from(id: $id) -> Key {
                Key(id.to_string())
            }
        }
        impl From<&$id> for Key {
            fn from(id: &$id) -> Key {
                Key(id.to_string())
            }
        }
    )*};
}
key_from_id!(
    UserId,
    GroupId,
    PolicyId,
    NamespaceId,
    ClusterId,
    TokenId,
    ServiceAccountId
);

/// A principal as a caller names it in a rule: by id, or a group or service account by name,
/// or a user by email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrincipalInput {
    pub kind: PrincipalKind,
    pub id: String,
}

/// The kinds of principal a rule can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    User,
    Group,
    ServiceAccount,
}

/// A user, by id or email.
pub fn user<'a>(state: &'a OrgState, key: &str) -> Result<&'a User, DomainError> {
    find_user(state, key).ok_or_else(|| DomainError::not_found("user", key))
}

fn find_user<'a>(state: &'a OrgState, key: &str) -> Option<&'a User> {
    state
        .users
        .get(&UserId::from(key.to_string()))
        .or_else(|| state.user_by_email(key))
}

/// A group, by id or name.
pub fn group<'a>(state: &'a OrgState, key: &str) -> Result<&'a Group, DomainError> {
    find_group(state, key).ok_or_else(|| DomainError::NotFound {
        kind: "group",
        id: crate::error::cut(key),
        did_you_mean: closest_group(state, key),
    })
}

/// The group name closest to an unknown one.
fn closest_group(state: &OrgState, key: &str) -> Option<String> {
    crate::suggest::closest(key, state.groups.values().map(|g| g.name.as_str()))
}

fn find_group<'a>(state: &'a OrgState, key: &str) -> Option<&'a Group> {
    state
        .groups
        .get(&GroupId::from(key.to_string()))
        .or_else(|| state.group_by_name(key))
}

/// An access policy, by id or name.
pub fn policy<'a>(state: &'a OrgState, key: &str) -> Result<&'a AccessPolicy, DomainError> {
    state
        .policies
        .get(&PolicyId::from(key.to_string()))
        .or_else(|| state.policies.values().find(|p| p.name == key))
        .ok_or_else(|| DomainError::not_found("policy", key))
}

/// A namespace, by id or name.
pub fn namespace<'a>(state: &'a OrgState, key: &str) -> Result<&'a Namespace, DomainError> {
    state
        .namespaces
        .get(&NamespaceId::from(key.to_string()))
        .or_else(|| state.namespaces.values().find(|n| n.name == key))
        .ok_or_else(|| DomainError::not_found("namespace", key))
}

/// A cluster, by id or name.
pub fn cluster<'a>(state: &'a OrgState, key: &str) -> Result<&'a Cluster, DomainError> {
    state
        .clusters
        .get(&ClusterId::from(key.to_string()))
        .or_else(|| state.clusters.values().find(|c| c.name == key))
        .ok_or_else(|| DomainError::not_found("cluster", key))
}

/// A token, by id.
pub fn token<'a>(state: &'a OrgState, key: &str) -> Result<&'a ApiToken, DomainError> {
    state
        .tokens
        .get(&TokenId::from(key.to_string()))
        .ok_or_else(|| DomainError::not_found("token", key))
}

/// A principal named in a request body: `unknown_principal` (not `not_found`) when absent,
/// since the request itself addressed something else.
pub fn rule_principal(
    state: &OrgState,
    input: &PrincipalInput,
) -> Result<PrincipalRef, DomainError> {
    let unknown = |kind: &'static str| DomainError::UnknownPrincipal {
        kind,
        id: crate::error::cut(&input.id),
        // Group and service account names are suggested; emails are not (who is in an
        // organization is not something a typo should reveal).
        did_you_mean: match input.kind {
            PrincipalKind::Group => closest_group(state, &input.id),
            PrincipalKind::ServiceAccount => closest_service_account(state, &input.id),
            PrincipalKind::User => None,
        },
    };
    match input.kind {
        PrincipalKind::User => find_user(state, &input.id)
            .map(|u| PrincipalRef::User(u.id.clone()))
            .ok_or_else(|| unknown("user")),
        PrincipalKind::Group => find_group(state, &input.id)
            .map(|g| PrincipalRef::Group(g.id.clone()))
            .ok_or_else(|| unknown("group")),
        PrincipalKind::ServiceAccount => find_service_account(state, &input.id)
            .map(|a| PrincipalRef::ServiceAccount(a.id.clone()))
            .ok_or_else(|| unknown("service_account")),
    }
}

/// A user named in a request body (`unknown_principal` when absent).
pub fn body_user<'a>(state: &'a OrgState, key: &str) -> Result<&'a User, DomainError> {
    find_user(state, key).ok_or_else(|| DomainError::unknown_principal("user", key))
}

/// An acting principal (the subject of a check): a user by id or email, or a service
/// account by id. `None` when the organization has no such principal.
pub fn acting_principal(state: &OrgState, key: &str) -> Option<PrincipalId> {
    if let Some(user) = find_user(state, key) {
        return Some(PrincipalId::User(user.id.clone()));
    }
    let id = ServiceAccountId::from(key.to_string());
    state
        .service_accounts
        .contains_key(&id)
        .then_some(PrincipalId::ServiceAccount(id))
}

/// A service account, by id or name (names without regard to case).
pub fn service_account<'a>(
    state: &'a OrgState,
    key: &str,
) -> Result<&'a ServiceAccount, DomainError> {
    find_service_account(state, key).ok_or_else(|| DomainError::NotFound {
        kind: "service_account",
        id: crate::error::cut(key),
        did_you_mean: closest_service_account(state, key),
    })
}

fn find_service_account<'a>(state: &'a OrgState, key: &str) -> Option<&'a ServiceAccount> {
    let lower = key.to_lowercase();
    state
        .service_accounts
        .get(&ServiceAccountId::from(key.to_string()))
        .or_else(|| {
            state
                .service_accounts
                .values()
                .find(|a| a.name.to_lowercase() == lower)
        })
}

fn closest_service_account(state: &OrgState, key: &str) -> Option<String> {
    crate::suggest::closest(
        key,
        state.service_accounts.values().map(|a| a.name.as_str()),
    )
}

/// An invitation, by id, or by email (that address's latest invitation).
pub fn invitation<'a>(state: &'a OrgState, key: &str) -> Result<&'a Invitation, DomainError> {
    state
        .invitations
        .get(&InvitationId::from(key.to_string()))
        .or_else(|| {
            state
                .invitations
                .values()
                .filter(|i| i.email.eq_ignore_ascii_case(key.trim()))
                .max_by_key(|i| (i.sent_at, i.id.clone()))
        })
        .ok_or_else(|| DomainError::not_found("invitation", key))
}
