//! The authorization engine: a per-organization snapshot of [`OrgState`], compiled once and
//! then patched by each write.
//!
//! Default deny: a principal may perform an action only if some rule of some access policy
//! names it, or a group it belongs to, with a role containing the action, and the rule is in
//! force at the instant asked about. The snapshot holds, per acting principal (user or
//! service account), its effective [`ActionSet`], so a check is one hash look-up and a bit
//! test. It is the one evaluator of Warden: customers' checks, the API's own authorization
//! and the command layer's invariants all ask it.
//!
//! Writes cost what they touch: every part of the snapshot is persistent (shared between
//! versions), and [`Snapshot::patch`] recomputes only the principals a change affects (a
//! membership: one user; a rule: the principal it names, or its group's members).
//!
//! Time: rules may end at an instant (`Rule::expires_at`). The precomputed sets are exact for
//! a window of time around the instant of compilation (no rule starts or stops applying
//! inside it); a question about an instant outside the window is answered by walking the
//! principal's rules instead, so expiry is honoured without a write.

mod build;
mod decision;
mod inline_id;
mod rule_index;
mod table;

use std::sync::Arc;

use imbl::shared_ptr::DefaultSharedPtr;
use imbl::{GenericHashMap, OrdSet};
use rustc_hash::FxBuildHasher;

pub use self::decision::{Decision, DenyReason, Explanation, GrantSource, GroupRef};
use self::inline_id::InlineId;
use self::rule_index::{IndexedRule, RuleIndex};
use self::table::{Entry, PrincipalTable, SetTable};
use crate::actionset::{ActionId, ActionSet};
use crate::catalog::{Catalog, ResolvedAction};
use crate::domain::{
    GroupId, OrgId, OrgState, PolicyId, PrincipalId, PrincipalRef, ServiceAccountId, Timestamp,
    UserId,
};
use crate::error::DomainError;

/// A bit per catalog role (the catalog has 19, at most 64).
pub type RoleMask = u64;

/// What a set of rules grants: actions and roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Grant {
    actions: ActionSet,
    roles: RoleMask,
}

impl Grant {
    fn add(&mut self, other: &Grant) {
        self.actions.union_with(&other.actions);
        self.roles |= other.roles;
    }
}

/// A persistent hash map with the fast hasher of the rest of the engine.
type FastMap<K, V> = GenericHashMap<K, V, FxBuildHasher, DefaultSharedPtr>;

/// An organization's compiled, immutable authorization state at one revision.
#[derive(Debug, Clone)]
pub struct Snapshot {
    catalog: Arc<Catalog>,
    state: Arc<OrgState>,
    /// Acting principal → set index and flags: the check's table.
    table: PrincipalTable,
    /// The effective action sets the table's entries point at.
    sets: SetTable,
    /// The rules naming each principal.
    rules_by_principal: RuleIndex,
    /// `(end, policy, rule index)` of every time-bound rule, in order of their ends.
    rule_ends: OrdSet<(Timestamp, PolicyId, u32)>,
    /// What the rules naming each group grant (groups no rule names are absent).
    group_grants: FastMap<GroupId, Grant>,
    /// Namespace name → user → namespace keys held (implications expanded). Every namespace
    /// has an entry, with or without grants.
    namespace_keys: FastMap<Box<str>, FastMap<InlineId, u32>>,
    iam_admin_role: Option<u16>,
    /// The precomputed sets answer questions about instants in `[window.0, window.1)`.
    window: (Timestamp, Timestamp),
    /// `window.1 - window.0`, wrapping, as unsigned: see [`Snapshot::in_window`].
    window_span: u64,
}

/// The instant no rule ends before.
const FOREVER: Timestamp = Timestamp(i64::MAX);
const BEGINNING: Timestamp = Timestamp(i64::MIN);

