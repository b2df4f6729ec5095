//! The core's behaviour end to end: commands, invariants and the engine.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::sync::Arc;

use proptest::prelude::*;
use warden_core::command::{FirstUser, PrincipalInput, PrincipalKind, RuleInput};
use warden_core::engine::DenyReason;
use warden_core::testkit::{generate_org, FixedContext, Workload};
use warden_core::*;

struct Org {
    catalog: Arc<Catalog>,
    state: OrgState,
    ctx: FixedContext,
}

impl Org {
    fn new() -> Org {
        let catalog = Catalog::builtin().unwrap();
        let mut ctx = FixedContext::new(1_000);
        let state = new_organization(
            &catalog,
            OrgId("abc123".into()),
            "Acme",
            FirstUser {
                email: "root@acme.test".into(),
                first_name: "Root".into(),
                last_name: "Admin".into(),
            },
            &mut ctx,
        )
        .unwrap()
        .state;
        Org {
            catalog,
            state,
            ctx,
        }
    }

    fn root(&self) -> UserId {
        self.state.org.default_admin.clone()
    }

    fn run(&mut self, actor: &Actor, cmd: Command) -> Result<String, DomainError> {
        let executed = execute(&self.catalog, &self.state, actor, cmd, &mut self.ctx)?;
        self.state = executed.state;
        Ok(executed.target)
    }

    fn sys(&mut self, cmd: Command) -> String {
        self.run(&Actor::System, cmd).unwrap()
    }

    fn user(&mut self, email: &str) -> UserId {
        UserId(self.sys(Command::CreateUser {
            email: email.into(),
            first_name: String::new(),
            last_name: String::new(),
        }))
    }

    fn group(&self, name: &str) -> GroupId {
        self.state.group_by_name(name).unwrap().id.clone()
    }

    fn join(&mut self, group: &str, user: &UserId) {
        let group = self.group(group);
        self.sys(Command::AddGroupMember {
            group,
            user: user.clone(),
        });
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot::compile(self.catalog.clone(), Arc::new(self.state.clone()))
    }

    fn allowed(&self, user: &UserId, action: &str) -> bool {
        self.snapshot().check(user.as_str(), action).unwrap()
    }
}

fn rule(kind: PrincipalKind, id: &str, roles: &[&str]) -> RuleInput {
    RuleInput {
        principal: PrincipalInput {
            kind,
            id: id.into(),
        },
        roles: roles.iter().map(|r| r.to_string()).collect(),
    }
}

#[test]
fn new_org_has_legacy_groups_default_policies_and_an_admin() {
    let org = Org::new();
    let names: BTreeSet<&str> = org.state.groups.values().map(|g| g.name.as_str()).collect();
    assert_eq!(
        names,
        ["admin", "billing_viewer", "metrics", "read", "write"]
            .into_iter()
            .collect()
    );
    assert_eq!(org.state.policies.len(), 5);
    assert!(org
        .state
        .policies
        .values()
        .all(|p| p.legacy_group.is_some()));
    let root = org.root();
    assert!(org.snapshot().is_org_admin(root.as_str()));
    assert!(org.allowed(&root, "iam.policies.create"));
    assert_eq!(org.state.revision, 1);
}

#[test]
fn default_deny() {
    let mut org = Org::new();
    let u = org.user("u@acme.test");
    let snap = org.snapshot();
    for action in org.catalog.actions() {
        assert!(!snap.check(u.as_str(), action).unwrap(), "{action}");
    }
    let explained = snap.explain(u.as_str(), "cks.clusters.list").unwrap();
    assert!(!explained.allowed);
    assert_eq!(explained.reason, Some(DenyReason::NoMatchingRule));
    assert!(explained.granted_by.is_empty());
    // Unknown principals and actions.
    assert!(!snap.check("usr_nobody", "cks.clusters.list").unwrap());
    assert_eq!(
        snap.explain("usr_nobody", "cks.clusters.list")
            .unwrap()
            .reason,
        Some(DenyReason::UnknownPrincipal)
    );
    assert!(snap.check(u.as_str(), "cks.clusters.fly").is_err());
}

