//! The difference of two whole states as row changes, ordered for a store with foreign keys:
//! for what no command records (a generated organization written at once, tests). Commands
//! record their changes as they apply them (`changes.rs`).

use imbl::{OrdMap, OrdSet};

use super::{Change, Entity};
use crate::domain::*;

fn diff_map<K: Ord + Clone, V: PartialEq + Clone>(
    before: &OrdMap<K, V>,
    after: &OrdMap<K, V>,
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
    before: &OrdSet<T>,
    after: &OrdSet<T>,
    wrap: fn(T) -> Entity,
    puts: &mut Vec<Change>,
    deletes: &mut Vec<Change>,
) {
    for v in after.iter().filter(|v| !before.contains(*v)) {
        puts.push(Change::Put {
            before: None,
            after: wrap(v.clone()),
        });
    }
    for v in before.iter().filter(|v| !after.contains(*v)) {
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
        before.memberships(),
        after.memberships(),
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
    diff_map(
        &before.invitations,
        &after.invitations,
        Entity::Invitation,
        p,
        d,
    );
    // Parents deleted in reverse order of dependence: users last.
    parent_deletes.reverse();
    let mut out = child_deletes;
    out.extend(parent_deletes);
    out.extend(parent_puts);
    out.extend(child_puts);
    out
}
