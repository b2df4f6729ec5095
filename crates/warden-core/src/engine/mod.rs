//! The authorization engine: a per-organization snapshot compiled from [`OrgState`].
//!
//! Default deny: a principal may perform an action only if some rule of some access policy
//! names it, or a group it belongs to, with a role containing the action, and the rule is in
//! force at the instant asked about. Compilation interns every acting principal (users and
//! service accounts) and precomputes its effective [`ActionSet`], so a check is two hash
//! look-ups and a bit test. The snapshot is the one evaluator of Warden: customers' checks,
//! the API's own authorization and the command layer's invariants all ask it.
//!
//! Time: rules may end at an instant (`Rule::expires_at`). The precomputed sets are exact for
//! a window of time around the instant of compilation (no rule starts or stops applying
//! inside it); a question about an instant outside the window is answered by walking the
//! principal's rules instead, so expiry is honoured without a write.

mod decision;
mod inline_id;

use std::sync::Arc;

use rustc_hash::FxHashMap;

pub use self::decision::{Decision, DenyReason, GrantSource, GroupRef};
use self::inline_id::InlineId;
use crate::actionset::{ActionId, ActionSet};
use crate::catalog::{Catalog, ResolvedAction};
use crate::domain::{
    GroupId, OrgId, OrgState, PolicyId, PrincipalId, PrincipalRef, Timestamp, UserId, UserStatus,
};
use crate::error::DomainError;

/// A bit per catalog role (the catalog has 19; a `u64` leaves room).
pub type RoleMask = u64;

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

/// The rest of what the engine knows about one acting principal. (Its id is the key of the
/// check table; it is not copied here.)
#[derive(Debug, Clone)]
struct PrincipalEntry {
    is_user: bool,
    /// Roles held through any rule in force in the window, active or not.
    roles: RoleMask,
    active: bool,
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
    /// namespace name → user → namespace keys held (implications expanded).
    namespace_keys: FxHashMap<Box<str>, FxHashMap<InlineId, u32>>,
    iam_admin_role: Option<u16>,
    /// The precomputed sets answer questions about instants in `[window.0, window.1)`.
    window: (Timestamp, Timestamp),
    /// `window.1 - window.0`, wrapping, as unsigned: see [`Snapshot::in_window`].
    window_span: u64,
}

/// The instant no rule ends before.
const FOREVER: Timestamp = Timestamp(i64::MAX);
const BEGINNING: Timestamp = Timestamp(i64::MIN);

/// A principal id of the given kind.
fn principal_id(id: &str, is_user: bool) -> PrincipalId {
    if is_user {
        PrincipalId::User(UserId(id.to_string()))
    } else {
        PrincipalId::ServiceAccount(crate::domain::ServiceAccountId(id.to_string()))
    }
}

