//! Building snapshots: [`Snapshot::compile`] from a whole state, [`Snapshot::patch`] from the
//! previous snapshot and the changes a write made.
//!
//! Both compute every part the same way (the per-principal grant is "direct rules in force
//! plus the grants of its groups"); `compile` does it in bulk, `patch` for the principals,
//! groups and namespaces the changes name. The property tests hold them to the same answers.

use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use super::inline_id::InlineId;
use super::rule_index::{IndexedRule, RuleIndex};
use super::table::{Entry, PrincipalTable, SetTable};
use super::{small, FastMap, Grant, RoleMask, Snapshot, BEGINNING, FOREVER};
use crate::actionset::ActionSet;
use crate::catalog::Catalog;
use crate::command::{Change, Entity};
use crate::domain::{
    AccessPolicy, GroupId, NamespaceGrant, NamespaceId, OrgState, PolicyId, PrincipalRef, Rule,
    Timestamp, UserId, UserStatus,
};

/// How many more sets than principals a patched snapshot may hold before a write recompiles
/// it (each patch adds at most one per principal it recomputes).
const SPARE_SETS: usize = 4096;

/// The role bit of IAM Admin (none if the catalog lacks it).
fn admin_bit(role: Option<crate::catalog::RoleIndex>) -> RoleMask {
    role.and_then(|i| (1 as RoleMask).checked_shl(u32::from(i)))
        .unwrap_or(0)
}

/// The bit of a namespace permission key (keys past the 32nd are never held).
fn key_bit(catalog: &Catalog, key: &str) -> u32 {
    catalog
        .namespace_permissions()
        .iter()
        .position(|p| p.key == key)
        .and_then(|i| 1u32.checked_shl(u32::try_from(i).ok()?))
        .unwrap_or(0)
}

/// The bits a grant of `key` holds: the key and every key it implies.
fn key_bits(catalog: &Catalog, key: &str) -> u32 {
    let Some(perm) = catalog.namespace_permission(key) else {
        return 0;
    };
    perm.implies
        .iter()
        .fold(key_bit(catalog, &perm.key), |bits, k| {
            bits | key_bit(catalog, k)
        })
}

/// The window around `now` in which the rules in force are those in force at `now`.
fn window_of<'a>(rules: impl Iterator<Item = &'a Rule>, now: Timestamp) -> (Timestamp, Timestamp) {
    let mut window = (BEGINNING, FOREVER);
    for at in rules.filter_map(|r| r.expires_at) {
        narrow(&mut window, at, now);
    }
    window
}

fn narrow(window: &mut (Timestamp, Timestamp), at: Timestamp, now: Timestamp) {
    if at <= now {
        window.0 = window.0.max(at);
    } else {
        window.1 = window.1.min(at);
    }
}

fn as_policy(entity: Option<&Entity>) -> Option<&AccessPolicy> {
    match entity {
        Some(Entity::Policy(p)) => Some(p),
        _ => None,
    }
}

/// The grants of a user's groups.
fn from_groups(state: &OrgState, group_grants: &FastMap<GroupId, Grant>, user: &UserId) -> Grant {
    let mut grant = Grant::default();
    for group in state.groups_of(user) {
        if let Some(g) = group_grants.get(group) {
            grant.add(g);
        }
    }
    grant
}

