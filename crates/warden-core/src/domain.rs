//! Domain entities of one organization and the state that holds them all.

use std::fmt;
use std::sync::Arc;

use imbl::{OrdMap, OrdSet};

use serde::{Deserialize, Serialize};

pub use crate::named_map::{NamedMap, NaturalKey};

pub use crate::timestamp::Timestamp;

pub use crate::invitation::{Invitation, InvitationStatus, InvitedNamespace};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        ///
        /// The text is shared (`Arc<str>`): an id is copied into several indexes of a state
        /// (a user's id is the key of the users map, of its email index, of its memberships),
        /// and a copy costs a reference count, not an allocation. A third of the memory of
        /// a million users went into such copies (BENCHMARKS.md).
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
        #[serde(transparent)]
        pub struct $name(Arc<str>);

        /// Ids compare, hash and order as their text, so maps keyed by them are searched
        /// with a `&str`.
        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl $name {
            /// The prefix every id of this kind starts with (before `_`).
            pub const PREFIX: &'static str = $prefix;

            pub fn new(text: impl Into<Arc<str>>) -> Self {
                $name(text.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.into())
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name(s.into())
            }
        }

        impl From<&String> for $name {
            fn from(s: &String) -> Self {
                $name(s.as_str().into())
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                &*self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                &*self.0 == *other
            }
        }
    };
}

id_type!(
    /// An organization: six lowercase hex digits, such as `ab1cd2`.
    OrgId, ""
);
id_type!(UserId, "usr");
id_type!(ServiceAccountId, "sa");
id_type!(GroupId, "grp");
id_type!(PolicyId, "pol");
id_type!(NamespaceId, "ns");
id_type!(ClusterId, "cls");
id_type!(TokenId, "tok");
id_type!(
    /// A platform operator: a principal outside every organization.
    OperatorId, "op"
);
id_type!(InvitationId, "inv");

/// A tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    pub id: OrgId,
    pub name: String,
    /// The first user; only a platform operator may change it.
    pub default_admin: UserId,
    pub created_at: Timestamp,
    /// Single sign-on through the organization's SAML identity provider (spec section 10);
    /// `None` until an admin configures it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sso: Option<Arc<SsoSettings>>,
}

/// Which SAML attributes carry a user's email and names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SamlAttributeNames {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
}

impl Default for SamlAttributeNames {
    fn default() -> Self {
        SamlAttributeNames {
            email: "email".into(),
            first_name: "first_name".into(),
            last_name: "last_name".into(),
        }
    }
}

/// An organization's SAML identity provider and whether signing in through it is the only way
/// in. The certificates were parsed by the server (the core does no cryptography); the core
/// keeps the rule that there is at least one, because a SAML library given none skips the
/// signature check altogether.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoSettings {
    pub idp_entity_id: String,
    pub idp_sso_url: String,
    /// Base64 DER X.509 certificates whose keys may sign responses (at least one).
    pub idp_certificates: Vec<String>,
    pub attributes: SamlAttributeNames,
    /// Whether a sign-in the IdP starts (no `InResponseTo`) is accepted.
    pub allow_idp_initiated: bool,
    /// Password sign-in is refused for everyone but `break_glass`, and new users arrive only
    /// through the IdP or provisioning.
    pub enforced: bool,
    /// The one admin who may still sign in with a password while SSO is enforced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub break_glass: Option<UserId>,
    pub updated_at: Timestamp,
}