/// Converts a count the snapshot builds to the `u32` it stores. Counts are bounded by the
/// organization's size, far below `u32::MAX`.
fn small(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A principal id of the given kind.
fn principal_id(id: &str, is_user: bool) -> PrincipalId {
    if is_user {
        PrincipalId::User(UserId::from(id.to_string()))
    } else {
        PrincipalId::ServiceAccount(ServiceAccountId::from(id.to_string()))
    }
}

impl Snapshot {
    #[inline]
    fn entry(&self, principal: &str) -> Option<&Entry> {
        self.table.get(&InlineId::new(principal)?)
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
        self.entry(principal)
            .is_some_and(|e| self.sets.get(e.set).contains(action))
    }

    /// A check from an interned action at any instant.
    pub fn check_at(&self, principal: &str, action: ActionId, now: Timestamp) -> bool {
        if self.in_window(now) {
            self.check_id(principal, action)
        } else {
            self.actions_of(principal, now).contains(action)
        }
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
            None => Err(self.catalog.unknown_action(action)),
        }
    }

    /// The effective actions of a principal at `now` (empty for an unknown or inactive one).
    pub fn actions_of(&self, principal: &str, now: Timestamp) -> ActionSet {
        let Some(entry) = self.entry(principal) else {
            return ActionSet::EMPTY;
        };
        if self.in_window(now) {
            return *self.sets.get(entry.set);
        }
        if entry.active() {
            self.grants_at(principal, entry, now).actions
        } else {
            ActionSet::EMPTY
        }
    }

    /// The actions and roles reaching a principal through rules in force at `now`.
    fn grants_at(&self, principal: &str, entry: &Entry, now: Timestamp) -> Grant {
        let mut grant = Grant::default();
        self.for_each_rule(principal, entry, |_, _, _, rule| {
            if rule.in_force(now) {
                grant.add(&rule.grant(&self.catalog));
            }
        });
        grant
    }

    /// Is this a user or service account of the organization, and active?
    pub fn is_active(&self, principal: &str) -> bool {
        self.entry(principal).is_some_and(|e| e.active())
    }

    /// The acting principal with this id, if the organization has it.
    pub fn principal(&self, id: &str) -> Option<PrincipalId> {
        self.entry(id).map(|e| principal_id(id, e.is_user()))
    }

    /// Is this user an active holder of the IAM Admin role at `now`: an organization admin?
    pub fn is_org_admin(&self, user: &str, now: Timestamp) -> bool {
        let Some(role) = self.iam_admin_role else {
            return false;
        };
        let bit = 1u64.checked_shl(u32::from(role)).unwrap_or(0);
        match self.entry(user) {
            Some(e) if e.active() && e.is_user() => {
                if self.in_window(now) {
                    e.iam_admin()
                } else {
                    self.grants_at(user, e, now).roles & bit != 0
                }
            }
            _ => false,
        }
    }

    /// Users that rules granting IAM Admin reach (directly or through a group), active or
    /// not, in no particular order and possibly repeated: the cost follows those rules, not
    /// the organization.
    fn admin_candidates(&self) -> impl Iterator<Item = &UserId> + '_ {
        self.state
            .policies
            .values()
            .flat_map(|p| &p.rules)
            .filter(|r| r.roles.iter().any(|role| role == "iam-admin"))
            .flat_map(move |rule| {
                let (user, group) = match &rule.principal {
                    PrincipalRef::User(id) => (Some(id), None),
                    PrincipalRef::Group(id) => (None, Some(self.state.members_of(id))),
                    PrincipalRef::ServiceAccount(_) => (None, None),
                };
                user.into_iter().chain(group.into_iter().flatten())
            })
    }

    /// Active organization admins at `now`, in id order.
    pub fn org_admins(&self, now: Timestamp) -> Vec<UserId> {
        let candidates: std::collections::BTreeSet<&UserId> = self.admin_candidates().collect();
        candidates
            .into_iter()
            .filter(|id| self.is_org_admin(id.as_str(), now))
            .cloned()
            .collect()
    }

    /// Does the organization have an active admin at `now`? Stops at the first one found.
    pub fn has_org_admin(&self, now: Timestamp) -> bool {
        self.admin_candidates()
            .any(|id| self.is_org_admin(id.as_str(), now))
    }

    /// The rules naming `principal` (not through a group), with their policy.
    pub(crate) fn rules_of_principal<'a>(
        &'a self,
        principal: &PrincipalRef,
    ) -> impl Iterator<Item = (&'a PolicyId, &'a crate::domain::Rule)> + 'a {
        self.rules_by_principal
            .get_ref(principal)
            .filter_map(|(policy, r, _)| {
                let rule = self.state.policies.get(policy)?.rules.get(r as usize)?;
                Some((policy, rule))
            })
    }

    /// The instants after `now` at which a rule stops granting, in order, without repeats.
    pub(crate) fn rule_ends_after(&self, now: Timestamp) -> impl Iterator<Item = Timestamp> + '_ {
        let mut last = None;
        self.rule_ends
            .range(
                (
                    Timestamp(now.0.saturating_add(1)),
                    PolicyId::from(String::new()),
                    0,
                )..,
            )
            .map(|(at, _, _)| *at)
            .filter(move |at| last.replace(*at) != Some(*at))
    }

    /// Calls `f` once per rule naming the principal or one of its groups: `(policy, rule
    /// index, group it came through, rule)`.
    fn for_each_rule<'a>(
        &'a self,
        principal: &str,
        entry: &Entry,
        mut f: impl FnMut(&'a PolicyId, u32, Option<&'a GroupId>, &'a IndexedRule),
    ) {
        let kind = if entry.is_user() {
            rule_index::USERS
        } else {
            rule_index::SERVICE_ACCOUNTS
        };
        for (policy, r, rule) in self.rules_by_principal.get(kind, principal) {
            f(policy, r, None, rule);
        }
        if entry.is_user() {
            for group in self.state.groups_of_id(principal) {
                for (policy, r, rule) in self
                    .rules_by_principal
                    .get(rule_index::GROUPS, group.as_str())
                {
                    f(policy, r, Some(group), rule);
                }
            }
        }
    }

    /// Calls `f` once per (rule, role) reaching the principal at `now`, directly or through a
    /// group. `f` gets a closure building the [`GrantSource`] (so callers that only need the
    /// role's action set allocate and look up nothing more), the role id and that role's
    /// actions.
    fn for_each_grant(
        &self,
        principal: &str,
        entry: &Entry,
        now: Timestamp,
        mut f: impl FnMut(&dyn Fn() -> GrantSource, &str, &ActionSet),
    ) {
        self.for_each_rule(principal, entry, |policy_id, r, via, rule| {
            if !rule.in_force(now) {
                return;
            }
            for &i in rule.roles.iter() {
                let Some(role) = self.catalog.roles().get(usize::from(i)) else {
                    continue;
                };
                let build = || GrantSource {
                    policy_id: policy_id.clone(),
                    policy_name: rule.policy_name.to_string(),
                    rule_index: r as usize,
                    via_group: via.map(|g| GroupRef {
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
        });
    }
}
