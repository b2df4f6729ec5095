//! The difference of two states as row changes, ordered for a store with foreign keys.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::domain::*;

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
// A put carries two entities and a delete one; changes are built once per write and moved
// to the store, never held in bulk, so boxing would only add allocations.
#[allow(clippy::large_enum_variant)]
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