impl SsoSettings {
    /// May `user` sign in with a password?
    pub fn allows_password(&self, user: &UserId) -> bool {
        !self.enforced || self.break_glass.as_ref() == Some(user)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Invited,
    Active,
    Deactivated,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Invited => "invited",
            UserStatus::Active => "active",
            UserStatus::Deactivated => "deactivated",
        }
    }

    pub fn parse(s: &str) -> Option<UserStatus> {
        match s {
            "invited" => Some(UserStatus::Invited),
            "active" => Some(UserStatus::Active),
            "deactivated" => Some(UserStatus::Deactivated),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    // Boxed strings, not `String`s: no spare capacity to carry, 8 bytes less each (24 MiB at
    // a million users).
    pub email: Box<str>,
    pub first_name: Box<str>,
    pub last_name: Box<str>,
    pub status: UserStatus,
    pub created_at: Timestamp,
    /// The identity provider's own id for the user (SCIM `externalId`), kept as it was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<Box<str>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAccount {
    pub id: ServiceAccountId,
    pub name: String,
    pub created_by: Option<UserId>,
    pub active: bool,
    /// Created and managed by the platform itself, not by a user.
    pub system_managed: bool,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub id: GroupId,
    pub name: String,
    pub description: String,
    /// One of the five legacy groups: it cannot be renamed or deleted.
    pub legacy: bool,
    pub created_at: Timestamp,
    /// The identity provider's own id for the group (SCIM `externalId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<Box<str>>,
}

/// A principal that acts: it calls the API, owns tokens and is the subject of checks. A user
/// or a service account; never a group (groups are only named by rules).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum PrincipalId {
    User(UserId),
    ServiceAccount(ServiceAccountId),
}

impl PrincipalId {
    pub fn as_str(&self) -> &str {
        match self {
            PrincipalId::User(id) => id.as_str(),
            PrincipalId::ServiceAccount(id) => id.as_str(),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            PrincipalId::User(_) => "user",
            PrincipalId::ServiceAccount(_) => "service_account",
        }
    }

    /// The principal of an id, by its prefix (`usr_`, `sa_`).
    pub fn parse(id: &str) -> Option<PrincipalId> {
        let (prefix, rest) = id.split_once('_')?;
        if rest.is_empty() {
            return None;
        }
        match prefix {
            UserId::PREFIX => Some(PrincipalId::User(UserId::from(id.to_string()))),
            ServiceAccountId::PREFIX => Some(PrincipalId::ServiceAccount(ServiceAccountId::from(
                id.to_string(),
            ))),
            _ => None,
        }
    }

    pub fn user(&self) -> Option<&UserId> {
        match self {
            PrincipalId::User(id) => Some(id),
            PrincipalId::ServiceAccount(_) => None,
        }
    }

    /// The same principal as a rule names it.
    pub fn as_ref(&self) -> PrincipalRef {
        match self {
            PrincipalId::User(id) => PrincipalRef::User(id.clone()),
            PrincipalId::ServiceAccount(id) => PrincipalRef::ServiceAccount(id.clone()),
        }
    }
}

impl fmt::Display for PrincipalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<UserId> for PrincipalId {
    fn from(id: UserId) -> PrincipalId {
        PrincipalId::User(id)
    }
}

impl From<ServiceAccountId> for PrincipalId {
    fn from(id: ServiceAccountId) -> PrincipalId {
        PrincipalId::ServiceAccount(id)
    }
}

/// Who a rule names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum PrincipalRef {
    User(UserId),
    Group(GroupId),
    ServiceAccount(ServiceAccountId),
}

impl PrincipalRef {
    pub fn id(&self) -> &str {
        match self {
            PrincipalRef::User(id) => id.as_str(),
            PrincipalRef::Group(id) => id.as_str(),
            PrincipalRef::ServiceAccount(id) => id.as_str(),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            PrincipalRef::User(_) => "user",
            PrincipalRef::Group(_) => "group",
            PrincipalRef::ServiceAccount(_) => "service_account",
        }
    }
}

/// `principal → roles`, optionally until an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub principal: PrincipalRef,
    pub roles: Vec<String>,
    /// The rule grants nothing from this instant on (time-bound grants). The engine honours
    /// it at the instant a question is asked, without a write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
}

