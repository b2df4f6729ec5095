//! Commands: every change to an organization goes through [`execute`], which authorizes the
//! caller with the engine, validates input, applies the change to a copy of the state,
//! checks the organization invariants (spec section 7) on the result, and returns the new
//! state with the list of entity changes the store must persist. A refused command returns
//! an error and changes nothing.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::domain::*;
use crate::engine::effective_actions;
use crate::error::DomainError;
use crate::validate;

/// Who issues a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A user of the organization, authorized by the engine.
    User(UserId),
    /// The server's own command line (bootstrap and platform operations): not a principal of
    /// any organization, authorized by having the data store in hand.
    System,
}

impl Actor {
    pub fn describe(&self) -> String {
        match self {
            Actor::User(id) => format!("user:{id}"),
            Actor::System => "system".to_string(),
        }
    }
}

/// What the command layer needs from the outside world: time and fresh identifiers.
pub trait CommandContext {
    fn now(&self) -> Timestamp;
    /// A fresh random identifier suffix (lowercase base32), unique with high probability.
    fn random_suffix(&mut self) -> String;
}

/// A principal as a caller names it: by id, or a group by name, or a user by email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrincipalInput {
    pub kind: PrincipalKind,
    pub id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    User,
    Group,
    ServiceAccount,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleInput {
    pub principal: PrincipalInput,
    pub roles: Vec<String>,
}

/// How long a token lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum TokenLifetime {
    #[serde(rename = "1h")]
    OneHour,
    #[serde(rename = "8h")]
    EightHours,
    #[default]
    #[serde(rename = "30d")]
    OneMonth,
    #[serde(rename = "90d")]
    NinetyDays,
    #[serde(rename = "1y")]
    OneYear,
    #[serde(rename = "never")]
    Never,
}

impl TokenLifetime {
    /// Every lifetime, in the order of [`TokenLifetime::NAMES`].
    pub const ALL: [TokenLifetime; 6] = [
        TokenLifetime::OneHour,
        TokenLifetime::EightHours,
        TokenLifetime::OneMonth,
        TokenLifetime::NinetyDays,
        TokenLifetime::OneYear,
        TokenLifetime::Never,
    ];
    /// How a lifetime is written (API, CLI).
    pub const NAMES: [&'static str; 6] = ["1h", "8h", "30d", "90d", "1y", "never"];

    pub fn parse(s: &str) -> Option<TokenLifetime> {
        Self::NAMES
            .iter()
            .position(|n| *n == s)
            .map(|i| Self::ALL[i])
    }

    pub fn expires_at(self, now: Timestamp) -> Option<Timestamp> {
        const HOUR: i64 = 3_600_000;
        let ms = match self {
            TokenLifetime::OneHour => HOUR,
            TokenLifetime::EightHours => 8 * HOUR,
            TokenLifetime::OneMonth => 30 * 24 * HOUR,
            TokenLifetime::NinetyDays => 90 * 24 * HOUR,
            TokenLifetime::OneYear => 365 * 24 * HOUR,
            TokenLifetime::Never => return None,
        };
        Some(Timestamp(now.0.saturating_add(ms)))
    }
}

/// A change to one organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    UpdateOrganization {
        name: String,
    },
    /// Adds an active user directly (bootstrap and platform operators; users otherwise
    /// arrive through invitations).
    CreateUser {
        email: String,
        first_name: String,
        last_name: String,
    },
    UpdateUser {
        user: UserId,
        first_name: Option<String>,
        last_name: Option<String>,
    },
    DeactivateUser {
        user: UserId,
    },
    ReactivateUser {
        user: UserId,
    },
    CreateGroup {
        name: String,
        description: String,
    },
    UpdateGroup {
        group: GroupId,
        name: Option<String>,
        description: Option<String>,
    },
    DeleteGroup {
        group: GroupId,
    },
    AddGroupMember {
        group: GroupId,
        user: UserId,
    },
    RemoveGroupMember {
        group: GroupId,
        user: UserId,
    },
    CreatePolicy {
        name: String,
        description: String,
        rules: Vec<RuleInput>,
    },
    ReplacePolicy {
        policy: PolicyId,
        name: String,
        description: String,
        rules: Vec<RuleInput>,
    },
    DeletePolicy {
        policy: PolicyId,
    },
    CreateNamespace {
        name: String,
        /// Users who get access, with the keys each gets (empty → `r:full`).
        access: Vec<(UserId, Vec<String>)>,
    },
    DeleteNamespace {
        namespace: NamespaceId,
    },
    /// Replaces the grantable keys one user holds in one namespace.
    SetNamespaceAccess {
        namespace: NamespaceId,
        user: UserId,
        keys: Vec<String>,
    },
    CreateCluster {
        name: String,
        api_server_url: String,
        ca_bundle: String,
    },
    UpdateCluster {
        cluster: ClusterId,
        api_server_url: Option<String>,
        ca_bundle: Option<String>,
    },
    DeleteCluster {
        cluster: ClusterId,
    },
    /// A personal token for `user`: the caller themselves, or anyone when the system acts
    /// (an operator issuing a first token). The caller generated the secret; only its hash
    /// reaches the core.
    CreatePersonalToken {
        user: UserId,
        name: String,
        note: String,
        lifetime: TokenLifetime,
        secret_hash: String,
        display_prefix: String,
    },
    DeletePersonalToken {
        token: TokenId,
    },
}

