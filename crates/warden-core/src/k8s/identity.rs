//! Kubernetes user and group names for Warden's principals.
//!
//! The scheme puts the organization id first and the kind second, so no name of one
//! organization is ever a name of another, and no user is ever mistaken for a service
//! account or a group:
//! - a user: `warden:<org>:user:<email, ASCII-lowercased>`, uid its id;
//! - a service account (every org token acts as one): `warden:<org>:serviceaccount:<id>`,
//!   uid its id;
//! - a group: `warden:<org>:group:<name>`;
//! - every authenticated principal of the organization is also in `warden:<org>`.
//!
//! A user's name carries the email, not the id, so an administrator writing RBAC by hand
//! can read it; [`parse_username`] gets the principal back from it, for this organization
//! only.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::{ApiToken, OrgId, OrgState, PrincipalId, ServiceAccountId};

/// Every Warden name starts with this.
const PREFIX: &str = "warden:";

/// The extra key carrying the organization's id.
pub const EXTRA_ORG_ID: &str = "warden.io/org-id";
/// The extra key carrying the id of the token a request was authenticated with: the
/// authorizer applies that token's scope.
pub const EXTRA_TOKEN_ID: &str = "warden.io/token-id";

/// Who a request is, as a TokenReview answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct K8sIdentity {
    pub username: String,
    pub uid: String,
    /// The organization's group first, then the groups of a user, by name.
    pub groups: Vec<String>,
    pub extra: BTreeMap<String, Vec<String>>,
}

/// A principal named by a Kubernetes username of one organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamedPrincipal<'a> {
    /// A user, by email (lowercase).
    User { email: &'a str },
    /// A service account, by id.
    ServiceAccount { id: &'a str },
}

impl NamedPrincipal<'_> {
    /// The principal of `state` it names, if there is one.
    pub fn resolve(&self, state: &OrgState) -> Option<PrincipalId> {
        match *self {
            NamedPrincipal::User { email } => state
                .user_by_email(email)
                .map(|u| PrincipalId::User(u.id.clone())),
            NamedPrincipal::ServiceAccount { id } => state
                .service_accounts
                .get(id)
                .map(|a| PrincipalId::ServiceAccount(a.id.clone())),
        }
    }
}

/// The organization's group, which every principal of it is in: `warden:<org>`.
pub fn org_group(org: &OrgId) -> String {
    format!("{PREFIX}{org}")
}

/// The Kubernetes group of one of the organization's groups.
pub fn group_name(org: &OrgId, name: &str) -> String {
    format!("{PREFIX}{org}:group:{name}")
}

/// The username of a user with this email.
pub fn user_name(org: &OrgId, email: &str) -> String {
    format!("{PREFIX}{org}:user:{}", email.to_ascii_lowercase())
}

/// The username of a service account.
pub fn service_account_name(org: &OrgId, id: &ServiceAccountId) -> String {
    format!("{PREFIX}{org}:serviceaccount:{id}")
}

/// The Kubernetes username of a principal of the organization (`None`: it has no such
/// principal).
pub fn username(state: &OrgState, principal: &PrincipalId) -> Option<String> {
    let org = &state.org.id;
    match principal {
        PrincipalId::User(id) => state.users.get(id).map(|u| user_name(org, &u.email)),
        PrincipalId::ServiceAccount(id) => state
            .service_accounts
            .get(id)
            .map(|a| service_account_name(org, &a.id)),
    }
}

/// The principal a username of organization `org` names: a user by email, a service account
/// by id. `None` for anything else: another organization's names, groups, names Warden never
/// issues (an email with uppercase letters, a service account id without its prefix), and
/// names that are not Warden's at all. Allocates nothing.
pub fn parse_username<'a>(org: &OrgId, name: &'a str) -> Option<NamedPrincipal<'a>> {
    let rest = name
        .strip_prefix(PREFIX)?
        .strip_prefix(org.as_str())?
        .strip_prefix(':')?;
    if let Some(email) = rest.strip_prefix("user:") {
        let issued = !email.is_empty() && !email.bytes().any(|b| b.is_ascii_uppercase());
        return issued.then_some(NamedPrincipal::User { email });
    }
    let id = rest.strip_prefix("serviceaccount:")?;
    let is_id = id
        .strip_prefix(ServiceAccountId::PREFIX)
        .and_then(|s| s.strip_prefix('_'))
        .is_some_and(|suffix| !suffix.is_empty() && !suffix.contains(':'));
    is_id.then_some(NamedPrincipal::ServiceAccount { id })
}

/// The identity a token authenticates as: its principal's username and uid, the
/// organization's group and (for a user) the user's groups, and the organization and token
/// ids as extra. `None` when the token's principal is not in the state.
pub fn identity(state: &OrgState, token: &ApiToken) -> Option<K8sIdentity> {
    let org = &state.org.id;
    let username = username(state, &token.owner)?;
    let mut names: Vec<String> = match &token.owner {
        PrincipalId::User(user) => state
            .groups_of(user)
            .filter_map(|g| state.groups.get(g))
            .map(|g| group_name(org, &g.name))
            .collect(),
        PrincipalId::ServiceAccount(_) => Vec::new(),
    };
    names.sort();
    let mut groups = Vec::with_capacity(names.len() + 1);
    groups.push(org_group(org));
    groups.extend(names);
    let extra = BTreeMap::from([
        (EXTRA_ORG_ID.to_string(), vec![org.to_string()]),
        (EXTRA_TOKEN_ID.to_string(), vec![token.id.to_string()]),
    ]);
    Some(K8sIdentity {
        username,
        uid: token.owner.as_str().to_string(),
        groups,
        extra,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_for_their_own_organization_only() {
        let org = OrgId::from("abc123");
        let user = user_name(&org, "Ada@Example.COM");
        assert_eq!(user, "warden:abc123:user:ada@example.com");
        assert_eq!(
            parse_username(&org, &user),
            Some(NamedPrincipal::User {
                email: "ada@example.com"
            })
        );
        let account = service_account_name(&org, &ServiceAccountId::from("sa_0123"));
        assert_eq!(
            parse_username(&org, &account),
            Some(NamedPrincipal::ServiceAccount { id: "sa_0123" })
        );
        let other = OrgId::from("abc12");
        assert_eq!(parse_username(&other, &user), None);
        for name in [
            "warden:abc123:group:admin",
            "warden:abc123",
            "warden:abc123:user:",
            "warden:abc123:user:Ada@example.com",
            "warden:abc123:serviceaccount:usr_1",
            "warden:abc123:serviceaccount:sa_",
            "warden:abc1234:user:ada@example.com",
            "system:serviceaccount:default:builder",
            "jane",
        ] {
            assert_eq!(parse_username(&org, name), None, "{name}");
        }
    }
}