impl Snapshot {
    /// Compiles an organization's state for questions asked around `now`. Rules naming an
    /// unknown role or principal grant nothing (the command layer refuses to write them).
    pub fn compile(catalog: Arc<Catalog>, state: Arc<OrgState>, now: Timestamp) -> Snapshot {
        let window = window_of(state.policies.values().flat_map(|p| &p.rules), now);

        // Rules: every one indexed by the principal it names (for explanations and checks at
        // any instant); those in force at `now` summed per principal and per group.
        let mut rules_by_principal = RuleIndex::default();
        let mut rule_ends = imbl::OrdSet::new();
        // Keyed by inline ids: comparing one is three words, not a read of another
        // allocation's bytes (which cost a cache miss per principal).
        let mut direct: FxHashMap<InlineId, Grant> = FxHashMap::default();
        // Built in an ordinary map (look-ups are many), made persistent at the end.
        let mut by_group: FxHashMap<&GroupId, Grant> = FxHashMap::default();
        for policy in state.policies.values() {
            let name: Arc<str> = policy.name.as_str().into();
            for (r, rule) in policy.rules.iter().enumerate() {
                let indexed = IndexedRule::new(&catalog, &name, rule);
                if let Some(at) = rule.expires_at {
                    rule_ends.insert((at, policy.id.clone(), small(r)));
                }
                // A group any rule names has an entry, even when none is in force (as
                // `group_grant` computes it).
                let grant = if rule.in_force(now) {
                    indexed.grant(&catalog)
                } else {
                    Grant::default()
                };
                rules_by_principal.insert(&rule.principal, &policy.id, small(r), indexed);
                match &rule.principal {
                    PrincipalRef::Group(g) => by_group.entry(g).or_default().add(&grant),
                    p => {
                        if let Some(key) = InlineId::new(p.id()) {
                            direct.entry(key).or_default().add(&grant);
                        }
                    }
                }
            }
        }
        // The members of each group a rule names get its grant (the memberships of other
        // groups are not even read).
        let mut through_groups: FxHashMap<InlineId, Grant> = FxHashMap::default();
        for (group, grant) in &by_group {
            for user in state.members_of(group) {
                if let Some(key) = InlineId::new(user.as_str()) {
                    through_groups.entry(key).or_default().add(grant);
                }
            }
        }
        let group_grants: FastMap<GroupId, Grant> = by_group
            .iter()
            .map(|(g, grant)| (GroupId::clone(g), *grant))
            .collect();

        let principals = state.users.len() + state.service_accounts.len();
        let mut table = PrincipalTable::with_capacity(principals);
        let mut sets = SetTable::new();
        // Sets are interned through an ordinary map first: most principals share one.
        let mut seen: FxHashMap<ActionSet, u32> = FxHashMap::default();
        let iam_admin_role = catalog.role_index("iam-admin");
        let everyone = state
            .users
            .values()
            .map(|u| (u.id.as_str(), u.status == UserStatus::Active, true))
            .chain(
                state
                    .service_accounts
                    .values()
                    .map(|a| (a.id.as_str(), a.active, false)),
            );
        for (id, active, is_user) in everyone {
            // An id too long to inline is never generated by Warden; such a principal could
            // not be checked either, so it is left out consistently.
            let Some(key) = InlineId::new(id) else {
                continue;
            };
            let mut grant = direct.get(&key).copied().unwrap_or_default();
            if let Some(g) = through_groups.get(&key) {
                grant.add(g);
            }
            let (effective, flags) =
                Self::entry_for(admin_bit(iam_admin_role), grant, active, is_user);
            let set = *seen
                .entry(effective)
                .or_insert_with(|| sets.intern(effective));
            table.insert(key, Entry { set, flags });
        }

        let mut namespace_keys: FastMap<Box<str>, FastMap<InlineId, u32>> = FastMap::default();
        for namespace in state.namespaces.values() {
            namespace_keys.insert(
                namespace.name.clone().into_boxed_str(),
                Self::keys_in(&catalog, &state, &namespace.id),
            );
        }

        Snapshot {
            iam_admin_role,
            catalog,
            state,
            table,
            sets,
            rules_by_principal,
            rule_ends,
            group_grants,
            namespace_keys,
            window_span: window.1 .0.wrapping_sub(window.0 .0).cast_unsigned(),
            window,
        }
    }

    /// The effective actions and table flags of a principal with this grant.
    fn entry_for(
        admin_bit: RoleMask,
        grant: Grant,
        active: bool,
        is_user: bool,
    ) -> (ActionSet, u32) {
        let effective = if active {
            grant.actions
        } else {
            ActionSet::EMPTY
        };
        let flag = |on: bool, flag: u32| if on { flag } else { 0 };
        let flags = flag(active, Entry::ACTIVE)
            | flag(is_user, Entry::USER)
            | flag(grant.roles & admin_bit != 0, Entry::IAM_ADMIN);
        (effective, flags)
    }

    fn admin_bit(&self) -> RoleMask {
        admin_bit(self.iam_admin_role)
    }

    /// User → keys held in one namespace (grants are ordered by namespace, then user).
    fn keys_in(
        catalog: &Catalog,
        state: &OrgState,
        namespace: &NamespaceId,
    ) -> FastMap<InlineId, u32> {
        let mut keys: FastMap<InlineId, u32> = FastMap::default();
        for grant in Self::grants_in(state, namespace, None) {
            if let Some(user) = InlineId::new(grant.user.as_str()) {
                *keys.entry(user).or_default() |= key_bits(catalog, &grant.key);
            }
        }
        keys
    }