impl Command {
    /// The id of the existing entity the command addresses (none for creations): what an
    /// audit record of a refused command names as its target.
    pub fn target(&self) -> Option<&str> {
        match self {
            Command::UpdateUser { user, .. }
            | Command::DeactivateUser { user }
            | Command::ReactivateUser { user } => Some(user.as_str()),
            Command::UpdateGroup { group, .. }
            | Command::DeleteGroup { group }
            | Command::AddGroupMember { group, .. }
            | Command::RemoveGroupMember { group, .. } => Some(group.as_str()),
            Command::ReplacePolicy { policy, .. } | Command::DeletePolicy { policy } => {
                Some(policy.as_str())
            }
            Command::DeleteNamespace { namespace }
            | Command::SetNamespaceAccess { namespace, .. } => Some(namespace.as_str()),
            Command::UpdateCluster { cluster, .. } | Command::DeleteCluster { cluster } => {
                Some(cluster.as_str())
            }
            Command::DeletePersonalToken { token } => Some(token.as_str()),
            Command::CreatePersonalToken { user, .. } => Some(user.as_str()),
            Command::UpdateOrganization { .. }
            | Command::CreateUser { .. }
            | Command::CreateGroup { .. }
            | Command::CreatePolicy { .. }
            | Command::CreateNamespace { .. }
            | Command::CreateCluster { .. } => None,
        }
    }

    /// The catalog action a user needs to issue this command.
    pub fn required_action(&self) -> &'static str {
        match self {
            Command::UpdateOrganization { .. } => "iam.organizations.update",
            Command::CreateUser { .. } => "iam.users.invite",
            Command::UpdateUser { .. } => "iam.users.update",
            Command::DeactivateUser { .. } => "iam.users.deactivate",
            Command::ReactivateUser { .. } => "iam.users.reactivate",
            Command::CreateGroup { .. } => "iam.groups.create",
            Command::UpdateGroup { .. } => "iam.groups.update",
            Command::DeleteGroup { .. } => "iam.groups.delete",
            Command::AddGroupMember { .. } => "iam.memberships.create",
            Command::RemoveGroupMember { .. } => "iam.memberships.delete",
            Command::CreatePolicy { .. } => "iam.policies.create",
            Command::ReplacePolicy { .. } => "iam.policies.update",
            Command::DeletePolicy { .. } => "iam.policies.delete",
            Command::CreateNamespace { .. } => "iam.namespaces.create",
            Command::DeleteNamespace { .. } => "iam.namespaces.delete",
            Command::SetNamespaceAccess { .. } => "iam.namespace_access.update",
            Command::CreateCluster { .. } => "cks.clusters.create",
            Command::UpdateCluster { .. } => "cks.clusters.update",
            Command::DeleteCluster { .. } => "cks.clusters.delete",
            Command::CreatePersonalToken { .. } => "tokens.personal.create",
            Command::DeletePersonalToken { .. } => "tokens.personal.delete",
        }
    }
}

/// One entity as stored. `Change`s carry them; the store persists each kind in its table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "entity", rename_all = "snake_case")]
pub enum Entity {
    Organization(Organization),
    User(User),
    ServiceAccount(ServiceAccount),
    Group(Group),
    Membership { group: GroupId, user: UserId },
    Policy(AccessPolicy),
    Namespace(Namespace),
    NamespaceGrant(NamespaceGrant),
    Cluster(Cluster),
    Token(ApiToken),
}

