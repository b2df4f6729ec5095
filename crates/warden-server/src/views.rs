//! Conversions from domain entities to the API's JSON types, and look-ups of path keys.

use warden_client::model as m;
use warden_core::engine::GrantSource;
use warden_core::{
    AccessPolicy, ApiToken, Cluster, Group, GroupId, Namespace, OrgState, PrincipalRef, Snapshot,
    User,
};

use crate::problem::ApiError;

pub fn organization(state: &OrgState) -> m::Organization {
    m::Organization {
        id: state.org.id.0.clone(),
        name: state.org.name.clone(),
        default_admin: state.org.default_admin.0.clone(),
        created_at: state.org.created_at.0,
        revision: state.revision,
    }
}

pub fn user(snapshot: &Snapshot, user: &User) -> m::User {
    let state = snapshot.state();
    m::User {
        id: user.id.0.clone(),
        email: user.email.clone(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        status: user.status.as_str().to_string(),
        created_at: user.created_at.0,
        groups: state
            .groups_of(&user.id)
            .filter_map(|g| state.groups.get(g))
            .map(|g| g.name.clone())
            .collect(),
        is_org_admin: snapshot.is_org_admin(user.id.as_str()),
        is_default_admin: state.org.default_admin == user.id,
    }
}

pub fn group(state: &OrgState, group: &Group) -> m::Group {
    m::Group {
        id: group.id.0.clone(),
        name: group.name.clone(),
        description: group.description.clone(),
        legacy: group.legacy,
        created_at: group.created_at.0,
        member_count: state.members_of(&group.id).count(),
    }
}

pub fn principal(state: &OrgState, principal: &PrincipalRef) -> m::Principal {
    let name = match principal {
        PrincipalRef::User(id) => state.users.get(id).map(|u| u.email.clone()),
        PrincipalRef::Group(id) => state.groups.get(id).map(|g| g.name.clone()),
        PrincipalRef::ServiceAccount(id) => state.service_accounts.get(id).map(|s| s.name.clone()),
    };
    m::Principal {
        kind: principal.kind().to_string(),
        id: principal.id().to_string(),
        name: name.unwrap_or_default(),
    }
}

pub fn policy(state: &OrgState, policy: &AccessPolicy) -> m::Policy {
    m::Policy {
        id: policy.id.0.clone(),
        name: policy.name.clone(),
        description: policy.description.clone(),
        default_for_group: policy.legacy_group.clone(),
        rules: policy
            .rules
            .iter()
            .map(|r| m::Rule {
                principal: principal(state, &r.principal),
                roles: r.roles.clone(),
            })
            .collect(),
        created_at: policy.created_at.0,
        updated_at: policy.updated_at.0,
    }
}

pub fn namespace(state: &OrgState, namespace: &Namespace) -> m::Namespace {
    let mut access: Vec<m::NamespaceAccess> = Vec::new();
    for grant in state
        .namespace_grants
        .iter()
        .filter(|g| g.namespace == namespace.id)
    {
        match access.iter_mut().find(|a| a.user_id == grant.user.0) {
            Some(entry) => entry.permissions.push(grant.key.clone()),
            None => access.push(m::NamespaceAccess {
                user_id: grant.user.0.clone(),
                email: state
                    .users
                    .get(&grant.user)
                    .map(|u| u.email.clone())
                    .unwrap_or_default(),
                permissions: vec![grant.key.clone()],
            }),
        }
    }
    m::Namespace {
        id: namespace.id.0.clone(),
        name: namespace.name.clone(),
        created_at: namespace.created_at.0,
        access,
    }
}

pub fn cluster(cluster: &Cluster) -> m::Cluster {
    m::Cluster {
        id: cluster.id.0.clone(),
        name: cluster.name.clone(),
        api_server_url: cluster.api_server_url.clone(),
        ca_bundle: cluster.ca_bundle.clone(),
        created_at: cluster.created_at.0,
    }
}

pub fn token(token: &ApiToken, last_used_at: Option<i64>) -> m::Token {
    m::Token {
        id: token.id.0.clone(),
        kind: token.kind.as_str().to_string(),
        user_id: token.user.0.clone(),
        name: token.name.clone(),
        note: token.note.clone(),
        display_prefix: token.display_prefix.clone(),
        created_by: token.created_by.0.clone(),
        created_at: token.created_at.0,
        expires_at: token.expires_at.map(|t| t.0),
        last_used_at,
    }
}

pub fn grant(source: GrantSource) -> m::GrantSource {
    m::GrantSource {
        policy_id: source.policy_id.0,
        policy_name: source.policy_name,
        rule_index: source.rule_index,
        via_group: source.via_group.as_ref().map(|g| g.name.clone()),
        via_group_id: source.via_group.map(|g| g.id.0),
        role_id: source.role_id,
    }
}

// Path keys: an id, or a natural key (email, name) for convenience.

pub fn find_user<'a>(state: &'a OrgState, key: &str) -> Result<&'a User, ApiError> {
    state
        .users
        .get(&key.into())
        .or_else(|| state.user_by_email(key))
        .ok_or_else(|| ApiError::not_found("user", key))
}

pub fn find_group<'a>(state: &'a OrgState, key: &str) -> Result<&'a Group, ApiError> {
    state
        .groups
        .get(&GroupId(key.to_string()))
        .or_else(|| state.group_by_name(key))
        .ok_or_else(|| ApiError::not_found("group", key))
}

pub fn find_policy<'a>(state: &'a OrgState, key: &str) -> Result<&'a AccessPolicy, ApiError> {
    state
        .policies
        .get(&key.into())
        .or_else(|| state.policies.values().find(|p| p.name == key))
        .ok_or_else(|| ApiError::not_found("policy", key))
}

pub fn find_namespace<'a>(state: &'a OrgState, key: &str) -> Result<&'a Namespace, ApiError> {
    state
        .namespaces
        .get(&key.into())
        .or_else(|| state.namespaces.values().find(|n| n.name == key))
        .ok_or_else(|| ApiError::not_found("namespace", key))
}

pub fn find_cluster<'a>(state: &'a OrgState, key: &str) -> Result<&'a Cluster, ApiError> {
    state
        .clusters
        .get(&key.into())
        .or_else(|| state.clusters.values().find(|c| c.name == key))
        .ok_or_else(|| ApiError::not_found("cluster", key))
}