#[test]
fn grant_via_direct_rule_and_revocation_by_removing_the_rule() {
    let mut org = Org::new();
    let u = org.user("u@acme.test");
    let policy = PolicyId(org.sys(Command::CreatePolicy {
        name: "ops".into(),
        description: String::new(),
        rules: vec![rule(PrincipalKind::User, "u@acme.test", &["cks-viewer"])],
    }));
    assert!(org.allowed(&u, "cks.clusters.list"));
    assert!(!org.allowed(&u, "cks.clusters.create"));
    let why = org
        .snapshot()
        .explain(u.as_str(), "cks.clusters.get")
        .unwrap();
    assert!(why.allowed);
    assert_eq!(why.granted_by.len(), 1);
    assert_eq!(why.granted_by[0].policy_id, policy);
    assert_eq!(why.granted_by[0].policy_name, "ops");
    assert_eq!(why.granted_by[0].rule_index, 0);
    assert_eq!(why.granted_by[0].via_group, None);
    assert_eq!(why.granted_by[0].role_id, "cks-viewer");

    org.sys(Command::ReplacePolicy {
        policy: policy.clone(),
        name: "ops".into(),
        description: String::new(),
        rules: vec![],
    });
    assert!(!org.allowed(&u, "cks.clusters.list"));
    org.sys(Command::ReplacePolicy {
        policy: policy.clone(),
        name: "ops".into(),
        description: String::new(),
        rules: vec![rule(PrincipalKind::User, u.as_str(), &["cks-viewer"])],
    });
    assert!(org.allowed(&u, "cks.clusters.list"));
    org.sys(Command::DeletePolicy { policy });
    assert!(!org.allowed(&u, "cks.clusters.list"));
}

#[test]
fn grant_via_group_and_revocation_by_removing_the_membership() {
    let mut org = Org::new();
    let u = org.user("u@acme.test");
    let group = GroupId(org.sys(Command::CreateGroup {
        name: "ml".into(),
        description: "ML engineers".into(),
    }));
    org.sys(Command::CreatePolicy {
        name: "inference".into(),
        description: String::new(),
        rules: vec![rule(PrincipalKind::Group, "ml", &["inference-admin"])],
    });
    assert!(!org.allowed(&u, "inference.deployments.create"));
    org.sys(Command::AddGroupMember {
        group: group.clone(),
        user: u.clone(),
    });
    assert!(org.allowed(&u, "inference.deployments.create"));
    // Includes: inference-admin includes inference-viewer.
    assert!(org.allowed(&u, "inference.deployments.list"));
    let why = org
        .snapshot()
        .explain(u.as_str(), "inference.deployments.list")
        .unwrap();
    assert_eq!(why.granted_by.len(), 1);
    let source = &why.granted_by[0];
    assert_eq!(source.policy_name, "inference");
    assert_eq!(source.via_group.as_ref().unwrap().name, "ml");
    assert_eq!(source.role_id, "inference-admin");
    org.sys(Command::RemoveGroupMember {
        group,
        user: u.clone(),
    });
    assert!(!org.allowed(&u, "inference.deployments.create"));
}

#[test]
fn legacy_groups_give_exactly_their_mapped_roles() {
    let expected: [(&str, &[&str]); 5] = [
        (
            "admin",
            &[
                "iam-admin",
                "cks-admin",
                "object-storage-admin",
                "access-token-admin",
                "access-request-approver",
            ],
        ),
        (
            "write",
            &["cks-admin", "object-storage-admin", "access-token-admin"],
        ),
        ("read", &["iam-viewer", "cks-viewer", "access-token-viewer"]),
        ("metrics", &["observability-viewer"]),
        ("billing_viewer", &["billing-viewer"]),
    ];
    for (group, roles) in expected {
        let mut org = Org::new();
        let u = org.user("member@acme.test");
        org.join(group, &u);
        let snap = org.snapshot();
        let mut want = ActionSet::EMPTY;
        for role in roles {
            want.union_with(&org.catalog.role(role).unwrap().action_set);
        }
        for (i, action) in org.catalog.actions().iter().enumerate() {
            let expected = want.contains(ActionId(i as u16));
            assert_eq!(
                snap.check(u.as_str(), action).unwrap(),
                expected,
                "group {group}, action {action}"
            );
        }
        // And nothing else: the legacy admin group does not get newer roles.
        assert!(!snap.check(u.as_str(), "inference.gateways.list").unwrap());
        assert!(!snap.check(u.as_str(), "telemetry.pipelines.list").unwrap());
    }
}

