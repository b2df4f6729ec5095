//! Property test: the snapshot a write patches answers every question exactly as a snapshot
//! compiled from scratch from the same state, whatever sequence of writes led there and
//! whenever they happened (time-bound rules starting and ending in between).

use std::sync::Arc;

use proptest::prelude::*;
use warden_core::command::{
    GroupCommand, Key, NamespaceCommand, PolicyCommand, PrincipalInput, PrincipalKind, RuleInput,
    UserCommand,
};
use warden_core::testkit::SplitMix;
use warden_core::*;

use crate::common::Org;

const STEP: i64 = 60_000;
/// Namespaces are named `ns-0` to `ns-7`: the questions cover deleted names too.
const NAMESPACE_NAMES: u64 = 8;

/// One random write, against the organization as it is.
fn random_command(org: &Org, rng: &mut SplitMix, catalog: &Catalog) -> Command {
    let state = org.state();
    let users: Vec<UserId> = state.users.keys().cloned().collect();
    let groups: Vec<GroupId> = state.groups.keys().cloned().collect();
    let policies: Vec<PolicyId> = state.policies.keys().cloned().collect();
    let namespaces: Vec<NamespaceId> = state.namespaces.keys().cloned().collect();
    let roles: Vec<&str> = catalog.roles().iter().map(|r| r.id.as_str()).collect();
    let keys: Vec<&str> = catalog
        .namespace_permissions()
        .iter()
        .filter(|p| !p.reserved)
        .map(|p| p.key.as_str())
        .collect();
    let user = |rng: &mut SplitMix| Key::from(rng.pick(&users).unwrap());
    let group = |rng: &mut SplitMix| Key::from(rng.pick(&groups).unwrap());
    let now = org.now().0;
    let rules = |rng: &mut SplitMix| -> Vec<RuleInput> {
        (0..rng.below(4))
            .map(|_| {
                let (kind, id) = if rng.below(2) == 0 {
                    (PrincipalKind::Group, rng.pick(&groups).unwrap().to_string())
                } else {
                    (PrincipalKind::User, rng.pick(&users).unwrap().to_string())
                };
                RuleInput {
                    principal: PrincipalInput { kind, id },
                    roles: (0..1 + rng.below(2))
                        .map(|_| rng.pick(&roles).unwrap().to_string())
                        .collect(),
                    expires_at: (rng.below(3) == 0)
                        .then(|| Timestamp(now + 1 + i64::try_from(rng.below(4)).unwrap() * STEP)),
                }
            })
            .collect()
    };
    match rng.below(13) {
        0 => UserCommand::Create {
            email: format!("u{}@acme.test", rng.next_u64()),
            first_name: String::new(),
            last_name: String::new(),
        }
        .into(),
        1 => UserCommand::Deactivate { user: user(rng) }.into(),
        2 => UserCommand::Reactivate { user: user(rng) }.into(),
        3 => GroupCommand::Create {
            name: format!("team-{}", rng.next_u64() % 1000),
            description: String::new(),
        }
        .into(),
        4 => GroupCommand::Delete { group: group(rng) }.into(),
        5 | 6 => GroupCommand::AddMember {
            group: group(rng),
            user: user(rng),
        }
        .into(),
        7 => GroupCommand::RemoveMember {
            group: group(rng),
            user: user(rng),
        }
        .into(),
        8 => PolicyCommand::Create {
            name: format!("policy-{}", rng.next_u64() % 1000),
            description: String::new(),
            rules: rules(rng),
        }
        .into(),
        9 => match rng.pick(&policies) {
            Some(p) => PolicyCommand::Replace {
                policy: Key::from(p),
                name: if rng.below(3) == 0 {
                    format!("renamed-{}", rng.next_u64() % 1000)
                } else {
                    state.policies[p].name.clone()
                },
                description: String::new(),
                rules: rules(rng),
            }
            .into(),
            None => UserCommand::Reactivate { user: user(rng) }.into(),
        },
        10 => match rng.pick(&policies) {
            Some(p) => PolicyCommand::Delete {
                policy: Key::from(p),
            }
            .into(),
            None => UserCommand::Reactivate { user: user(rng) }.into(),
        },
        11 => NamespaceCommand::Create {
            name: format!("ns-{}", rng.next_u64() % NAMESPACE_NAMES),
            access: vec![(user(rng), vec![rng.pick(&keys).unwrap().to_string()])],
        }
        .into(),
        _ => match rng.pick(&namespaces) {
            Some(ns) if rng.below(4) == 0 => NamespaceCommand::Delete {
                namespace: Key::from(ns),
            }
            .into(),
            Some(ns) => NamespaceCommand::SetAccess {
                namespace: Key::from(ns),
                user: user(rng),
                keys: (0..rng.below(3))
                    .map(|_| rng.pick(&keys).unwrap().to_string())
                    .collect(),
            }
            .into(),
            None => UserCommand::Deactivate { user: user(rng) }.into(),
        },
    }
}