/// One row-level change, with the value before it for the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Change {
    Put {
        before: Option<Entity>,
        after: Entity,
    },
    Delete {
        before: Entity,
    },
}

/// The result of a command that went through.
#[derive(Debug, Clone)]
pub struct Executed {
    /// The organization after the command (revision bumped).
    pub state: OrgState,
    /// What the store must write, parents before children, in one transaction.
    pub changes: Vec<Change>,
    /// The id of what the command created or changed.
    pub target: String,
}

/// Runs a command against `state` on behalf of `actor`.
pub fn execute(
    catalog: &Catalog,
    state: &OrgState,
    actor: &Actor,
    command: Command,
    ctx: &mut dyn CommandContext,
) -> Result<Executed, DomainError> {
    if let Actor::User(user) = actor {
        let action = command.required_action();
        let allowed = catalog
            .action_id(action)
            .is_some_and(|id| effective_actions(catalog, state, user).contains(id));
        if !allowed {
            return Err(DomainError::Forbidden {
                action: action.to_string(),
            });
        }
    }
    let mut next = state.clone();
    let target = apply(catalog, &mut next, actor, command, ctx)?;
    check_invariants(catalog, state, &next, actor)?;
    next.revision = state.revision + 1;
    let changes = diff(state, &next);
    Ok(Executed {
        state: next,
        changes,
        target,
    })
}

/// The first user of a new organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstUser {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
}

/// Creates an organization: its five legacy groups, their five default policies, and its
/// first user, who is the default admin and a member of `admin`.
pub fn new_organization(
    catalog: &Catalog,
    org_id: OrgId,
    name: &str,
    first: FirstUser,
    ctx: &mut dyn CommandContext,
) -> Result<Executed, DomainError> {
    let now = ctx.now();
    if !is_org_id(org_id.as_str()) {
        return Err(DomainError::invalid(
            "id",
            "must be six lowercase hex digits",
        ));
    }
    let user = User {
        id: UserId(format!("usr_{}", ctx.random_suffix())),
        email: validate::email("email", &first.email)?,
        first_name: validate::description("first_name", &first.first_name)?,
        last_name: validate::description("last_name", &first.last_name)?,
        status: UserStatus::Active,
        created_at: now,
    };
    let empty = OrgState::empty(Organization {
        id: org_id.clone(),
        name: validate::display_name("name", name)?,
        default_admin: user.id.clone(),
        created_at: now,
    });
    let mut state = empty.clone();
    for legacy in catalog.legacy_groups() {
        let group = Group {
            id: GroupId(format!("grp_{}", ctx.random_suffix())),
            name: legacy.name.clone(),
            description: format!("Legacy group `{}`", legacy.name),
            legacy: true,
            created_at: now,
        };
        let policy = AccessPolicy {
            id: PolicyId(format!("pol_{}", ctx.random_suffix())),
            name: legacy.name.clone(),
            description: format!(
                "Default policy of the legacy group `{}` (roles fixed)",
                legacy.name
            ),
            legacy_group: Some(legacy.name.clone()),
            rules: vec![Rule {
                principal: PrincipalRef::Group(group.id.clone()),
                roles: legacy.roles.clone(),
            }],
            created_at: now,
            updated_at: now,
        };
        if legacy.name == "admin" {
            state
                .memberships
                .insert((group.id.clone(), user.id.clone()));
        }
        state.groups.insert(group.id.clone(), group);
        state.policies.insert(policy.id.clone(), policy);
    }
    state.users.insert(user.id.clone(), user);
    state.revision = 1;
    // The first user holds IAM Admin through `admin`; a catalog without it is unusable.
    if admin_holders(catalog, &state).is_empty() {
        return Err(DomainError::LastAdmin);
    }
    let changes = diff(&empty, &state);
    Ok(Executed {
        target: org_id.0,
        state,
        changes,
    })
}

/// Six lowercase hex digits.
pub fn is_org_id(s: &str) -> bool {
    s.len() == 6
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn not_found(kind: &'static str, id: &str) -> DomainError {
    DomainError::NotFound {
        kind,
        id: id.to_string(),
    }
}

fn group_mut<'a>(state: &'a mut OrgState, id: &GroupId) -> Result<&'a mut Group, DomainError> {
    state
        .groups
        .get_mut(id)
        .ok_or_else(|| not_found("group", id.as_str()))
}

