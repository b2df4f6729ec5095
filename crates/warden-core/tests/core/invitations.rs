//! Invitations (spec section 7.4) and the platform operator's commands on people (sections 5
//! and 7.3, 7.6).

use warden_core::command::{
    GroupCommand, InvitationCommand, InvitationLink, Key, NamespaceCommand, Offer,
    OrganizationCommand, UserCommand,
};
use warden_core::*;

use crate::common::Org;

const DAY: i64 = 86_400_000;

fn link(n: u32) -> InvitationLink {
    InvitationLink {
        nonce: format!("nonce{n}"),
        secret_hash: format!("hash{n}"),
    }
}

fn invite(org: &mut Org, actor: &Actor, email: &str, offer: Offer) -> Result<String, DomainError> {
    let expires_at = Timestamp(org.now().0 + 7 * DAY);
    org.run(
        actor,
        InvitationCommand::Create {
            email: email.into(),
            offer,
            link: link(1),
            expires_at,
        },
    )
}

fn accept(org: &mut Org, id: &str, hash: &str) -> Result<String, DomainError> {
    let id = InvitationId::from(id);
    org.run(
        &Actor::Invitee(id.clone()),
        InvitationCommand::Accept {
            invitation: id,
            secret_hash: hash.into(),
            first_name: "Bea".into(),
            last_name: "Bauer".into(),
        },
    )
}

fn with_namespace(org: &mut Org) {
    org.sys(NamespaceCommand::Create {
        name: "ml".into(),
        access: vec![],
    });
    org.sys(GroupCommand::Create {
        name: "Researchers".into(),
        description: String::new(),
    });
}

#[test]
fn accepting_creates_the_user_with_exactly_what_was_recorded() {
    let mut org = Org::new();
    with_namespace(&mut org);
    let admin = Actor::user(org.root());
    let offer = Offer {
        namespaces: vec![(
            Key::from("ml"),
            vec!["r:full".into(), "w:configmaps".into()],
        )],
        admin: false,
        billing: true,
        groups: vec![Key::from("researchers")],
    };
    let id = invite(&mut org, &admin, "Bea@Example.com", offer).unwrap();
    let invitation = org.state().invitations.get(id.as_str()).unwrap().clone();
    assert_eq!(invitation.status_at(org.now()), "pending");
    assert!(invitation.billing && !invitation.admin);
    let user = UserId::from(accept(&mut org, &id, "hash1").unwrap());
    let state = org.state();
    let created = state.users.get(&user).unwrap();
    assert_eq!(
        (&*created.email, created.status),
        ("Bea@Example.com", UserStatus::Active)
    );
    let groups: Vec<&str> = state
        .groups_of(&user)
        .map(|g| state.groups.get(g).unwrap().name.as_str())
        .collect();
    assert_eq!(groups.len(), 2);
    assert!(groups.contains(&"billing_viewer") && groups.contains(&"Researchers"));
    let keys: Vec<&str> = state
        .namespace_grants
        .iter()
        .filter(|g| g.user == user)
        .map(|g| g.key.as_str())
        .collect();
    assert_eq!(keys, ["r:full", "w:configmaps"]);
    let invitation = state.invitations.get(id.as_str()).unwrap();
    assert_eq!(invitation.status, InvitationStatus::Accepted);
    assert_eq!(invitation.accepted_user.as_ref(), Some(&user));
    // A link works once.
    assert_eq!(
        accept(&mut org, &id, "hash1").unwrap_err(),
        DomainError::InvitationAccepted
    );
}