/// Both snapshots answer every question the same, at every instant in `instants`.
fn assert_same_answers(
    catalog: &Catalog,
    patched: &Snapshot,
    compiled: &Snapshot,
    instants: &[Timestamp],
) -> Result<(), TestCaseError> {
    let state = compiled.state();
    let ids: Vec<String> = state
        .users
        .keys()
        .map(|u| u.to_string())
        .chain(state.service_accounts.keys().map(|a| a.to_string()))
        .chain(["usr_00000000deadbeef".to_string()])
        .collect();
    let namespaces: Vec<String> = (0..NAMESPACE_NAMES).map(|i| format!("ns-{i}")).collect();
    for &t in instants {
        prop_assert_eq!(
            patched.org_admins(t),
            compiled.org_admins(t),
            "admins at {:?}",
            t
        );
        for id in &ids {
            prop_assert_eq!(
                patched.actions_of(id, t),
                compiled.actions_of(id, t),
                "{} at {:?}",
                id,
                t
            );
            prop_assert_eq!(patched.is_org_admin(id, t), compiled.is_org_admin(id, t));
            for action in [
                "iam.users.list",
                "iam.policies.create",
                "compute.instances.create",
            ] {
                prop_assert_eq!(
                    patched.check(id, action, t).ok(),
                    compiled.check(id, action, t).ok()
                );
                prop_assert_eq!(
                    patched.decide(id, action, t).ok(),
                    compiled.decide(id, action, t).ok()
                );
            }
            for namespace in &namespaces {
                for perm in catalog.namespace_permissions() {
                    prop_assert_eq!(
                        patched
                            .decide_namespace(id, namespace, &perm.key, t)
                            .unwrap(),
                        compiled
                            .decide_namespace(id, namespace, &perm.key, t)
                            .unwrap(),
                        "{} in {} holding {}",
                        id,
                        namespace,
                        perm.key
                    );
                }
            }
        }
    }
    for id in &ids {
        prop_assert_eq!(patched.is_active(id), compiled.is_active(id));
        prop_assert_eq!(patched.principal(id), compiled.principal(id));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn a_patched_snapshot_answers_like_one_compiled_from_scratch(
        seed in any::<u64>(),
        writes in 1usize..40,
    ) {
        let mut org = Org::new();
        let catalog = org.catalog.clone();
        let mut rng = SplitMix(seed);
        for _ in 0..3 {
            org.user(&format!("seed{}@acme.test", rng.next_u64()));
        }
        let mut replica = (**org.snapshot.state()).clone();
        for _ in 0..writes {
            if rng.below(4) == 0 {
                org.ctx.now = Timestamp(org.ctx.now.0 + i64::try_from(rng.below(3)).unwrap() * STEP / 2);
            }
            let command = random_command(&org, &mut rng, &catalog);
            let Ok(executed) = execute(&org.snapshot, &Actor::System, command, &mut org.ctx) else {
                continue;
            };
            // A replica replaying the recorded changes reaches the same state.
            for change in executed.changes() {
                replica.replay(change);
            }
            replica.revision = executed.revision();
            prop_assert_eq!(&replica, &**executed.state());
            org.snapshot = executed.snapshot;
            let now = org.now();
            let compiled = Snapshot::compile(catalog.clone(), org.snapshot.state().clone(), now);
            let instants: Vec<Timestamp> = (0..6).map(|k| Timestamp(now.0 + k * STEP / 2)).collect();
            assert_same_answers(&catalog, &org.snapshot, &compiled, &instants)?;
        }
    }
}

/// The same org through a thousand writes: the patched snapshot never drifts.
#[test]
fn a_long_run_of_patches_never_drifts() {
    let mut org = Org::new();
    let catalog = org.catalog.clone();
    let mut rng = SplitMix(42);
    for _ in 0..5 {
        org.user(&format!("seed{}@acme.test", rng.next_u64()));
    }
    let mut applied = 0;
    for _ in 0..1000 {
        if rng.below(8) == 0 {
            org.ctx.now = Timestamp(org.ctx.now.0 + STEP / 3);
        }
        let command = random_command(&org, &mut rng, &catalog);
        if let Ok(executed) = execute(&org.snapshot, &Actor::System, command, &mut org.ctx) {
            org.snapshot = executed.snapshot;
            applied += 1;
        }
    }
    // A generator whose writes were all refused would prove nothing.
    assert!(applied >= 500, "only {applied} of 1000 writes applied");
    let now = org.now();
    let compiled = Snapshot::compile(catalog.clone(), Arc::clone(org.snapshot.state()), now);
    assert!(org.state().users.len() > 20);
    assert_same_answers(
        &catalog,
        &org.snapshot,
        &compiled,
        &[now, Timestamp(now.0 + STEP)],
    )
    .unwrap();
}