/// Converts a position in a vector the snapshot builds to the `u32` it stores. Vectors are
/// bounded by the organization's size, far below `u32::MAX`.
fn small(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Snapshot {
    /// Compiles an organization's state for questions asked around `now`. Rules naming an
    /// unknown role or principal grant nothing (the command layer refuses to write them).
    pub fn compile(catalog: Arc<Catalog>, state: Arc<OrgState>, now: Timestamp) -> Snapshot {
        let role_count = catalog.roles().len().min(64);
        let role_grant = |roles: &[String]| -> (ActionSet, RoleMask) {
            let mut set = ActionSet::EMPTY;
            let mut mask = 0;
            for role in roles {
                if let Some(i) = catalog.role_index(role) {
                    if let Some(r) = catalog
                        .roles()
                        .get(usize::from(i))
                        .filter(|_| usize::from(i) < role_count)
                    {
                        set.union_with(&r.action_set);
                        mask |= 1 << i;
                    }
                }
            }
            (set, mask)
        };

        // The window of time in which the rules in force are those in force at `now`.
        let mut window = (BEGINNING, FOREVER);
        for rule in state.policies.values().flat_map(|p| &p.rules) {
            if let Some(at) = rule.expires_at {
                if at <= now {
                    window.0 = window.0.max(at);
                } else {
                    window.1 = window.1.min(at);
                }
            }
        }

        // Principals: users, then service accounts, each with a dense index. Keyed by the
        // same inline ids as the check's table (hashing one is a multiply); this map becomes
        // the check's table, its sets filled in at the end.
        let capacity = state.users.len() + state.service_accounts.len();
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
                    index: small(entries.len()),
                },
            );
            actions.push(ActionSet::EMPTY);
            entries.push(PrincipalEntry {
                is_user,
                roles: 0,
                active,
                groups: (0, 0),
                rules: Vec::new(),
            });
        }
        let mut group_index: FxHashMap<&str, u32> = FxHashMap::default();
        let mut group_ids = Vec::with_capacity(state.groups.len());
        for id in state.groups.keys() {
            group_index.insert(id.as_str(), small(group_ids.len()));
            group_ids.push(id.clone());
        }
        let mut group_grants = vec![(ActionSet::EMPTY, 0 as RoleMask); group_ids.len()];
        let mut group_rules: Vec<Vec<(u32, u32)>> = vec![Vec::new(); group_ids.len()];

        // Rules: direct grants go to principals, group grants to groups. Every rule is
        // indexed (for explanations at any instant); only those in force at `now` count
        // towards the precomputed sets.
        let mut policy_ids = Vec::with_capacity(state.policies.len());
        for (p, policy) in state.policies.values().enumerate() {
            policy_ids.push(policy.id.clone());
            for (r, rule) in policy.rules.iter().enumerate() {
                let (set, mask) = if rule.in_force(now) {
                    role_grant(&rule.roles)
                } else {
                    (ActionSet::EMPTY, 0)
                };
                let at = (small(p), small(r));
                match &rule.principal {
                    PrincipalRef::Group(g) => {
                        let Some(&i) = group_index.get(g.as_str()) else {
                            continue;
                        };
                        if let Some(grant) = group_grants.get_mut(i as usize) {
                            grant.0.union_with(&set);
                            grant.1 |= mask;
                        }
                        if let Some(list) = group_rules.get_mut(i as usize) {
                            list.push(at);
                        }
                    }
                    PrincipalRef::User(_) | PrincipalRef::ServiceAccount(_) => {
                        let Some(i) = InlineId::new(rule.principal.id())
                            .and_then(|k| principals.get(&k))
                            .map(|s| s.index as usize)
                        else {
                            continue;
                        };
                        if let (Some(a), Some(entry)) = (actions.get_mut(i), entries.get_mut(i)) {
                            a.union_with(&set);
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
                .map(|s| s.index as usize)
            else {
                continue;
            };
            let Some(&(set, mask)) = group_grants.get(cursor) else {
                continue;
            };
            if let (Some(a), Some(entry)) = (actions.get_mut(u), entries.get_mut(u)) {
                a.union_with(&set);
                entry.roles |= mask;
                pairs.push((small(u), small(cursor)));
            }
        }
        // Counting sort of (user, group) pairs by user into one flat array.
        let mut starts = vec![0u32; entries.len() + 1];
        for &(u, _) in &pairs {
            if let Some(n) = starts.get_mut(u as usize + 1) {
                *n += 1;
            }
        }
        for i in 1..starts.len() {
            let previous = starts.get(i - 1).copied().unwrap_or(0);
            if let Some(n) = starts.get_mut(i) {
                *n += previous;
            }
        }
        let mut user_groups = vec![0u32; pairs.len()];
        let mut fill = starts.clone();
        for &(u, g) in &pairs {
            if let Some(at) = fill.get_mut(u as usize) {
                if let Some(slot) = user_groups.get_mut(*at as usize) {
                    *slot = g;
                }
                *at += 1;
            }
        }
        for (i, entry) in entries.iter_mut().enumerate() {
            entry.groups = (
                starts.get(i).copied().unwrap_or(0),
                starts.get(i + 1).copied().unwrap_or(0),
            );
        }

        let mut action_sets = vec![ActionSet::EMPTY];
        let mut set_index: FxHashMap<ActionSet, u32> = FxHashMap::default();
        set_index.insert(ActionSet::EMPTY, 0);
        for slot in principals.values_mut() {
            let i = slot.index as usize;
            let effective = match (entries.get(i), actions.get(i)) {
                (Some(entry), Some(set)) if entry.active => *set,
                _ => ActionSet::EMPTY,
            };
            slot.set = *set_index.entry(effective).or_insert_with(|| {
                action_sets.push(effective);
                small(action_sets.len() - 1)
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
        let mut namespace_keys: FxHashMap<Box<str>, FxHashMap<InlineId, u32>> =
            FxHashMap::default();
        for grant in &state.namespace_grants {
            let (Some(namespace), Some(perm), Some(user)) = (
                state.namespaces.get(&grant.namespace),
                catalog.namespace_permission(&grant.key),
                InlineId::new(grant.user.as_str()),
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
                .entry(user)
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
            window_span: window.1 .0.wrapping_sub(window.0 .0).cast_unsigned(),
            window,
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

    /// Is `now` inside the window the precomputed sets are exact for? One subtraction and
    /// one unsigned comparison: `now - start < end - start`, wrapping (measured: two signed
    /// comparisons cost a check about three instructions more).
    #[inline]
    fn in_window(&self, now: Timestamp) -> bool {
        now.0.wrapping_sub(self.window.0 .0).cast_unsigned() < self.window_span
    }

    /// The instant from which the precomputed sets no longer apply (a rule expires then);
    /// recompiling after it keeps checks on the fast path.
    pub fn valid_until(&self) -> Option<Timestamp> {
        (self.window.1 != FOREVER).then_some(self.window.1)
    }

    /// The hot path: may `principal` (a user or service account id) perform `action` at
    /// `now`?
    #[inline]
    pub fn check(
        &self,
        principal: &str,
        action: &str,
        now: Timestamp,
    ) -> Result<bool, DomainError> {
        match self.catalog.action_id(action) {
            Some(id) if self.in_window(now) => Ok(self.check_id(principal, id)),
            _ => self.check_slow(principal, action, now),
        }
    }

    /// A check from an interned action, for an instant inside the window only: private, so
    /// no caller can skip the time (see [`Snapshot::check_at`]).
    #[inline]
    fn check_id(&self, principal: &str, action: ActionId) -> bool {
        self.slot(principal)
            .is_some_and(|s| self.set_at(s).contains(action))
    }

    /// A check from an interned action at any instant.
    pub fn check_at(&self, principal: &str, action: ActionId, now: Timestamp) -> bool {
        if self.in_window(now) {
            self.check_id(principal, action)
        } else {
            self.actions_of(principal, now).contains(action)
        }
    }

    #[inline]
    fn set_at(&self, slot: &Slot) -> &ActionSet {
        self.action_sets
            .get(slot.set as usize)
            .unwrap_or(&ActionSet::EMPTY)
    }

    #[cold]
    fn check_slow(
        &self,
        principal: &str,
        action: &str,
        now: Timestamp,
    ) -> Result<bool, DomainError> {
        let held = self.actions_of(principal, now);
        match self.catalog.resolve(action) {
            Some(ResolvedAction::Action(id)) => Ok(held.contains(id)),
            Some(ResolvedAction::Alias(set)) => Ok(held.contains_all(set)),
            None => Err(DomainError::UnknownAction(
                action.chars().take(crate::validate::MAX_NAME).collect(),
            )),
        }
    }

    /// The effective actions of a principal at `now` (empty for an unknown or inactive one).
    pub fn actions_of(&self, principal: &str, now: Timestamp) -> ActionSet {
        let Some(slot) = self.slot(principal) else {
            return ActionSet::EMPTY;
        };
        if self.in_window(now) {
            return *self.set_at(slot);
        }
        match self.entries.get(slot.index as usize) {
            Some(entry) if entry.active => self.grants_at(entry, now).0,
            _ => ActionSet::EMPTY,
        }
    }

    /// The actions and roles reaching an entry through rules in force at `now`.
    fn grants_at(&self, entry: &PrincipalEntry, now: Timestamp) -> (ActionSet, RoleMask) {
        let mut set = ActionSet::EMPTY;
        let mut mask = 0;
        self.for_each_grant(entry, now, |_, role, role_set| {
            set.union_with(role_set);
            if let Some(i) = self.catalog.role_index(role) {
                mask |= 1u64.checked_shl(u32::from(i)).unwrap_or(0);
            }
        });
        (set, mask)
    }

    /// Is this a user or service account of the organization, and active?
    pub fn is_active(&self, principal: &str) -> bool {
        self.entry(principal).is_some_and(|e| e.active)
    }

    /// The acting principal with this id, if the organization has it.
    pub fn principal(&self, id: &str) -> Option<PrincipalId> {
        self.entry(id).map(|e| principal_id(id, e.is_user))
    }

    /// Is this user an active holder of the IAM Admin role at `now`: an organization admin?
    pub fn is_org_admin(&self, user: &str, now: Timestamp) -> bool {
        let Some(role) = self.iam_admin_role else {
            return false;
        };
        let bit = 1u64.checked_shl(u32::from(role)).unwrap_or(0);
        match self.entry(user) {
            Some(e) if e.active && e.is_user => {
                let roles = if self.in_window(now) {
                    e.roles
                } else {
                    self.grants_at(e, now).1
                };
                roles & bit != 0
            }
            _ => false,
        }
    }

    /// Active organization admins at `now`, in id order.
    pub fn org_admins(&self, now: Timestamp) -> Vec<UserId> {
        self.state
            .users
            .keys()
            .filter(|id| self.is_org_admin(id.as_str(), now))
            .cloned()
            .collect()
    }

    /// Calls `f` once per (rule, role) reaching the principal at `now`, directly or through a
    /// group. `f` gets a closure building the [`GrantSource`] (so callers that only need the
    /// role's action set allocate nothing), the role id and that role's actions.
    fn for_each_grant(
        &self,
        entry: &PrincipalEntry,
        now: Timestamp,
        mut f: impl FnMut(&dyn Fn() -> GrantSource, &str, &ActionSet),
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
            if !rule.in_force(now) {
                continue;
            }
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
                    expires_at: rule.expires_at,
                };
                f(&build, &role.id, &role.action_set);
            }
        }
    }
}
