//! Property test: the compiled snapshot agrees with a naive evaluation written straight from
//! the spec's definition (section 2), for users and service accounts, at any instant, with
//! time-bound rules, whenever the snapshot was compiled.

use std::collections::BTreeSet;
use std::sync::Arc;

use proptest::prelude::*;
use warden_core::testkit::{generate_org, SplitMix, Workload};
use warden_core::*;

const BASE: i64 = 1_700_000_000_000;
const STEP: i64 = 60_000;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn snapshot_matches_the_naive_evaluation(
        users in 1usize..25,
        groups in 0usize..8,
        memberships in 0usize..3,
        policies in 0usize..8,
        rules in 0usize..5,
        group_share in 0usize..100,
        deactivate in proptest::collection::vec(any::<bool>(), 25),
        service_accounts in 0usize..4,
        expiring_percent in 0usize..60,
        compile_step in 0i64..6,
        ask_step in 0i64..6,
        seed in any::<u64>(),
    ) {
        let catalog = Catalog::builtin().unwrap();
        let mut state = generate_org(&catalog, Workload {
            users, groups, memberships_per_user: memberships, policies,
            rules_per_policy: rules, group_rule_percent: group_share, seed,
        }).unwrap();
        let ids: Vec<UserId> = state.users.keys().cloned().collect();
        for (id, off) in ids.iter().zip(deactivate) {
            if let (true, Some(user)) = (off, state.users.get(id)) {
                let user = User { status: UserStatus::Deactivated, ..user.clone() };
                state.users.insert(id.clone(), user);
            }
        }
        let mut rng = SplitMix(seed ^ 0x5eed);
        let mut accounts = Vec::new();
        for i in 0..service_accounts {
            let id = ServiceAccountId::from(format!("sa_{i:016}"));
            state.service_accounts.insert(id.clone(), ServiceAccount {
                id: id.clone(), name: format!("bot-{i}"), created_by: None,
                active: rng.below(4) != 0, system_managed: false, created_at: Timestamp(BASE),
            });
            accounts.push(id);
        }
        let roles: Vec<String> = catalog.roles().iter().map(|r| r.id.clone()).collect();
        let custom: Vec<PolicyId> = state.policies.values()
            .filter(|p| p.legacy_group.is_none()).map(|p| p.id.clone()).collect();
        for id in &custom {
            let Some(policy) = state.policies.get_mut(id) else { continue };
            for rule in &mut policy.rules {
                if rng.below(100) < expiring_percent {
                    let steps = i64::try_from(rng.below(6)).unwrap();
                    rule.expires_at = Some(Timestamp(BASE + steps * STEP));
                }
            }
            if !accounts.is_empty() && rng.below(2) == 0 {
                policy.rules.push(Rule {
                    principal: PrincipalRef::ServiceAccount(accounts[rng.below(accounts.len())].clone()),
                    roles: vec![roles[rng.below(roles.len())].clone()],
                    expires_at: (rng.below(2) == 0).then_some(Timestamp(BASE + 3 * STEP)),
                });
            }
        }
        let state = Arc::new(state);
        let snap = Snapshot::compile(catalog.clone(), state.clone(), Timestamp(BASE + compile_step * STEP));
        // Ask at the boundary instants too (a rule stops granting exactly at its instant).
        let now = Timestamp(BASE + ask_step * STEP - i64::from(ask_step % 2 == 0));
        let principals: Vec<PrincipalId> = state.users.keys().cloned().map(PrincipalId::User)
            .chain(accounts.iter().cloned().map(PrincipalId::ServiceAccount)).collect();
        let mut who = std::collections::BTreeMap::<String, BTreeSet<PrincipalId>>::new();
        for principal in &principals {
            let expected_set = naive_actions(&catalog, &state, principal, now);
            let id = principal.as_str();
            prop_assert_eq!(snap.actions_of(id, now), expected_set);
            for (i, action) in catalog.actions().iter().enumerate() {
                let expected = expected_set.contains(ActionId(u16::try_from(i).unwrap()));
                if expected {
                    who.entry(action.clone()).or_default().insert(principal.clone());
                }
                prop_assert_eq!(snap.check(id, action, now).unwrap(), expected);
                let why = snap.decide(id, action, now).unwrap();
                prop_assert_eq!(why.allowed, expected);
                if expected {
                    prop_assert!(!why.granted_by.is_empty());
                } else if why.reason == Some(DenyReason::NoMatchingRule) {
                    prop_assert!(why.granted_by.is_empty());
                }
                for source in &why.granted_by {
                    let policy = &state.policies[&source.policy_id];
                    let rule = &policy.rules[source.rule_index];
                    prop_assert!(rule.in_force(now));
                    prop_assert!(rule.roles.contains(&source.role_id));
                    prop_assert!(catalog.role(&source.role_id).unwrap().actions.contains(action));
                }
            }
            let listed: BTreeSet<String> = snap.permissions(id, now).into_iter().map(|(a, _)| a).collect();
            let expected: BTreeSet<String> = expected_set.iter()
                .map(|a| catalog.action_name(a).to_string()).collect();
            prop_assert_eq!(listed, expected);
        }
        for action in catalog.actions().iter().take(12) {
            let listed: BTreeSet<PrincipalId> = snap.who_can(action, now).unwrap().into_iter().collect();
            prop_assert_eq!(listed, who.remove(action).unwrap_or_default());
        }
    }
}

/// The effective actions of a principal at `now`, computed straight from the state by the
/// definition of spec section 2, without compiling anything: the oracle the engine's
/// property tests compare the compiled snapshot with. It walks every rule: the
/// definition, not an implementation.
fn naive_actions(
    catalog: &Catalog,
    state: &OrgState,
    principal: &PrincipalId,
    now: Timestamp,
) -> ActionSet {
    let mut set = ActionSet::EMPTY;
    let (active, groups): (bool, Vec<&GroupId>) = match principal {
        PrincipalId::User(user) => match state.users.get(user) {
            Some(u) => (
                u.status == UserStatus::Active,
                state.groups_of(user).collect(),
            ),
            None => return set,
        },
        PrincipalId::ServiceAccount(id) => match state.service_accounts.get(id) {
            Some(a) => (a.active, Vec::new()),
            None => return set,
        },
    };
    if !active {
        return set;
    }
    for policy in state.policies.values() {
        for rule in &policy.rules {
            if !rule.in_force(now) {
                continue;
            }
            let applies = match &rule.principal {
                PrincipalRef::Group(id) => groups.contains(&id),
                other => *other == principal.as_ref(),
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