impl Rule {
    /// Does the rule grant anything at `now`?
    pub fn in_force(&self, now: Timestamp) -> bool {
        self.expires_at.is_none_or(|at| now < at)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessPolicy {
    pub id: PolicyId,
    pub name: String,
    pub description: String,
    /// Set on the five default policies: the legacy group whose roles they fix.
    pub legacy_group: Option<String>,
    pub rules: Vec<Rule>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Namespace {
    pub id: NamespaceId,
    pub name: String,
    pub created_at: Timestamp,
}

/// One namespace permission key held by one user in one namespace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NamespaceGrant {
    pub namespace: NamespaceId,
    pub user: UserId,
    pub key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cluster {
    pub id: ClusterId,
    pub name: String,
    pub api_server_url: String,
    pub ca_bundle: String,
    pub created_at: Timestamp,
    /// Hex SHA-256 of the secret the cluster's kube-apiserver presents to Warden's webhooks
    /// (`/k8s/authenticate`, `/k8s/authorize`); `None` until one is issued.
    #[serde(skip_serializing, default)]
    pub webhook_secret_hash: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// Belongs to one user (or service account) and acts with its permissions, narrowed by
    /// the token's scope.
    Personal,
    /// The legacy model: owned by the organization, managed by its admins, acting as a
    /// service account of the organization; its namespaces are its own, whatever its
    /// creator's access (none: a *blank* token, whose rights come only from custom RBAC).
    Org,
    /// A SCIM bearer token, managed by org admins: acts as a service account created with it
    /// that holds only the provisioning role, and is accepted only under `/scim/v2/`.
    Scim,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Personal => "personal",
            TokenKind::Org => "org",
            TokenKind::Scim => "scim",
        }
    }

    pub fn parse(s: &str) -> Option<TokenKind> {
        match s {
            "personal" => Some(TokenKind::Personal),
            "org" => Some(TokenKind::Org),
            "scim" => Some(TokenKind::Scim),
            _ => None,
        }
    }
}

/// Where a token acts, by id, each list sorted and without repeats. A personal token with an
/// empty list is not narrowed there; an org token's namespaces are the only ones it acts in.
/// Ids of namespaces or clusters deleted since stay (and match nothing), so deleting a
/// namespace never widens a token.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TokenScope {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<NamespaceId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clusters: Vec<ClusterId>,
}

impl TokenScope {
    /// Whether the scope lets a token act in `cluster`.
    pub fn allows_cluster(&self, cluster: &ClusterId) -> bool {
        self.clusters.is_empty() || self.clusters.contains(cluster)
    }

    pub fn is_empty(&self) -> bool {
        self.namespaces.is_empty() && self.clusters.is_empty()
    }
}

/// An API access token. Only the SHA-256 of its secret is kept; neither it nor the
/// secret's first characters are serialized (audit events carry tokens) or printed by
/// `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: TokenId,
    pub kind: TokenKind,
    /// The principal the token acts as.
    pub owner: PrincipalId,
    pub name: String,
    pub note: String,
    /// Hex SHA-256 of the secret.
    #[serde(skip_serializing)]
    pub secret_hash: String,
    /// The first characters of the secret, so a holder can tell tokens apart.
    #[serde(skip_serializing)]
    pub display_prefix: String,
    /// Who created it: the owner, or the user who created it for a service account.
    pub created_by: PrincipalId,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    #[serde(default)]
    pub scope: TokenScope,
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiToken")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("owner", &self.owner)
            .field("name", &self.name)
            .field("created_by", &self.created_by)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// User → its groups, in id order. A B-tree of short sorted lists: a user is in a few
/// groups, and both a persistent set per user and a hash trie of users cost hundreds of bytes
/// per user (measured with a million users); a membership change copies one user's short
/// list.
type UserGroups = OrdMap<UserId, GroupList>;