fn user_mut<'a>(state: &'a mut OrgState, id: &UserId) -> Result<&'a mut User, DomainError> {
    state
        .users
        .get_mut(id)
        .ok_or_else(|| not_found("user", id.as_str()))
}

fn apply(
    catalog: &Catalog,
    state: &mut OrgState,
    actor: &Actor,
    command: Command,
    ctx: &mut dyn CommandContext,
) -> Result<String, DomainError> {
    let now = ctx.now();
    match command {
        Command::UpdateOrganization { name } => {
            state.org.name = validate::display_name("name", &name)?;
            Ok(state.org.id.0.clone())
        }
        Command::CreateUser {
            email,
            first_name,
            last_name,
        } => {
            if *actor != Actor::System {
                return Err(DomainError::OperatorOnly);
            }
            let email = validate::email("email", &email)?;
            if state.user_by_email(&email).is_some() {
                return Err(DomainError::Duplicate {
                    kind: "user",
                    name: email,
                });
            }
            let user = User {
                id: UserId(format!("usr_{}", ctx.random_suffix())),
                email,
                first_name: validate::description("first_name", &first_name)?,
                last_name: validate::description("last_name", &last_name)?,
                status: UserStatus::Active,
                created_at: now,
            };
            let id = user.id.0.clone();
            state.users.insert(user.id.clone(), user);
            Ok(id)
        }
        Command::UpdateUser {
            user,
            first_name,
            last_name,
        } => {
            let u = user_mut(state, &user)?;
            if let Some(first) = first_name {
                u.first_name = validate::description("first_name", &first)?;
            }
            if let Some(last) = last_name {
                u.last_name = validate::description("last_name", &last)?;
            }
            Ok(user.0)
        }
        Command::DeactivateUser { user } => {
            user_mut(state, &user)?.status = UserStatus::Deactivated;
            Ok(user.0)
        }
        Command::ReactivateUser { user } => {
            let u = user_mut(state, &user)?;
            if u.status == UserStatus::Invited {
                return Err(DomainError::invalid(
                    "user",
                    "an invited user becomes active by accepting the invitation",
                ));
            }
            u.status = UserStatus::Active;
            Ok(user.0)
        }
        Command::CreateGroup { name, description } => {
            let name = validate::group_name("name", &name)?;
            if state.group_by_name(&name).is_some() {
                return Err(DomainError::Duplicate {
                    kind: "group",
                    name,
                });
            }
            let group = Group {
                id: GroupId(format!("grp_{}", ctx.random_suffix())),
                name,
                description: validate::description("description", &description)?,
                legacy: false,
                created_at: now,
            };
            let id = group.id.0.clone();
            state.groups.insert(group.id.clone(), group);
            Ok(id)
        }
        Command::UpdateGroup {
            group,
            name,
            description,
        } => {
            if let Some(name) = name {
                let name = validate::group_name("name", &name)?;
                let current = group_mut(state, &group)?;
                if current.name != name {
                    if current.legacy {
                        return Err(DomainError::LegacyGroupProtected(current.name.clone()));
                    }
                    if state.group_by_name(&name).is_some() {
                        return Err(DomainError::Duplicate {
                            kind: "group",
                            name,
                        });
                    }
                    group_mut(state, &group)?.name = name;
                }
            }
            let g = group_mut(state, &group)?;
            if let Some(description) = description {
                g.description = validate::description("description", &description)?;
            }
            Ok(group.0)
        }
        Command::DeleteGroup { group } => {
            let g = state
                .groups
                .get(&group)
                .ok_or_else(|| not_found("group", group.as_str()))?;
            if g.legacy {
                return Err(DomainError::LegacyGroupProtected(g.name.clone()));
            }
            let naming: Vec<&str> = state
                .policies
                .values()
                .filter(|p| {
                    p.rules
                        .iter()
                        .any(|r| r.principal == PrincipalRef::Group(group.clone()))
                })
                .map(|p| p.name.as_str())
                .collect();
            if !naming.is_empty() {
                return Err(DomainError::GroupInUse {
                    group: g.name.clone(),
                    policies: naming.join(", "),
                });
            }
            state.groups.remove(&group);
            state.memberships.retain(|(g, _)| *g != group);
            Ok(group.0)
        }
        Command::AddGroupMember { group, user } => {
            group_mut(state, &group)?;
            user_mut(state, &user)?;
            state.memberships.insert((group.clone(), user));
            Ok(group.0)
        }
        Command::RemoveGroupMember { group, user } => {
            group_mut(state, &group)?;
            user_mut(state, &user)?;
            state.memberships.remove(&(group.clone(), user));
            Ok(group.0)
        }
        Command::CreatePolicy {
            name,
            description,
            rules,
        } => {
            let name = validate::display_name("name", &name)?;
            if state.policies.values().any(|p| p.name == name) {
                return Err(DomainError::Duplicate {
                    kind: "policy",
                    name,
                });
            }
            let rules = resolve_rules(catalog, state, rules)?;
            let policy = AccessPolicy {
                id: PolicyId(format!("pol_{}", ctx.random_suffix())),
                name,
                description: validate::description("description", &description)?,
                legacy_group: None,
                rules,
                created_at: now,
                updated_at: now,
            };
            let id = policy.id.0.clone();
            state.policies.insert(policy.id.clone(), policy);
            Ok(id)
        }
        Command::ReplacePolicy {
            policy,
            name,
            description,
            rules,
        } => {
            let name = validate::display_name("name", &name)?;
            let description = validate::description("description", &description)?;
            let rules = resolve_rules(catalog, state, rules)?;
            let current = state
                .policies
                .get(&policy)
                .ok_or_else(|| not_found("policy", policy.as_str()))?;
            if let Some(legacy) = &current.legacy_group {
                if name != current.name {
                    return Err(DomainError::DefaultPolicyProtected(current.name.clone()));
                }
                let fixed: BTreeSet<&String> = catalog
                    .legacy_group(legacy)
                    .map(|g| g.roles.iter().collect())
                    .unwrap_or_default();
                let fixed_text = || {
                    fixed
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                for rule in &rules {
                    let roles: BTreeSet<&String> = rule.roles.iter().collect();
                    if roles != fixed {
                        return Err(DomainError::DefaultPolicyRolesFixed {
                            policy: current.name.clone(),
                            roles: fixed_text(),
                        });
                    }
                }
                // The policy keeps binding its own group: only other principals come and go.
                let group = state.group_by_name(legacy).map(|g| g.id.clone());
                let binds_group = rules.iter().any(|r| match (&r.principal, &group) {
                    (PrincipalRef::Group(id), Some(g)) => id == g,
                    _ => false,
                });
                if !binds_group {
                    return Err(DomainError::DefaultPolicyGroupRequired {
                        policy: current.name.clone(),
                        group: legacy.clone(),
                    });
                }
            } else if state
                .policies
                .values()
                .any(|p| p.name == name && p.id != policy)
            {
                return Err(DomainError::Duplicate {
                    kind: "policy",
                    name,
                });
            }
            let p = state
                .policies
                .get_mut(&policy)
                .ok_or_else(|| not_found("policy", policy.as_str()))?;
            p.name = name;
            p.description = description;
            p.rules = rules;
            p.updated_at = now;
            Ok(policy.0)
        }
        Command::DeletePolicy { policy } => {
            let p = state
                .policies
                .get(&policy)
                .ok_or_else(|| not_found("policy", policy.as_str()))?;
            if p.legacy_group.is_some() {
                return Err(DomainError::DefaultPolicyProtected(p.name.clone()));
            }
            state.policies.remove(&policy);
            Ok(policy.0)
        }
        Command::CreateNamespace { name, access } => {
            let name = validate::dns_label("name", &name)?;
            if state.namespaces.values().any(|n| n.name == name) {
                return Err(DomainError::Duplicate {
                    kind: "namespace",
                    name,
                });
            }
            let namespace = Namespace {
                id: NamespaceId(format!("ns_{}", ctx.random_suffix())),
                name,
                created_at: now,
            };
            let id = namespace.id.clone();
            state.namespaces.insert(id.clone(), namespace);
            for (user, keys) in access {
                let keys = if keys.is_empty() {
                    vec!["r:full".to_string()]
                } else {
                    keys
                };
                set_namespace_keys(catalog, state, actor, &id, &user, keys)?;
            }
            Ok(id.0)
        }
        Command::DeleteNamespace { namespace } => {
            if state.namespaces.remove(&namespace).is_none() {
                return Err(not_found("namespace", namespace.as_str()));
            }
            state.namespace_grants.retain(|g| g.namespace != namespace);
            Ok(namespace.0)
        }
        Command::SetNamespaceAccess {
            namespace,
            user,
            keys,
        } => {
            if !state.namespaces.contains_key(&namespace) {
                return Err(not_found("namespace", namespace.as_str()));
            }
            set_namespace_keys(catalog, state, actor, &namespace, &user, keys)?;
            Ok(namespace.0)
        }
        Command::CreateCluster {
            name,
            api_server_url,
            ca_bundle,
        } => {
            let name = validate::dns_label("name", &name)?;
            if state.clusters.values().any(|c| c.name == name) {
                return Err(DomainError::Duplicate {
                    kind: "cluster",
                    name,
                });
            }
            let cluster = Cluster {
                id: ClusterId(format!("cls_{}", ctx.random_suffix())),
                name,
                api_server_url: validate::https_url("api_server_url", &api_server_url)?,
                ca_bundle: validate::ca_bundle("ca_bundle", &ca_bundle)?,
                created_at: now,
            };
            let id = cluster.id.0.clone();
            state.clusters.insert(cluster.id.clone(), cluster);
            Ok(id)
        }
        Command::UpdateCluster {
            cluster,
            api_server_url,
            ca_bundle,
        } => {
            let c = state
                .clusters
                .get_mut(&cluster)
                .ok_or_else(|| not_found("cluster", cluster.as_str()))?;
            if let Some(url) = api_server_url {
                c.api_server_url = validate::https_url("api_server_url", &url)?;
            }
            if let Some(ca) = ca_bundle {
                c.ca_bundle = validate::ca_bundle("ca_bundle", &ca)?;
            }
            Ok(cluster.0)
        }
        Command::DeleteCluster { cluster } => {
            if state.clusters.remove(&cluster).is_none() {
                return Err(not_found("cluster", cluster.as_str()));
            }
            Ok(cluster.0)
        }
        Command::CreatePersonalToken {
            user,
            name,
            note,
            lifetime,
            secret_hash,
            display_prefix,
        } => {
            if matches!(actor, Actor::User(caller) if *caller != user) {
                return Err(DomainError::invalid(
                    "user",
                    "a personal token is created by its own user",
                ));
            }
            match state.users.get(&user) {
                Some(u) if u.status == UserStatus::Active => {}
                Some(_) => {
                    return Err(DomainError::invalid(
                        "user",
                        "only an active user can hold a token",
                    ))
                }
                None => return Err(not_found("user", user.as_str())),
            }
            let created_by = match actor {
                Actor::User(caller) => caller.clone(),
                Actor::System => user.clone(),
            };
            let name = if name.trim().is_empty() {
                String::new()
            } else {
                validate::display_name("name", &name)?
            };
            let token = ApiToken {
                id: TokenId(format!("tok_{}", ctx.random_suffix())),
                kind: TokenKind::Personal,
                user: user.clone(),
                name,
                note: validate::description("note", &note)?,
                secret_hash,
                display_prefix,
                created_by,
                created_at: now,
                expires_at: lifetime.expires_at(now),
            };
            let id = token.id.0.clone();
            state.tokens.insert(token.id.clone(), token);
            Ok(id)
        }
        Command::DeletePersonalToken { token } => {
            let owned = state
                .tokens
                .get(&token)
                .is_some_and(|t| Actor::User(t.user.clone()) == *actor || *actor == Actor::System);
            // Another user's token is reported as absent, not as forbidden: token ids are
            // not something a caller may probe for.
            if !owned {
                return Err(not_found("token", token.as_str()));
            }
            state.tokens.remove(&token);
            Ok(token.0)
        }
    }
}

/// Replaces the grantable namespace keys of one user in one namespace, keeping the
/// reserved keys an operator granted (only an operator may add or remove those).
fn set_namespace_keys(
    catalog: &Catalog,
    state: &mut OrgState,
    actor: &Actor,
    namespace: &NamespaceId,
    user: &UserId,
    keys: Vec<String>,
) -> Result<(), DomainError> {
    if !state.users.contains_key(user) {
        return Err(DomainError::UnknownPrincipal {
            kind: "user",
            id: user.0.clone(),
        });
    }
    let operator = *actor == Actor::System;
    let mut wanted = BTreeSet::new();
    for key in keys {
        let perm = catalog
            .namespace_permission(&key)
            .ok_or_else(|| DomainError::UnknownNamespacePermission(key.clone()))?;
        if perm.reserved && !operator {
            return Err(DomainError::ReservedNamespacePermission(key));
        }
        wanted.insert(key);
    }
    state.namespace_grants.retain(|g| {
        let reserved = catalog
            .namespace_permission(&g.key)
            .is_some_and(|p| p.reserved);
        !(g.namespace == *namespace && g.user == *user && (operator || !reserved))
    });
    for key in wanted {
        state.namespace_grants.insert(NamespaceGrant {
            namespace: namespace.clone(),
            user: user.clone(),
            key,
        });
    }
    Ok(())
}

/// Resolves the principals of rules (ids, group names, user emails) and validates roles.
fn resolve_rules(
    catalog: &Catalog,
    state: &OrgState,
    rules: Vec<RuleInput>,
) -> Result<Vec<Rule>, DomainError> {
    if rules.len() > validate::MAX_RULES {
        return Err(DomainError::invalid(
            "rules",
            format!("a policy holds at most {} rules", validate::MAX_RULES),
        ));
    }
    let mut out = Vec::with_capacity(rules.len());
    for (i, rule) in rules.into_iter().enumerate() {
        let principal = resolve_principal(state, &rule.principal)?;
        if rule.roles.is_empty() {
            return Err(DomainError::invalid(
                &format!("rules[{i}].roles"),
                "a rule grants at least one role",
            ));
        }
        let mut roles: Vec<String> = Vec::with_capacity(rule.roles.len());
        for role in rule.roles {
            if catalog.role(&role).is_none() {
                return Err(DomainError::UnknownRole(role));
            }
            if !roles.contains(&role) {
                roles.push(role);
            }
        }
        out.push(Rule { principal, roles });
    }
    Ok(out)
}

/// Finds the principal a caller named, by id or (group) name or (user) email.
pub fn resolve_principal(
    state: &OrgState,
    input: &PrincipalInput,
) -> Result<PrincipalRef, DomainError> {
    let unknown = |kind: &'static str| DomainError::UnknownPrincipal {
        kind,
        id: input.id.chars().take(validate::MAX_NAME).collect(),
    };
    match input.kind {
        PrincipalKind::User => {
            let id = UserId(input.id.clone());
            if state.users.contains_key(&id) {
                Ok(PrincipalRef::User(id))
            } else {
                state
                    .user_by_email(&input.id)
                    .map(|u| PrincipalRef::User(u.id.clone()))
                    .ok_or_else(|| unknown("user"))
            }
        }
        PrincipalKind::Group => {
            let id = GroupId(input.id.clone());
            if state.groups.contains_key(&id) {
                Ok(PrincipalRef::Group(id))
            } else {
                state
                    .group_by_name(&input.id)
                    .map(|g| PrincipalRef::Group(g.id.clone()))
                    .ok_or_else(|| unknown("group"))
            }
        }
        PrincipalKind::ServiceAccount => {
            let id = ServiceAccountId(input.id.clone());
            if state.service_accounts.contains_key(&id) {
                Ok(PrincipalRef::ServiceAccount(id))
            } else {
                Err(unknown("service_account"))
            }
        }
    }
}