#[test]
fn a_link_fails_when_wrong_revoked_or_expired_each_with_its_own_error() {
    let mut org = Org::new();
    let admin = Actor::user(org.root());
    let id = invite(&mut org, &admin, "a@example.com", Offer::default()).unwrap();
    assert_eq!(
        accept(&mut org, &id, "wrong").unwrap_err(),
        DomainError::InvitationLinkInvalid
    );
    // Resend: a new link, and the old one dies.
    let expires_at = Timestamp(org.now().0 + DAY);
    org.run(
        &admin,
        InvitationCommand::Resend {
            invitation: Key::from(id.as_str()),
            link: link(2),
            expires_at,
        },
    )
    .unwrap();
    assert_eq!(
        accept(&mut org, &id, "hash1").unwrap_err(),
        DomainError::InvitationLinkInvalid
    );
    // Expired at its instant, without a write.
    org.advance(DAY);
    assert_eq!(
        accept(&mut org, &id, "hash2").unwrap_err(),
        DomainError::InvitationExpired
    );
    let revoked = invite(&mut org, &admin, "b@example.com", Offer::default()).unwrap();
    org.run(
        &admin,
        InvitationCommand::Revoke {
            invitation: Key::from(revoked.as_str()),
        },
    )
    .unwrap();
    assert_eq!(
        accept(&mut org, &revoked, "hash1").unwrap_err(),
        DomainError::InvitationRevoked
    );
}

#[test]
fn members_and_pending_addresses_cannot_be_invited_twice() {
    let mut org = Org::new();
    let admin = Actor::user(org.root());
    let err = invite(&mut org, &admin, "ROOT@acme.test", Offer::default()).unwrap_err();
    assert_eq!(err.code(), "already_member");
    let id = invite(&mut org, &admin, "c@example.com", Offer::default()).unwrap();
    let err = invite(&mut org, &admin, "C@example.com", Offer::default()).unwrap_err();
    assert_eq!(err, DomainError::AlreadyInvited("c@example.com".into(), id));
    // Once expired, the address may be invited again.
    org.advance(8 * DAY);
    invite(&mut org, &admin, "c@example.com", Offer::default()).unwrap();
}

#[test]
fn an_invitation_is_editable_until_accepted_and_never_after() {
    let mut org = Org::new();
    with_namespace(&mut org);
    let admin = Actor::user(org.root());
    let id = invite(&mut org, &admin, "d@example.com", Offer::default()).unwrap();
    let edit = |admin_flag| InvitationCommand::Update {
        invitation: Key::from("d@example.com"),
        namespaces: Some(vec![(Key::from("ml"), vec![])]),
        admin: Some(admin_flag),
        billing: None,
        groups: Some(vec![Key::from("Researchers")]),
    };
    org.run(&admin, edit(true)).unwrap();
    let invitation = org.state().invitations.get(id.as_str()).unwrap();
    assert!(invitation.admin);
    assert_eq!(invitation.namespaces[0].keys, ["r:full"]);
    let user = UserId::from(accept(&mut org, &id, "hash1").unwrap());
    let admin_group = org.state().group_by_name("admin").unwrap().id.clone();
    assert!(org.state().is_member(&admin_group, &user));
    let err = org.run(&admin, edit(false)).unwrap_err();
    assert_eq!(err.code(), "invitation_not_pending");
}