/// A user's groups, sorted and never empty: one or two inline (most users; a shared slice
/// would cost an allocation of 64 bytes each, 30 MiB at a million users), more in a shared
/// slice.
#[derive(Debug, Clone, PartialEq, Eq)]
enum GroupList {
    One(GroupId),
    Two([GroupId; 2]),
    Many(std::sync::Arc<[GroupId]>),
}

impl GroupList {
    fn as_slice(&self) -> &[GroupId] {
        match self {
            GroupList::One(group) => std::slice::from_ref(group),
            GroupList::Two(groups) => groups,
            GroupList::Many(groups) => groups,
        }
    }

    /// The list of `groups` (sorted), or `None` for no group.
    fn of(mut groups: Vec<GroupId>) -> Option<GroupList> {
        match groups.len() {
            0 => None,
            1 => groups.pop().map(GroupList::One),
            2 => {
                let second = groups.pop()?;
                let first = groups.pop()?;
                Some(GroupList::Two([first, second]))
            }
            _ => Some(GroupList::Many(groups.into())),
        }
    }
}

/// Everything Warden knows about one organization: what the engine compiles into a
/// snapshot, and what a command changes.
///
/// Every collection is persistent (`imbl`): cloning a state is O(1) and shares structure, so a
/// command works on a copy at the cost of what it changes, not of the organization's size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrgState {
    pub org: Organization,
    /// Bumped by every committed change.
    pub revision: u64,
    pub users: NamedMap<UserId, User>,
    pub service_accounts: OrdMap<ServiceAccountId, ServiceAccount>,
    pub groups: NamedMap<GroupId, Group>,
    /// `(group, user)` pairs; changed only through [`OrgState::insert_membership`] and
    /// [`OrgState::remove_membership`], which keep `user_groups` its mirror.
    memberships: OrdSet<(GroupId, UserId)>,
    /// User → its groups: the same pairs by user, found from a `&str` with one hash.
    #[serde(skip)]
    user_groups: UserGroups,
    pub policies: OrdMap<PolicyId, AccessPolicy>,
    pub namespaces: OrdMap<NamespaceId, Namespace>,
    pub namespace_grants: OrdSet<NamespaceGrant>,
    pub clusters: OrdMap<ClusterId, Cluster>,
    pub tokens: OrdMap<TokenId, ApiToken>,
    pub invitations: OrdMap<InvitationId, Invitation>,
}

impl OrgState {
    /// An organization with nothing in it yet, at revision 0.
    pub fn empty(org: Organization) -> OrgState {
        OrgState {
            org,
            revision: 0,
            users: NamedMap::new(),
            service_accounts: OrdMap::new(),
            groups: NamedMap::new(),
            memberships: OrdSet::new(),
            user_groups: UserGroups::default(),
            policies: OrdMap::new(),
            namespaces: OrdMap::new(),
            namespace_grants: OrdSet::new(),
            clusters: OrdMap::new(),
            tokens: OrdMap::new(),
            invitations: OrdMap::new(),
        }
    }

    /// The same state with every B-tree's leaves full: for a state loaded in id order, which
    /// leaves them half empty (see [`crate::packed`]). Costs a copy of every entry; done once,
    /// after a load, off the async runtime.
    pub fn packed(&self) -> OrgState {
        use crate::packed::{packed_map, packed_set};
        OrgState {
            org: self.org.clone(),
            revision: self.revision,
            users: self.users.packed(),
            service_accounts: packed_map(&self.service_accounts),
            groups: self.groups.packed(),
            memberships: packed_set(&self.memberships),
            user_groups: packed_map(&self.user_groups),
            policies: packed_map(&self.policies),
            namespaces: packed_map(&self.namespaces),
            namespace_grants: packed_set(&self.namespace_grants),
            clusters: packed_map(&self.clusters),
            tokens: packed_map(&self.tokens),
            invitations: packed_map(&self.invitations),
        }
    }

    /// Every `(group, user)` membership, ordered by group.
    pub fn memberships(&self) -> &OrdSet<(GroupId, UserId)> {
        &self.memberships
    }