/// Active users who hold the IAM Admin role through any rule.
pub fn admin_holders(catalog: &Catalog, state: &OrgState) -> BTreeSet<UserId> {
    let Some(_) = catalog.role("iam-admin") else {
        return BTreeSet::new();
    };
    let mut users = BTreeSet::new();
    for policy in state.policies.values() {
        for rule in &policy.rules {
            if !rule.roles.iter().any(|r| r == "iam-admin") {
                continue;
            }
            match &rule.principal {
                PrincipalRef::User(id) => {
                    users.insert(id.clone());
                }
                PrincipalRef::Group(id) => users.extend(state.members_of(id).cloned()),
                PrincipalRef::ServiceAccount(_) => {}
            }
        }
    }
    users.retain(|id| {
        state
            .users
            .get(id)
            .is_some_and(|u| u.status == UserStatus::Active)
    });
    users
}

/// Spec section 7, rules 1 to 3, checked on the state a command would produce.
fn check_invariants(
    catalog: &Catalog,
    before: &OrgState,
    after: &OrgState,
    actor: &Actor,
) -> Result<(), DomainError> {
    let admins_after = admin_holders(catalog, after);
    if admins_after.is_empty() {
        return Err(DomainError::LastAdmin);
    }
    if let Actor::User(user) = actor {
        // The default admin stays an active admin and a member of `admin` (spec 7.3).
        let default_admin = &before.org.default_admin;
        let in_admin_group = |state: &OrgState| {
            state.group_by_name("admin").is_some_and(|g| {
                state
                    .memberships
                    .contains(&(g.id.clone(), default_admin.clone()))
            })
        };
        if (admin_holders(catalog, before).contains(default_admin)
            && !admins_after.contains(default_admin))
            || (in_admin_group(before) && !in_admin_group(after))
        {
            return Err(DomainError::DefaultAdminProtected);
        }
        if effective_actions(catalog, before, user) != effective_actions(catalog, after, user) {
            return Err(DomainError::SelfPrivilegeChange);
        }
    }
    Ok(())
}