#[test]
fn an_invitation_gives_no_more_than_its_author_may_grant() {
    let mut org = Org::new();
    with_namespace(&mut org);
    let admin = Actor::user(org.root());
    // Reserved keys: refused to an org admin, recorded for an operator and given on accept.
    let offer = Offer {
        namespaces: vec![(Key::from("ml"), vec!["w:pods".into()])],
        ..Offer::default()
    };
    let err = invite(&mut org, &admin, "e@example.com", offer.clone()).unwrap_err();
    assert_eq!(err.code(), "reserved_namespace_permission");
    let operator = Actor::Operator(OperatorId::from("op_1"));
    let id = invite(&mut org, &operator, "e@example.com", offer).unwrap();
    let user = UserId::from(accept(&mut org, &id, "hash1").unwrap());
    assert!(org
        .state()
        .namespace_grants
        .iter()
        .any(|g| g.user == user && g.key == "w:pods"));
    // The invitee may accept, and do nothing else.
    let err = org
        .run(
            &Actor::Invitee(InvitationId::from(id.as_str())),
            UserCommand::Deactivate {
                user: Key::from(&user),
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");
}

#[test]
fn a_deleted_group_or_namespace_leaves_pending_invitations() {
    let mut org = Org::new();
    with_namespace(&mut org);
    let admin = Actor::user(org.root());
    let offer = Offer {
        namespaces: vec![(Key::from("ml"), vec![])],
        groups: vec![Key::from("Researchers")],
        ..Offer::default()
    };
    let id = invite(&mut org, &admin, "f@example.com", offer).unwrap();
    org.sys(GroupCommand::Delete {
        group: Key::from("Researchers"),
    });
    org.sys(NamespaceCommand::Delete {
        namespace: Key::from("ml"),
    });
    let invitation = org.state().invitations.get(id.as_str()).unwrap();
    assert!(invitation.groups.is_empty() && invitation.namespaces.is_empty());
    accept(&mut org, &id, "hash1").unwrap();
}

#[test]
fn only_a_platform_operator_removes_users_and_changes_the_default_admin() {
    let mut org = Org::new();
    with_namespace(&mut org);
    let root = org.root();
    let admin = Actor::user(root.clone());
    let bea = org.user("bea@example.com");
    org.join("Researchers", &bea);
    let err = org
        .run(
            &admin,
            UserCommand::Remove {
                user: Key::from(&bea),
            },
        )
        .unwrap_err();
    assert_eq!(err, DomainError::OperatorOnly("warden org remove-user"));
    assert!(err.to_string().contains("warden org remove-user"));
    let operator = Actor::Operator(OperatorId::from("op_1"));
    // The default admin stays until another takes the role.
    let err = org
        .run(
            &operator,
            UserCommand::Remove {
                user: Key::from(&root),
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "default_admin_protected");
    let err = org
        .run(
            &admin,
            OrganizationCommand::SetDefaultAdmin {
                user: Key::from(&bea),
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "operator_only");
    org.run(
        &operator,
        OrganizationCommand::SetDefaultAdmin {
            user: Key::from(&bea),
        },
    )
    .unwrap();
    assert_eq!(org.state().org.default_admin, bea);
    assert!(org.allowed(&bea, "iam.users.invite"), "made an admin");
    org.run(
        &operator,
        UserCommand::Remove {
            user: Key::from(&root),
        },
    )
    .unwrap();
    assert!(org.state().users.get(&root).is_none());
    assert_eq!(org.state().groups_of(&root).count(), 0);
    // The audit actor names the operator.
    assert_eq!(operator.describe(), "operator:op_1");
}

#[test]
fn reserved_keys_are_changed_by_operators_alone() {
    let mut org = Org::new();
    with_namespace(&mut org);
    let admin = Actor::user(org.root());
    let bea = org.user("bea@example.com");
    let change = |add: &[&str], remove: &[&str]| NamespaceCommand::ChangeKeys {
        namespace: Key::from("ml"),
        user: Key::from("bea@example.com"),
        add: add.iter().map(|k| k.to_string()).collect(),
        remove: remove.iter().map(|k| k.to_string()).collect(),
    };
    let err = org.run(&admin, change(&["w:pods"], &[])).unwrap_err();
    assert_eq!(err.code(), "reserved_namespace_permission");
    assert!(err.to_string().contains("warden org namespace-keys"));
    let operator = Actor::Operator(OperatorId::from("op_1"));
    org.run(&operator, change(&["w:pods"], &[])).unwrap();
    org.run(&admin, change(&["r:full"], &[])).unwrap();
    let keys = |org: &Org| -> Vec<String> {
        org.state()
            .namespace_grants
            .iter()
            .filter(|g| g.user == bea)
            .map(|g| g.key.clone())
            .collect()
    };
    assert_eq!(keys(&org), ["r:full", "w:pods"]);
    let err = org.run(&admin, change(&[], &["w:pods"])).unwrap_err();
    assert_eq!(err.code(), "reserved_namespace_permission");
    org.run(&operator, change(&[], &["w:pods"])).unwrap();
    assert_eq!(keys(&org), ["r:full"]);
}
