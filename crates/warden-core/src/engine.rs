//! The authorization engine: a per-organization snapshot compiled from [`OrgState`].
//!
//! Default deny: a principal may perform an action only if some rule of some access policy
//! names it, or a group it belongs to, with a role containing the action. Compilation
//! interns every principal to a small integer and precomputes its effective [`ActionSet`],
//! so a check is two hash look-ups and a bit test. Explanations are computed on demand from
//! per-principal and per-group indexes of the rules that name them.

use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::actionset::{ActionId, ActionSet};
use crate::catalog::{Catalog, ResolvedAction};
use crate::domain::{GroupId, OrgId, OrgState, PolicyId, PrincipalRef, UserId, UserStatus};

/// A bit per catalog role (the catalog has 19; a `u64` leaves room).
pub type RoleMask = u64;

const INLINE_ID_BYTES: usize = 23;

#[cfg(test)]
mod inline_id_tests {
    use super::*;

    #[test]
    fn ids_of_every_length_are_distinct_keys() {
        let ids: Vec<String> = (0..=INLINE_ID_BYTES).map(|n| "x".repeat(n)).collect();
        let keys: Vec<InlineId> = ids.iter().map(|id| InlineId::new(id).unwrap()).collect();
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_ne!(InlineId::new("usr_ab"), InlineId::new("usr_ba"));
        assert_eq!(
            InlineId::new("usr_0123456789abcdef"),
            InlineId::new("usr_0123456789abcdef")
        );
        assert!(InlineId::new(&"y".repeat(24)).is_none());
        // Trailing bytes of a short tail are kept in place.
        let k = InlineId::new("abcdefghijk").unwrap();
        assert_eq!(k.0[1], u64::from_le_bytes(*b"ijk\0\0\0\0\0"));
    }
}

/// A principal id stored inline, so a look-up compares three words inside the hash table
/// instead of chasing a pointer to a heap string. Warden's ids (`usr_` + 16 characters)
/// fit; a longer string is never a principal. The last byte holds the length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct InlineId([u64; 3]);

impl InlineId {
    /// Builds the key with whole-word loads: copying bytes into a stack buffer and reading
    /// words back stalls store-to-load forwarding and tripled the cost of a check.
    #[inline]
    fn new(id: &str) -> Option<InlineId> {
        let src = id.as_bytes();
        if src.len() > INLINE_ID_BYTES {
            return None;
        }
        Some(InlineId([
            load_word(src, 0),
            load_word(src, 8),
            load_word(src, 16) | ((src.len() as u64) << 56),
        ]))
    }
}

/// The (up to) 8 bytes of `src` from `start`, little-endian, zero-padded.
#[inline]
fn load_word(src: &[u8], start: usize) -> u64 {
    let len = src.len();
    if start >= len {
        return 0;
    }
    let take = (len - start).min(8);
    let word = |from: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&src[from..from + 8]);
        u64::from_le_bytes(w)
    };
    if take == 8 {
        word(start)
    } else if len >= 8 {
        // The last 8 bytes, shifted so only the `take` wanted ones remain.
        word(len - 8) >> ((8 - take) * 8)
    } else {
        src[start..]
            .iter()
            .enumerate()
            .fold(0, |v, (i, b)| v | (u64::from(*b) << (8 * i)))
    }
}

impl std::hash::Hash for InlineId {
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // One folded 64×64→128-bit multiply mixes every bit of the three words; FxHash
        // alone leaves the low bits (the bucket index) depending on a few id characters,
        // which makes patterned ids (`usr_00001234`) collide.
        let a = self.0[0] ^ 0x9E37_79B9_7F4A_7C15;
        let b = self.0[1] ^ self.0[2].rotate_left(32) ^ 0xD6E8_FEB8_6659_FD93;
        let m = u128::from(a) * u128::from(b);
        state.write_u64((m as u64) ^ ((m >> 64) as u64));
    }
}