    /// The grants in one namespace, from `user` on (grants are ordered by namespace, user
    /// and key).
    fn grants_in<'a>(
        state: &'a OrgState,
        namespace: &'a NamespaceId,
        user: Option<&UserId>,
    ) -> impl Iterator<Item = &'a NamespaceGrant> + 'a {
        let from = NamespaceGrant {
            namespace: namespace.clone(),
            user: user.cloned().unwrap_or_else(|| UserId::from(String::new())),
            key: String::new(),
        };
        state
            .namespace_grants
            .range(from..)
            .take_while(move |g| g.namespace == *namespace)
    }

    /// The snapshot of `state`, which is this snapshot's state after `changes`, answering
    /// around `now`. Costs what the changes touch: the principals they name (a group's rule:
    /// its members) are recomputed, everything else is shared with this snapshot. Falls back
    /// to [`Snapshot::compile`] when `now` is outside this snapshot's window.
    pub fn patch<'a>(
        &self,
        state: Arc<OrgState>,
        changes: impl IntoIterator<Item = &'a Change>,
        now: Timestamp,
    ) -> Snapshot {
        // Sets no principal uses any more pile up in the set table: past a margin, start
        // afresh.
        if !self.in_window(now) || self.sets.len() > self.table.len() + SPARE_SETS {
            return Snapshot::compile(self.catalog.clone(), state, now);
        }
        let mut next = Snapshot {
            state: state.clone(),
            ..self.clone()
        };
        let mut principals: FxHashSet<PrincipalRef> = FxHashSet::default();
        let mut groups: FxHashSet<GroupId> = FxHashSet::default();
        let mut namespaces: FxHashSet<NamespaceId> = FxHashSet::default();
        let mut namespace_names: FxHashSet<String> = FxHashSet::default();
        let mut namespace_users: FxHashSet<(NamespaceId, UserId)> = FxHashSet::default();
        let mut window = self.window;
        for change in changes {
            let (before, after) = match change {
                Change::Put { before, after } => (before.as_ref(), Some(after)),
                Change::Delete { before } => (Some(before), None),
            };
            for entity in before.iter().chain(after.iter()).copied() {
                match entity {
                    Entity::User(u) => {
                        principals.insert(PrincipalRef::User(u.id.clone()));
                    }
                    Entity::ServiceAccount(a) => {
                        principals.insert(PrincipalRef::ServiceAccount(a.id.clone()));
                    }
                    Entity::Membership { user, .. } => {
                        principals.insert(PrincipalRef::User(user.clone()));
                    }
                    Entity::Group(g) => {
                        groups.insert(g.id.clone());
                    }
                    Entity::Namespace(n) => {
                        namespaces.insert(n.id.clone());
                        namespace_names.insert(n.name.clone());
                    }
                    Entity::NamespaceGrant(g) => {
                        namespace_users.insert((g.namespace.clone(), g.user.clone()));
                    }
                    Entity::Policy(_)
                    | Entity::Organization(_)
                    | Entity::Cluster(_)
                    | Entity::Token(_)
                    | Entity::Invitation(_) => {}
                }
            }
            let (old, new) = (as_policy(before), as_policy(after));
            if old.is_none() && new.is_none() {
                continue;
            }
            next.reindex_rules(old, new);
            let old_rules = old.map(|p| p.rules.as_slice()).unwrap_or_default();
            let new_rules = new.map(|p| p.rules.as_slice()).unwrap_or_default();
            for i in 0..old_rules.len().max(new_rules.len()) {
                let (o, n) = (old_rules.get(i), new_rules.get(i));
                if o == n {
                    continue;
                }
                for rule in o.iter().chain(n.iter()) {
                    match &rule.principal {
                        PrincipalRef::Group(g) => {
                            groups.insert(g.clone());
                        }
                        p => {
                            principals.insert(p.clone());
                        }
                    }
                }
            }
            for at in new_rules.iter().filter_map(|r| r.expires_at) {
                narrow(&mut window, at, now);
            }
        }
        next.window = window;
        next.window_span = window.1 .0.wrapping_sub(window.0 .0).cast_unsigned();

        for group in &groups {
            let grant = next.group_grant(group, now);
            let changed = match grant {
                Some(g) => next.group_grants.insert(group.clone(), g) != Some(g),
                None => next.group_grants.remove(group).is_some(),
            };
            if changed {
                principals.extend(state.members_of(group).cloned().map(PrincipalRef::User));
            }
        }
        for principal in &principals {
            next.recompute(principal, now);
        }
        for name in &namespace_names {
            next.namespace_keys.remove(name.as_str());
        }
        for id in &namespaces {
            if let Some(namespace) = state.namespaces.get(id) {
                let keys = Self::keys_in(&next.catalog, &state, id);
                next.namespace_keys
                    .insert(namespace.name.clone().into_boxed_str(), keys);
            }
        }
        for (id, user) in namespace_users
            .iter()
            .filter(|(id, _)| !namespaces.contains(id))
        {
            let (Some(namespace), Some(key)) =
                (state.namespaces.get(id), InlineId::new(user.as_str()))
            else {
                continue;
            };
            let bits = Self::grants_in(&state, id, Some(user))
                .take_while(|g| g.user == *user)
                .fold(0, |bits, g| bits | key_bits(&next.catalog, &g.key));
            if let Some(users) = next.namespace_keys.get_mut(namespace.name.as_str()) {
                if bits == 0 {
                    users.remove(&key);
                } else {
                    users.insert(key, bits);
                }
            }
        }
        next
    }

    /// Replaces a policy's rules in the rule indexes.
    fn reindex_rules(&mut self, old: Option<&AccessPolicy>, new: Option<&AccessPolicy>) {
        fn rules(p: Option<&AccessPolicy>) -> impl Iterator<Item = (&PolicyId, u32, &Rule)> {
            p.into_iter().flat_map(|p| {
                p.rules
                    .iter()
                    .enumerate()
                    .map(move |(r, rule)| (&p.id, small(r), rule))
            })
        }
        for (policy, r, rule) in rules(old) {
            self.rules_by_principal.remove(&rule.principal, policy, r);
            if let Some(at) = rule.expires_at {
                self.rule_ends.remove(&(at, policy.clone(), r));
            }
        }
        let name: Arc<str> = new.map(|p| p.name.as_str()).unwrap_or_default().into();
        for (policy, r, rule) in rules(new) {
            let indexed = IndexedRule::new(&self.catalog, &name, rule);
            self.rules_by_principal
                .insert(&rule.principal, policy, r, indexed);
            if let Some(at) = rule.expires_at {
                self.rule_ends.insert((at, policy.clone(), r));
            }
        }
    }

    /// What the rules naming `group` grant at `now`; `None` when no rule names it.
    fn group_grant(&self, group: &GroupId, now: Timestamp) -> Option<Grant> {
        let me = PrincipalRef::Group(group.clone());
        let mut grant = None::<Grant>;
        for (_, _, rule) in self.rules_by_principal.get_ref(&me) {
            let g = grant.get_or_insert_with(Grant::default);
            if rule.in_force(now) {
                g.add(&rule.grant(&self.catalog));
            }
        }
        grant
    }

    /// Recomputes (or removes) one acting principal's table entry at `now`.
    fn recompute(&mut self, principal: &PrincipalRef, now: Timestamp) {
        let Some(key) = InlineId::new(principal.id()) else {
            return;
        };
        let (active, is_user) = match principal {
            PrincipalRef::User(id) => match self.state.users.get(id) {
                Some(u) => (u.status == UserStatus::Active, true),
                None => return self.table.remove(&key),
            },
            PrincipalRef::ServiceAccount(id) => match self.state.service_accounts.get(id) {
                Some(a) => (a.active, false),
                None => return self.table.remove(&key),
            },
            PrincipalRef::Group(_) => return,
        };
        let mut grant = Grant::default();
        for (_, _, rule) in self.rules_by_principal.get_ref(principal) {
            if rule.in_force(now) {
                grant.add(&rule.grant(&self.catalog));
            }
        }
        if let PrincipalRef::User(id) = principal {
            grant.add(&from_groups(&self.state, &self.group_grants, id));
        }
        let (effective, flags) = Self::entry_for(self.admin_bit(), grant, active, is_user);
        let entry = Entry {
            set: self.sets.intern(effective),
            flags,
        };
        self.table.insert(key, entry);
    }
}