#[test]
fn aliases_need_every_action_they_stand_for() {
    let mut org = Org::new();
    let u = org.user("u@acme.test");
    let root = org.root();
    assert!(org.allowed(&root, "write_groups_user_assignments"));
    assert!(org.allowed(&root, "write_org_users"));
    org.join("read", &u);
    assert!(!org.allowed(&u, "write_org_users"));
}

#[test]
fn deactivated_users_are_denied_everything_and_reactivation_restores() {
    let mut org = Org::new();
    let u = org.user("u@acme.test");
    org.join("read", &u);
    assert!(org.allowed(&u, "iam.users.list"));
    org.sys(Command::DeactivateUser { user: u.clone() });
    assert!(!org.allowed(&u, "iam.users.list"));
    let why = org
        .snapshot()
        .explain(u.as_str(), "iam.users.list")
        .unwrap();
    assert_eq!(why.reason, Some(DenyReason::PrincipalInactive));
    org.sys(Command::ReactivateUser { user: u.clone() });
    assert!(org.allowed(&u, "iam.users.list"));
}

#[test]
fn commands_are_authorized_by_the_engine() {
    let mut org = Org::new();
    let u = org.user("u@acme.test");
    let actor = Actor::User(u.clone());
    let err = org
        .run(
            &actor,
            Command::CreateGroup {
                name: "x".into(),
                description: String::new(),
            },
        )
        .unwrap_err();
    assert_eq!(
        err,
        DomainError::Forbidden {
            action: "iam.groups.create".into()
        }
    );
    org.join("read", &u);
    assert_eq!(
        org.run(
            &actor,
            Command::CreateGroup {
                name: "x".into(),
                description: String::new(),
            },
        )
        .unwrap_err()
        .code(),
        "forbidden"
    );
    let revision = org.state.revision;
    let admin = Actor::User(org.root());
    org.run(
        &admin,
        Command::CreateGroup {
            name: "x".into(),
            description: String::new(),
        },
    )
    .unwrap();
    assert_eq!(org.state.revision, revision + 1);
}

#[test]
fn invariant_at_least_one_active_admin() {
    let mut org = Org::new();
    let root = org.root();
    let admin = org.group("admin");
    // Even the system cannot leave the org without an admin.
    let err = org
        .run(
            &Actor::System,
            Command::RemoveGroupMember {
                group: admin.clone(),
                user: root.clone(),
            },
        )
        .unwrap_err();
    assert_eq!(err, DomainError::LastAdmin);
    let err = org
        .run(
            &Actor::System,
            Command::DeactivateUser { user: root.clone() },
        )
        .unwrap_err();
    assert_eq!(err, DomainError::LastAdmin);
    // With a second admin, the system may remove the first.
    let second = org.user("second@acme.test");
    org.join("admin", &second);
    org.sys(Command::RemoveGroupMember {
        group: admin,
        user: root,
    });
}

#[test]
fn invariant_admins_cannot_change_their_own_privileges() {
    let mut org = Org::new();
    let second = org.user("second@acme.test");
    org.join("admin", &second);
    let actor = Actor::User(second.clone());
    // Granting themselves more: refused.
    let err = org
        .run(
            &actor,
            Command::CreatePolicy {
                name: "me".into(),
                description: String::new(),
                rules: vec![rule(
                    PrincipalKind::User,
                    second.as_str(),
                    &["billing-viewer"],
                )],
            },
        )
        .unwrap_err();
    assert_eq!(err, DomainError::SelfPrivilegeChange);
    // Leaving admin themselves: refused.
    let admin = org.group("admin");
    let err = org
        .run(
            &actor,
            Command::RemoveGroupMember {
                group: admin.clone(),
                user: second.clone(),
            },
        )
        .unwrap_err();
    assert_eq!(err, DomainError::SelfPrivilegeChange);
    // Deactivating themselves: refused.
    let err = org
        .run(
            &actor,
            Command::DeactivateUser {
                user: second.clone(),
            },
        )
        .unwrap_err();
    assert_eq!(err, DomainError::SelfPrivilegeChange);
    // Granting a group they are in a role: refused; a group they are not in: fine.
    let ml = GroupId(org.sys(Command::CreateGroup {
        name: "ml".into(),
        description: String::new(),
    }));
    org.sys(Command::AddGroupMember {
        group: ml,
        user: second.clone(),
    });
    let err = org
        .run(
            &actor,
            Command::CreatePolicy {
                name: "ml".into(),
                description: String::new(),
                rules: vec![rule(PrincipalKind::Group, "ml", &["inference-admin"])],
            },
        )
        .unwrap_err();
    assert_eq!(err, DomainError::SelfPrivilegeChange);
    org.run(
        &actor,
        Command::CreatePolicy {
            name: "billing".into(),
            description: String::new(),
            rules: vec![rule(
                PrincipalKind::Group,
                "billing_viewer",
                &["billing-viewer"],
            )],
        },
    )
    .unwrap();
    // Another admin may change theirs.
    let root = Actor::User(org.root());
    org.run(
        &root,
        Command::RemoveGroupMember {
            group: admin,
            user: second,
        },
    )
    .unwrap();
}