/// What a check needs, stored in the hash table next to its key: 32 bytes a bucket with
/// the key, so the table of a 10,000-user organization stays within a core's L2 cache.
#[derive(Debug, Clone, Copy)]
struct Slot {
    /// Index into `Snapshot::action_sets` of the effective actions (0, the empty set, when
    /// the principal is not active). Principals share few distinct sets, so the sets
    /// themselves are stored once.
    set: u32,
    /// Index into `Snapshot::entries`.
    index: u32,
}

/// The rest of what the engine knows about one acting principal.
#[derive(Debug, Clone)]
struct PrincipalEntry {
    /// Roles held through any rule, active or not.
    roles: RoleMask,
    active: bool,
    is_user: bool,
    /// The user's groups: `Snapshot::user_groups[groups.0..groups.1]`, indexes into
    /// `Snapshot::group_ids` (one flat array, not a vector per user).
    groups: (u32, u32),
    /// `(policy index, rule index)` of the rules naming the principal directly.
    rules: Vec<(u32, u32)>,
}

/// An organization's compiled, immutable authorization state at one revision.
#[derive(Debug)]
pub struct Snapshot {
    catalog: Arc<Catalog>,
    state: Arc<OrgState>,
    principals: FxHashMap<InlineId, Slot>,
    /// The distinct effective action sets; index 0 is the empty set.
    action_sets: Vec<ActionSet>,
    entries: Vec<PrincipalEntry>,
    user_groups: Vec<u32>,
    group_ids: Vec<GroupId>,
    /// Per group (same index as `group_ids`): the rules naming it.
    group_rules: Vec<Vec<(u32, u32)>>,
    policy_ids: Vec<PolicyId>,
    /// namespace name → user id → namespace keys held (implications expanded).
    namespace_keys: FxHashMap<Box<str>, FxHashMap<UserId, u32>>,
    iam_admin_role: Option<u16>,
}

/// Why a check was denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DenyReason {
    /// No rule grants the action to the principal or any of its groups.
    NoMatchingRule,
    /// The principal is not a user or service account of this organization.
    UnknownPrincipal,
    /// The principal exists but is deactivated (or not yet active).
    PrincipalInactive,
}

/// One path by which an action is granted: policy → rule → (group) → role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrantSource {
    pub policy_id: PolicyId,
    pub policy_name: String,
    /// Index of the rule within its policy.
    pub rule_index: usize,
    /// The group through which the rule reaches the principal, if it names a group.
    pub via_group: Option<GroupRef>,
    pub role_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupRef {
    pub id: GroupId,
    pub name: String,
}

/// A decision with the reasons behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    pub allowed: bool,
    /// Set when denied.
    pub reason: Option<DenyReason>,
    /// Every path that grants the action (all of them, not only the first). For an
    /// inactive principal: the paths that would grant it once reactivated.
    pub granted_by: Vec<GrantSource>,
}

/// An action name that is neither a catalog action nor an alias.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown action `{0}`")]
pub struct UnknownAction(pub String);