fn diff_map<K: Ord, V: PartialEq + Clone>(
    before: &BTreeMap<K, V>,
    after: &BTreeMap<K, V>,
    wrap: fn(V) -> Entity,
    puts: &mut Vec<Change>,
    deletes: &mut Vec<Change>,
) {
    for (k, v) in after {
        match before.get(k) {
            Some(old) if old == v => {}
            old => puts.push(Change::Put {
                before: old.cloned().map(wrap),
                after: wrap(v.clone()),
            }),
        }
    }
    for (k, v) in before {
        if !after.contains_key(k) {
            deletes.push(Change::Delete {
                before: wrap(v.clone()),
            });
        }
    }
}

fn diff_set<T: Ord + Clone>(
    before: &BTreeSet<T>,
    after: &BTreeSet<T>,
    wrap: fn(T) -> Entity,
    puts: &mut Vec<Change>,
    deletes: &mut Vec<Change>,
) {
    for v in after.difference(before) {
        puts.push(Change::Put {
            before: None,
            after: wrap(v.clone()),
        });
    }
    for v in before.difference(after) {
        deletes.push(Change::Delete {
            before: wrap(v.clone()),
        });
    }
}

/// The changes that turn `before` into `after`, ordered so that a store with foreign keys
/// can apply them one by one: child deletions, parent deletions, parent puts, child puts.
pub fn diff(before: &OrgState, after: &OrgState) -> Vec<Change> {
    let mut parent_puts = Vec::new();
    let mut parent_deletes = Vec::new();
    let mut child_puts = Vec::new();
    let mut child_deletes = Vec::new();
    if before.org != after.org {
        parent_puts.push(Change::Put {
            before: (before.revision > 0).then(|| Entity::Organization(before.org.clone())),
            after: Entity::Organization(after.org.clone()),
        });
    }
    let (p, d) = (&mut parent_puts, &mut parent_deletes);
    diff_map(&before.users, &after.users, Entity::User, p, d);
    diff_map(
        &before.service_accounts,
        &after.service_accounts,
        Entity::ServiceAccount,
        p,
        d,
    );
    diff_map(&before.groups, &after.groups, Entity::Group, p, d);
    diff_map(
        &before.namespaces,
        &after.namespaces,
        Entity::Namespace,
        p,
        d,
    );
    diff_map(&before.clusters, &after.clusters, Entity::Cluster, p, d);
    let (p, d) = (&mut child_puts, &mut child_deletes);
    diff_set(
        &before.memberships,
        &after.memberships,
        |(group, user)| Entity::Membership { group, user },
        p,
        d,
    );
    diff_map(&before.policies, &after.policies, Entity::Policy, p, d);
    diff_set(
        &before.namespace_grants,
        &after.namespace_grants,
        Entity::NamespaceGrant,
        p,
        d,
    );
    diff_map(&before.tokens, &after.tokens, Entity::Token, p, d);
    // Parents deleted in reverse order of dependence: users last.
    parent_deletes.reverse();
    let mut out = child_deletes;
    out.extend(parent_deletes);
    out.extend(parent_puts);
    out.extend(child_puts);
    out
}