    /// Adds `user` to `group`; `false` if it was a member already.
    pub fn insert_membership(&mut self, group: GroupId, user: UserId) -> bool {
        let groups = self.user_groups.get(&user);
        let mut list: Vec<GroupId> = groups.map(|g| g.as_slice().to_vec()).unwrap_or_default();
        if let Err(at) = list.binary_search(&group) {
            list.insert(at, group.clone());
            if let Some(list) = GroupList::of(list) {
                self.user_groups.insert(user.clone(), list);
            }
        }
        self.memberships.insert((group, user)).is_none()
    }

    /// Removes `user` from `group`; `false` if it was not a member.
    pub fn remove_membership(&mut self, group: &GroupId, user: &UserId) -> bool {
        if let Some(groups) = self.user_groups.get(user) {
            if let Ok(at) = groups.as_slice().binary_search(group) {
                let mut list = groups.as_slice().to_vec();
                list.remove(at);
                match GroupList::of(list) {
                    Some(list) => self.user_groups.insert(user.clone(), list),
                    None => self.user_groups.remove(user),
                };
            }
        }
        self.memberships
            .remove(&(group.clone(), user.clone()))
            .is_some()
    }

    pub fn is_member(&self, group: &GroupId, user: &UserId) -> bool {
        self.memberships.contains(&(group.clone(), user.clone()))
    }

    /// The group with this name, compared without regard to case.
    pub fn group_by_name(&self, name: &str) -> Option<&Group> {
        self.groups.by_natural_key(&name.to_lowercase())
    }

    /// The user with this email, compared ASCII case-insensitively.
    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        self.users.by_natural_key(&email.to_ascii_lowercase())
    }

    /// The groups a user belongs to, in id order.
    pub fn groups_of<'a>(&'a self, user: &UserId) -> impl Iterator<Item = &'a GroupId> + 'a {
        self.groups_of_id(user.as_str())
    }

    /// The groups of the user with this id, in id order.
    pub fn groups_of_id<'a>(&'a self, user: &str) -> impl Iterator<Item = &'a GroupId> + 'a {
        self.user_groups
            .get(user)
            .into_iter()
            .flat_map(|groups| groups.as_slice().iter())
    }

    /// The users of a group, in id order.
    pub fn members_of<'a>(&'a self, group: &'a GroupId) -> impl Iterator<Item = &'a UserId> + 'a {
        self.memberships
            .range((group.clone(), UserId::default())..)
            .take_while(move |(g, _)| g == group)
            .map(|(_, u)| u)
    }

    pub fn principal_exists(&self, principal: &PrincipalRef) -> bool {
        match principal {
            PrincipalRef::User(id) => self.users.contains_key(id),
            PrincipalRef::Group(id) => self.groups.contains_key(id),
            PrincipalRef::ServiceAccount(id) => self.service_accounts.contains_key(id),
        }
    }
}

/// What became of an audited call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A committed change.
    Allowed,
    /// A refused call.
    Denied,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        match s {
            "allowed" => Some(Outcome::Allowed),
            "denied" => Some(Outcome::Denied),
            _ => None,
        }
    }
}

/// An immutable record of a change or of a refused management call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Unique id (`evt_` + random suffix).
    pub id: String,
    pub org_id: OrgId,
    pub at: Timestamp,
    /// `user:<id>`, `service_account:<id>` or `system`.
    pub actor: String,
    /// The catalog action of the call (`iam.groups.create`, ...).
    pub action: String,
    /// The id of the entity the call addressed, if any.
    pub target: String,
    pub outcome: Outcome,
    /// The stable error code of a refused call.
    pub error_code: Option<String>,
    /// The organization revision the change produced (0 for a refused call).
    pub revision: u64,
    /// The request id of the HTTP call, for correlation with logs.
    pub request_id: String,
    /// The changes with their before and after values (JSON of `command::Change`).
    pub changes: serde_json::Value,
}