impl Snapshot {
    /// Compiles an organization's state. Rules naming an unknown role or principal grant
    /// nothing (the command layer refuses to write them in the first place).
    pub fn compile(catalog: Arc<Catalog>, state: Arc<OrgState>) -> Snapshot {
        let role_count = catalog.roles().len().min(64);
        let role_grant = |roles: &[String]| -> (ActionSet, RoleMask) {
            let mut set = ActionSet::EMPTY;
            let mut mask = 0;
            for role in roles {
                if let Some(i) = catalog.role_index(role) {
                    if (i as usize) < role_count {
                        set.union_with(&catalog.roles()[i as usize].action_set);
                        mask |= 1 << i;
                    }
                }
            }
            (set, mask)
        };

        // Principals: users, then service accounts, each with a dense index.
        let capacity = state.users.len() + state.service_accounts.len();
        // Keyed by the same inline ids as the check's table: hashing one is a multiply,
        // comparing one is three words (string keys made compilation twice as slow).
        // This map becomes the check's table: its sets are filled in at the end.
        let mut principals: FxHashMap<InlineId, Slot> =
            FxHashMap::with_capacity_and_hasher(capacity, Default::default());
        let mut actions = Vec::with_capacity(capacity);
        let mut entries = Vec::with_capacity(capacity);
        let principals_iter = state
            .users
            .values()
            .map(|u| (u.id.as_str(), u.status == UserStatus::Active, true))
            .chain(
                state
                    .service_accounts
                    .values()
                    .map(|a| (a.id.as_str(), a.active, false)),
            );
        for (id, active, is_user) in principals_iter {
            // An id too long to inline is never generated by Warden; such a principal could
            // not be checked either, so it is left out consistently.
            let Some(key) = InlineId::new(id) else {
                continue;
            };
            principals.insert(
                key,
                Slot {
                    set: 0,
                    index: entries.len() as u32,
                },
            );
            actions.push(ActionSet::EMPTY);
            entries.push(PrincipalEntry {
                roles: 0,
                active,
                is_user,
                groups: (0, 0),
                rules: Vec::new(),
            });
        }
        let mut group_index: FxHashMap<&str, u32> = FxHashMap::default();
        let mut group_ids = Vec::with_capacity(state.groups.len());
        for id in state.groups.keys() {
            group_index.insert(id.as_str(), group_ids.len() as u32);
            group_ids.push(id.clone());
        }
        let mut group_grants = vec![(ActionSet::EMPTY, 0 as RoleMask); group_ids.len()];
        let mut group_rules: Vec<Vec<(u32, u32)>> = vec![Vec::new(); group_ids.len()];

        // Rules: direct grants go to principals, group grants to groups.
        let mut policy_ids = Vec::with_capacity(state.policies.len());
        for (p, policy) in state.policies.values().enumerate() {
            policy_ids.push(policy.id.clone());
            for (r, rule) in policy.rules.iter().enumerate() {
                let (set, mask) = role_grant(&rule.roles);
                let at = (p as u32, r as u32);
                match &rule.principal {
                    PrincipalRef::Group(g) => {
                        if let Some(&i) = group_index.get(g.as_str()) {
                            let grant = &mut group_grants[i as usize];
                            grant.0.union_with(&set);
                            grant.1 |= mask;
                            group_rules[i as usize].push(at);
                        }
                    }
                    PrincipalRef::User(_) | PrincipalRef::ServiceAccount(_) => {
                        let key = InlineId::new(rule.principal.id());
                        if let Some(i) = key.and_then(|k| principals.get(&k)).map(|s| s.index) {
                            actions[i as usize].union_with(&set);
                            let entry = &mut entries[i as usize];
                            entry.roles |= mask;
                            entry.rules.push(at);
                        }
                    }
                }
            }
        }
        // Memberships: a user gets the grants of each of its groups. Memberships are sorted
        // by group, like `group_ids`, so the group index advances with a cursor.
        let mut cursor = 0usize;
        let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(state.memberships.len());
        for (group, user) in &state.memberships {
            while group_ids.get(cursor).is_some_and(|g| g < group) {
                cursor += 1;
            }
            if group_ids.get(cursor) != Some(group) {
                continue;
            }
            let Some(u) = InlineId::new(user.as_str())
                .and_then(|k| principals.get(&k))
                .map(|s| s.index)
            else {
                continue;
            };
            let (set, mask) = group_grants[cursor];
            actions[u as usize].union_with(&set);
            let entry = &mut entries[u as usize];
            entry.roles |= mask;
            pairs.push((u, cursor as u32));
        }
        // Counting sort of (user, group) pairs by user into one flat array.
        let mut starts = vec![0u32; entries.len() + 1];
        for &(u, _) in &pairs {
            starts[u as usize + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let mut user_groups = vec![0u32; pairs.len()];
        let mut fill = starts.clone();
        for &(u, g) in &pairs {
            user_groups[fill[u as usize] as usize] = g;
            fill[u as usize] += 1;
        }
        for (i, entry) in entries.iter_mut().enumerate() {
            entry.groups = (starts[i], starts[i + 1]);
        }

        let mut action_sets = vec![ActionSet::EMPTY];
        let mut set_index: FxHashMap<ActionSet, u32> = FxHashMap::default();
        set_index.insert(ActionSet::EMPTY, 0);
        for slot in principals.values_mut() {
            let i = slot.index as usize;
            let effective = if entries[i].active {
                actions[i]
            } else {
                ActionSet::EMPTY
            };
            slot.set = *set_index.entry(effective).or_insert_with(|| {
                action_sets.push(effective);
                (action_sets.len() - 1) as u32
            });
        }

        let key_bit = |key: &str| {
            catalog
                .namespace_permissions()
                .iter()
                .position(|p| p.key == key)
                .filter(|&i| i < 32)
                .map(|i| 1u32 << i)
        };
        let mut namespace_keys: FxHashMap<Box<str>, FxHashMap<UserId, u32>> = FxHashMap::default();
        for grant in &state.namespace_grants {
            let (Some(namespace), Some(perm)) = (
                state.namespaces.get(&grant.namespace),
                catalog.namespace_permission(&grant.key),
            ) else {
                continue;
            };
            let mut bits = key_bit(&perm.key).unwrap_or(0);
            for implied in &perm.implies {
                bits |= key_bit(implied).unwrap_or(0);
            }
            *namespace_keys
                .entry(namespace.name.clone().into_boxed_str())
                .or_default()
                .entry(grant.user.clone())
                .or_default() |= bits;
        }

        Snapshot {
            iam_admin_role: catalog.role_index("iam-admin"),
            catalog,
            state,
            principals,
            action_sets,
            entries,
            user_groups,
            group_ids,
            group_rules,
            policy_ids,
            namespace_keys,
        }
    }

    #[inline]
    fn slot(&self, principal: &str) -> Option<&Slot> {
        self.principals.get(&InlineId::new(principal)?)
    }

    fn entry(&self, principal: &str) -> Option<&PrincipalEntry> {
        self.slot(principal)
            .and_then(|s| self.entries.get(s.index as usize))
    }

    pub fn org_id(&self) -> &OrgId {
        &self.state.org.id
    }

    pub fn revision(&self) -> u64 {
        self.state.revision
    }

    pub fn state(&self) -> &Arc<OrgState> {
        &self.state
    }

    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.catalog
    }

    /// The hot path: may `principal` (a user or service account id) perform `action`?
    #[inline]
    pub fn check(&self, principal: &str, action: &str) -> Result<bool, UnknownAction> {
        match self.catalog.action_id(action) {
            Some(id) => Ok(self.check_id(principal, id)),
            None => self.check_slow(principal, action),
        }
    }

    /// A check from an interned action.
    #[inline]
    pub fn check_id(&self, principal: &str, action: ActionId) -> bool {
        self.slot(principal)
            .is_some_and(|s| self.actions_at(s).contains(action))
    }

    #[inline]
    fn actions_at(&self, slot: &Slot) -> &ActionSet {
        self.action_sets
            .get(slot.set as usize)
            .unwrap_or(&ActionSet::EMPTY)
    }

    #[cold]
    fn check_slow(&self, principal: &str, action: &str) -> Result<bool, UnknownAction> {
        match self.catalog.resolve(action) {
            Some(ResolvedAction::Action(id)) => Ok(self.check_id(principal, id)),
            Some(ResolvedAction::Alias(set)) => Ok(self
                .slot(principal)
                .is_some_and(|s| self.actions_at(s).contains_all(set))),
            None => Err(UnknownAction(action.to_string())),
        }
    }

    /// The effective actions of a principal (empty for an unknown or inactive one).
    pub fn actions_of(&self, principal: &str) -> ActionSet {
        self.slot(principal)
            .map_or(ActionSet::EMPTY, |s| *self.actions_at(s))
    }

    /// Why a denied check was denied (for a principal that is denied the action).
    pub fn deny_reason(&self, principal: &str) -> DenyReason {
        match self.entry(principal) {
            None => DenyReason::UnknownPrincipal,
            Some(e) if !e.active => DenyReason::PrincipalInactive,
            Some(_) => DenyReason::NoMatchingRule,
        }
    }

    /// Is this a user or service account of the organization, and active?
    pub fn is_active(&self, principal: &str) -> bool {
        self.entry(principal).is_some_and(|e| e.active)
    }

    /// Is this user an active holder of the IAM Admin role: an organization admin?
    pub fn is_org_admin(&self, user: &str) -> bool {
        let Some(role) = self.iam_admin_role else {
            return false;
        };
        self.entry(user)
            .is_some_and(|e| e.active && e.roles & (1 << role) != 0)
    }

    /// Active organization admins, in id order.
    pub fn org_admins(&self) -> Vec<UserId> {
        self.state
            .users
            .keys()
            .filter(|id| self.is_org_admin(id.as_str()))
            .cloned()
            .collect()
    }

    /// Does `user` hold namespace permission `key` in the namespace named `namespace`?
    /// Org admins hold every key in every namespace of their org, reserved keys included.
    pub fn check_namespace(&self, user: &str, namespace: &str, key: &str) -> bool {
        let namespace_known = self.state.namespaces.values().any(|n| n.name == namespace);
        let Some(bit) = self
            .catalog
            .namespace_permissions()
            .iter()
            .position(|p| p.key == key)
            .filter(|&i| i < 32)
        else {
            return false;
        };
        if !namespace_known {
            return false;
        }
        if self.is_org_admin(user) {
            return true;
        }
        let active = self.entry(user).is_some_and(|e| e.active);
        active
            && self
                .namespace_keys
                .get(namespace)
                .and_then(|users| users.get(&UserId(user.to_string())))
                .is_some_and(|bits| bits & (1 << bit) != 0)
    }

    /// Which policy, rule, group and role grant `action` to `principal`, or why nothing does.
    pub fn explain(&self, principal: &str, action: &str) -> Result<Explanation, UnknownAction> {
        let wanted = match self.catalog.resolve(action) {
            Some(ResolvedAction::Action(id)) => {
                let mut set = ActionSet::EMPTY;
                set.insert(id);
                set
            }
            Some(ResolvedAction::Alias(set)) => *set,
            None => return Err(UnknownAction(action.to_string())),
        };
        let Some(entry) = self.entry(principal) else {
            return Ok(Explanation {
                allowed: false,
                reason: Some(DenyReason::UnknownPrincipal),
                granted_by: Vec::new(),
            });
        };
        let mut granted_by = Vec::new();
        let mut covered = ActionSet::EMPTY;
        self.for_each_grant(entry, |source, role_set| {
            let hit = role_set.intersection(&wanted);
            if !hit.is_empty() {
                covered.union_with(&hit);
                granted_by.push(source());
            }
        });
        let allowed = entry.active && covered.contains_all(&wanted);
        let reason = if allowed {
            None
        } else if !entry.active {
            Some(DenyReason::PrincipalInactive)
        } else {
            // A partial grant of an alias is no grant.
            granted_by.clear();
            Some(DenyReason::NoMatchingRule)
        };
        Ok(Explanation {
            allowed,
            reason,
            granted_by,
        })
    }

    /// Every action the principal may perform, each with the paths that grant it.
    pub fn permissions(&self, principal: &str) -> Vec<(String, Vec<GrantSource>)> {
        let Some(entry) = self.entry(principal) else {
            return Vec::new();
        };
        if !entry.active {
            return Vec::new();
        }
        let mut by_action: Vec<Vec<GrantSource>> = vec![Vec::new(); self.catalog.actions().len()];
        self.for_each_grant(entry, |source, role_set| {
            let source = source();
            for id in role_set.iter() {
                if let Some(list) = by_action.get_mut(id.0 as usize) {
                    list.push(source.clone());
                }
            }
        });
        by_action
            .into_iter()
            .enumerate()
            .filter(|(_, sources)| !sources.is_empty())
            .map(|(i, sources)| {
                (
                    self.catalog.action_name(ActionId(i as u16)).to_string(),
                    sources,
                )
            })
            .collect()
    }

    /// Principals (active users and service accounts) allowed to perform `action`.
    pub fn who_can(&self, action: &str) -> Result<Vec<String>, UnknownAction> {
        let mut out = Vec::new();
        let ids = self
            .state
            .users
            .keys()
            .map(|u| u.as_str())
            .chain(self.state.service_accounts.keys().map(|a| a.as_str()));
        for id in ids {
            if self.check(id, action)? {
                out.push(id.to_string());
            }
        }
        Ok(out)
    }

    /// Calls `f` once per (rule, role) reaching the principal, directly or through a group.
    /// `f` gets a closure building the [`GrantSource`] (so callers that only need the role's
    /// action set allocate nothing) and that role's actions.
    fn for_each_grant(
        &self,
        entry: &PrincipalEntry,
        mut f: impl FnMut(&dyn Fn() -> GrantSource, &ActionSet),
    ) {
        let direct = entry.rules.iter().map(|at| (*at, None));
        let via_groups = entry.is_user.then_some(()).into_iter().flat_map(|()| {
            let (from, to) = (entry.groups.0 as usize, entry.groups.1 as usize);
            self.user_groups
                .get(from..to)
                .into_iter()
                .flatten()
                .flat_map(|&g| {
                    self.group_rules
                        .get(g as usize)
                        .into_iter()
                        .flatten()
                        .map(move |at| (*at, Some(g)))
                })
        });
        for ((p, r), via) in direct.chain(via_groups) {
            let Some(policy) = self
                .policy_ids
                .get(p as usize)
                .and_then(|id| self.state.policies.get(id))
            else {
                continue;
            };
            let Some(rule) = policy.rules.get(r as usize) else {
                continue;
            };
            for role_id in &rule.roles {
                let Some(role) = self.catalog.role(role_id) else {
                    continue;
                };
                let build = || GrantSource {
                    policy_id: policy.id.clone(),
                    policy_name: policy.name.clone(),
                    rule_index: r as usize,
                    via_group: via
                        .and_then(|g| self.group_ids.get(g as usize))
                        .map(|g| GroupRef {
                            id: g.clone(),
                            name: self
                                .state
                                .groups
                                .get(g)
                                .map(|g| g.name.clone())
                                .unwrap_or_default(),
                        }),
                    role_id: role.id.clone(),
                };
                f(&build, &role.action_set);
            }
        }
    }
}

/// The effective actions of one user computed straight from state, without compiling a
/// snapshot: used by the command layer to compare a caller's privileges before and after.
pub fn effective_actions(catalog: &Catalog, state: &OrgState, user: &UserId) -> ActionSet {
    let mut set = ActionSet::EMPTY;
    let Some(u) = state.users.get(user) else {
        return set;
    };
    if u.status != UserStatus::Active {
        return set;
    }
    let groups: Vec<&GroupId> = state.groups_of(user).collect();
    for policy in state.policies.values() {
        for rule in &policy.rules {
            let applies = match &rule.principal {
                PrincipalRef::User(id) => id == user,
                PrincipalRef::Group(id) => groups.contains(&id),
                PrincipalRef::ServiceAccount(_) => false,
            };
            if applies {
                for role in &rule.roles {
                    if let Some(r) = catalog.role(role) {
                        set.union_with(&r.action_set);
                    }
                }
            }
        }
    }
    set
}