#[test]
fn invariant_default_admin_is_protected_from_org_admins() {
    let mut org = Org::new();
    let second = org.user("second@acme.test");
    org.join("admin", &second);
    let actor = Actor::User(second);
    let root = org.root();
    let admin = org.group("admin");
    let err = org
        .run(
            &actor,
            Command::RemoveGroupMember {
                group: admin,
                user: root.clone(),
            },
        )
        .unwrap_err();
    assert_eq!(err, DomainError::DefaultAdminProtected);
    let err = org
        .run(&actor, Command::DeactivateUser { user: root.clone() })
        .unwrap_err();
    assert_eq!(err, DomainError::DefaultAdminProtected);
    // Even when the default admin keeps IAM Admin through another policy, another admin
    // may not take them out of `admin` (spec 7.3).
    org.sys(Command::CreatePolicy {
        name: "root-direct".into(),
        description: String::new(),
        rules: vec![rule(PrincipalKind::User, root.as_str(), &["iam-admin"])],
    });
    let err = org
        .run(
            &actor,
            Command::RemoveGroupMember {
                group: org.group("admin"),
                user: root,
            },
        )
        .unwrap_err();
    assert_eq!(err, DomainError::DefaultAdminProtected);
}

#[test]
fn default_policies_keep_their_roles_and_cannot_be_deleted() {
    let mut org = Org::new();
    let u = org.user("u@acme.test");
    let read = org
        .state
        .policies
        .values()
        .find(|p| p.name == "read")
        .unwrap()
        .clone();
    let err = org
        .run(
            &Actor::System,
            Command::DeletePolicy {
                policy: read.id.clone(),
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "default_policy_protected");
    let err = org
        .run(
            &Actor::System,
            Command::ReplacePolicy {
                policy: read.id.clone(),
                name: "read".into(),
                description: String::new(),
                rules: vec![rule(PrincipalKind::User, u.as_str(), &["iam-admin"])],
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "default_policy_roles_fixed");
    // Adding a user as a principal with the fixed roles is fine.
    org.sys(Command::ReplacePolicy {
        policy: read.id.clone(),
        name: "read".into(),
        description: String::new(),
        rules: vec![
            rule(
                PrincipalKind::Group,
                "read",
                &["iam-viewer", "cks-viewer", "access-token-viewer"],
            ),
            rule(
                PrincipalKind::User,
                u.as_str(),
                &["cks-viewer", "iam-viewer", "access-token-viewer"],
            ),
        ],
    });
    assert!(org.allowed(&u, "cks.clusters.list"));
    // Emptying a default policy, or dropping its own group, is refused.
    for rules in [
        vec![],
        vec![rule(
            PrincipalKind::User,
            u.as_str(),
            &["cks-viewer", "iam-viewer", "access-token-viewer"],
        )],
    ] {
        let err = org
            .run(
                &Actor::System,
                Command::ReplacePolicy {
                    policy: read.id.clone(),
                    name: "read".into(),
                    description: String::new(),
                    rules,
                },
            )
            .unwrap_err();
        assert_eq!(err.code(), "default_policy_group_required");
    }
    let admin_group = org.group("admin");
    let err = org
        .run(&Actor::System, Command::DeleteGroup { group: admin_group })
        .unwrap_err();
    assert_eq!(err.code(), "legacy_group_protected");
}

#[test]
fn bad_input_is_refused_without_changes() {
    let mut org = Org::new();
    let before = org.state.clone();
    let cases: Vec<(Command, &str)> = vec![
        (
            Command::CreatePolicy {
                name: "p".into(),
                description: String::new(),
                rules: vec![rule(PrincipalKind::User, "usr_nobody", &["cks-viewer"])],
            },
            "unknown_principal",
        ),
        (
            Command::CreatePolicy {
                name: "p".into(),
                description: String::new(),
                rules: vec![rule(PrincipalKind::Group, "admin", &["god-mode"])],
            },
            "unknown_role",
        ),
        (
            Command::CreateGroup {
                name: "admin".into(),
                description: String::new(),
            },
            "duplicate_name",
        ),
        (
            Command::CreateGroup {
                name: "x".repeat(64),
                description: String::new(),
            },
            "invalid_field",
        ),
        (
            Command::CreatePolicy {
                name: "read".into(),
                description: String::new(),
                rules: vec![],
            },
            "duplicate_name",
        ),
        (
            Command::CreateNamespace {
                name: "Bad_Name".into(),
                access: vec![],
            },
            "invalid_field",
        ),
        (
            Command::CreateCluster {
                name: "c1".into(),
                api_server_url: "ftp://x".into(),
                ca_bundle: String::new(),
            },
            "invalid_field",
        ),
    ];
    for (cmd, code) in cases {
        let err = org.run(&Actor::System, cmd.clone()).unwrap_err();
        assert_eq!(err.code(), code, "{cmd:?}");
        assert_eq!(org.state, before, "{cmd:?} changed state");
    }
}

#[test]
fn namespace_access_and_reserved_keys() {
    let mut org = Org::new();
    let u = org.user("u@acme.test");
    let root = org.root();
    let admin = Actor::User(root.clone());
    let ns = NamespaceId(
        org.run(
            &admin,
            Command::CreateNamespace {
                name: "team-a".into(),
                access: vec![(u.clone(), vec![])],
            },
        )
        .unwrap(),
    );
    let snap = org.snapshot();
    assert!(snap.check_namespace(u.as_str(), "team-a", "r:full"));
    assert!(!snap.check_namespace(u.as_str(), "team-a", "w:secrets"));
    // Org admins hold every key, reserved ones included.
    assert!(snap.check_namespace(root.as_str(), "team-a", "w:full"));
    assert!(!snap.check_namespace(root.as_str(), "team-b", "r:full"));
    // Org admins cannot grant reserved keys.
    let err = org
        .run(
            &admin,
            Command::SetNamespaceAccess {
                namespace: ns.clone(),
                user: u.clone(),
                keys: vec!["w:pods".into()],
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "reserved_namespace_permission");
    // An operator can; then "Remove All" by an admin keeps the reserved key.
    org.sys(Command::SetNamespaceAccess {
        namespace: ns.clone(),
        user: u.clone(),
        keys: vec!["w:full".into()],
    });
    assert!(org
        .snapshot()
        .check_namespace(u.as_str(), "team-a", "w:secrets"));
    org.run(
        &admin,
        Command::SetNamespaceAccess {
            namespace: ns,
            user: u.clone(),
            keys: vec![],
        },
    )
    .unwrap();
    assert!(org
        .snapshot()
        .check_namespace(u.as_str(), "team-a", "w:full"));
}

#[test]
fn token_lifetime_names_match_their_serde_names() {
    use warden_core::command::TokenLifetime;
    for (lifetime, name) in TokenLifetime::ALL.iter().zip(TokenLifetime::NAMES) {
        assert_eq!(TokenLifetime::parse(name), Some(*lifetime));
        assert_eq!(serde_json::to_value(lifetime).unwrap(), name);
    }
    assert_eq!(TokenLifetime::parse("forever"), None);
    let now = Timestamp(0);
    assert_eq!(
        TokenLifetime::OneHour.expires_at(now),
        Some(Timestamp(3_600_000))
    );
    assert_eq!(TokenLifetime::Never.expires_at(now), None);
}

#[test]
fn diff_round_trips_a_generated_org() {
    let catalog = Catalog::builtin().unwrap();
    let state = generate_org(
        &catalog,
        Workload {
            users: 50,
            groups: 5,
            ..Workload::REFERENCE
        },
    )
    .unwrap();
    let changes = command::diff(&state, &state);
    assert!(changes.is_empty());
}

// ---------------------------------------------------------------------------------------
// Property test: the compiled engine agrees with a naive evaluation written straight from
// the spec's definition (section 2).
// ---------------------------------------------------------------------------------------

/// "A principal may perform an action only if some rule of some access policy of its
/// organization grants, to it or to a group it belongs to, a role that contains the action."
fn reference_allows(catalog: &Catalog, state: &OrgState, user: &UserId, action: &str) -> bool {
    let Some(u) = state.users.get(user) else {
        return false;
    };
    if u.status != UserStatus::Active {
        return false;
    }
    state.policies.values().any(|policy| {
        policy.rules.iter().any(|rule| {
            let names_user = match &rule.principal {
                PrincipalRef::User(id) => id == user,
                PrincipalRef::Group(g) => state.memberships.contains(&(g.clone(), user.clone())),
                PrincipalRef::ServiceAccount(_) => false,
            };
            names_user
                && rule.roles.iter().any(|role| {
                    catalog
                        .role(role)
                        .is_some_and(|r| r.actions.iter().any(|a| a == action))
                })
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn engine_matches_reference(
        users in 1usize..25,
        groups in 0usize..8,
        memberships in 0usize..3,
        policies in 0usize..8,
        rules in 0usize..5,
        group_share in 0usize..100,
        deactivate in proptest::collection::vec(any::<bool>(), 25),
        seed in any::<u64>(),
    ) {
        let catalog = Catalog::builtin().unwrap();
        let mut state = generate_org(&catalog, Workload {
            users, groups, memberships_per_user: memberships, policies,
            rules_per_policy: rules, group_rule_percent: group_share, seed,
        }).unwrap();
        for (user, off) in state.users.values_mut().zip(deactivate) {
            if off { user.status = UserStatus::Deactivated; }
        }
        let state = Arc::new(state);
        let snap = Snapshot::compile(catalog.clone(), state.clone());
        for user in state.users.keys() {
            let fast = warden_core::engine::effective_actions(&catalog, &state, user);
            for (i, action) in catalog.actions().iter().enumerate() {
                let expected = reference_allows(&catalog, &state, user, action);
                prop_assert_eq!(snap.check(user.as_str(), action).unwrap(), expected);
                prop_assert_eq!(fast.contains(ActionId(i as u16)), expected);
                let why = snap.explain(user.as_str(), action).unwrap();
                prop_assert_eq!(why.allowed, expected);
                if expected {
                    prop_assert!(!why.granted_by.is_empty());
                } else if why.reason == Some(DenyReason::NoMatchingRule) {
                    prop_assert!(why.granted_by.is_empty());
                }
                for source in &why.granted_by {
                    let policy = &state.policies[&source.policy_id];
                    let rule = &policy.rules[source.rule_index];
                    prop_assert!(rule.roles.contains(&source.role_id));
                    prop_assert!(catalog.role(&source.role_id).unwrap().actions.contains(action));
                }
            }
            let listed: BTreeSet<String> = snap.permissions(user.as_str()).into_iter().map(|(a, _)| a).collect();
            let expected: BTreeSet<String> = catalog.actions().iter()
                .filter(|a| reference_allows(&catalog, &state, user, a)).cloned().collect();
            prop_assert_eq!(listed, expected);
        }
    }
}

#[test]
fn personal_tokens_belong_to_their_creator_unless_the_system_issues_them() {
    let mut org = Org::new();
    let root = org.root();
    let u = org.user("u@acme.test");
    let token = |user: &UserId| Command::CreatePersonalToken {
        user: user.clone(),
        name: "t".into(),
        note: String::new(),
        lifetime: command::TokenLifetime::OneHour,
        secret_hash: "00".repeat(32),
        display_prefix: "wdn_pat_x".into(),
    };
    // The admin may not mint a token for someone else.
    let err = org.run(&Actor::User(root.clone()), token(&u)).unwrap_err();
    assert_eq!(err.code(), "invalid_field");
    // A user without tokens.personal.create may not mint one for themselves.
    let err = org.run(&Actor::User(u.clone()), token(&u)).unwrap_err();
    assert_eq!(err.code(), "forbidden");
    // The system (an operator) may, and the token records its owner.
    let id = TokenId(org.sys(token(&u)));
    assert_eq!(org.state.tokens[&id].user, u);
    assert_eq!(org.state.tokens[&id].created_by, u);
    assert_eq!(
        org.state.tokens[&id].expires_at,
        Some(Timestamp(1_000 + 3_600_000))
    );
    // A deactivated user cannot be given one.
    org.sys(Command::DeactivateUser { user: u.clone() });
    assert_eq!(
        org.run(&Actor::System, token(&u)).unwrap_err().code(),
        "invalid_field"
    );
}
