//! Enterprise identity in the core (spec section 10): SAML settings and their rules, SSO
//! enforcement with its break-glass admin, users provisioned without a password, and SCIM
//! tokens acting as service accounts that hold exactly the provisioning role.

use warden_core::command::{
    GroupCommand, IdpInput, Key, NewToken, ProvisioningCommand, ScopeInput, SsoCommand,
    TokenLifetime, UserCommand, PROVISIONER_ROLE, PROVISIONING_POLICY,
};
use warden_core::*;

use crate::common::Org;

fn idp() -> IdpInput {
    IdpInput {
        entity_id: "https://idp.example.com/app/exk1".into(),
        sso_url: "https://idp.example.com/app/exk1/sso/saml".into(),
        certificates: vec!["MIIC8DCCAdigAwIBAgIQ".into()],
        attributes: SamlAttributeNames::default(),
        allow_idp_initiated: true,
    }
}

fn provision(email: &str) -> UserCommand {
    UserCommand::Provision {
        email: email.into(),
        first_name: "Grace".into(),
        last_name: "Hopper".into(),
        external_id: Some("00u-Grace".into()),
        active: true,
    }
}

fn scim_token(name: &str, n: u8) -> ProvisioningCommand {
    ProvisioningCommand::CreateToken {
        token: NewToken {
            name: name.into(),
            note: String::new(),
            lifetime: TokenLifetime::Never,
            // Ignored: a SCIM token acts only under /scim/v2/.
            scope: ScopeInput {
                namespaces: vec![Key::from("anything")],
                clusters: vec![],
            },
            secret_hash: format!("{n:02x}").repeat(32),
            display_prefix: "wdn_scim_x".into(),
        },
    }
}

#[test]
fn saml_settings_need_a_signing_certificate_and_valid_urls() {
    let mut org = Org::new();
    let admin = Actor::user(org.root());
    let mut no_cert = idp();
    no_cert.certificates.clear();
    let err = org
        .run(&admin, SsoCommand::Configure { idp: no_cert })
        .unwrap_err();
    assert_eq!(err.field(), Some("certificates"), "{err}");
    let mut pem = idp();
    pem.certificates = vec!["-----BEGIN CERTIFICATE-----".into()];
    assert_eq!(
        org.run(&admin, SsoCommand::Configure { idp: pem })
            .unwrap_err()
            .field(),
        Some("certificates")
    );
    let mut url = idp();
    url.sso_url = "idp.example.com/sso".into();
    assert_eq!(
        org.run(&admin, SsoCommand::Configure { idp: url })
            .unwrap_err()
            .field(),
        Some("sso_url")
    );
    let mut attr = idp();
    attr.attributes.email = " ".into();
    assert_eq!(
        org.run(&admin, SsoCommand::Configure { idp: attr })
            .unwrap_err()
            .field(),
        Some("attributes.email")
    );
    assert!(org.state().org.sso.is_none());
    org.run(&admin, SsoCommand::Configure { idp: idp() })
        .unwrap();
    let sso = org.state().org.sso.clone().unwrap();
    assert!(!sso.enforced);
    // Configuring the same again changes nothing (no new revision).
    let revision = org.state().revision;
    org.run(&admin, SsoCommand::Configure { idp: idp() })
        .unwrap();
    assert_eq!(org.state().revision, revision);
    // A viewer may not configure SAML.
    let viewer = org.user("viewer@acme.test");
    org.join("read", &viewer);
    let err = org
        .run(&Actor::user(viewer), SsoCommand::Remove)
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");
}

#[test]
fn enforcing_sso_needs_a_break_glass_admin_who_stays_one() {
    let mut org = Org::new();
    let root = org.root();
    let admin = Actor::user(root.clone());
    assert_eq!(
        org.run(
            &admin,
            SsoCommand::Enforce {
                enforced: true,
                break_glass: None
            }
        )
        .unwrap_err()
        .code(),
        "sso_not_configured"
    );
    org.run(&admin, SsoCommand::Configure { idp: idp() })
        .unwrap();
    let err = org
        .run(
            &admin,
            SsoCommand::Enforce {
                enforced: true,
                break_glass: None,
            },
        )
        .unwrap_err();
    assert_eq!(err.field(), Some("break_glass"));
    // A break-glass user who is not an admin is refused by the invariant.
    let bob = org.user("bob@acme.test");
    let err = org
        .run(
            &admin,
            SsoCommand::Enforce {
                enforced: true,
                break_glass: Some(Key::from("bob@acme.test")),
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "break_glass_required", "{err}");
    let second = org.user("second@acme.test");
    org.join("admin", &second);
    org.run(
        &admin,
        SsoCommand::Enforce {
            enforced: true,
            break_glass: Some(Key::from("second@acme.test")),
        },
    )
    .unwrap();
    let sso = org.state().org.sso.clone().unwrap();
    assert!(sso.enforced);
    assert!(sso.allows_password(&second));
    assert!(!sso.allows_password(&root));
    assert!(!sso.allows_password(&bob));
    // While enforced, the break-glass admin can be neither deactivated nor demoted.
    let err = org
        .run(
            &admin,
            UserCommand::Deactivate {
                user: Key::from(&second),
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "break_glass_required");
    let err = org
        .run(
            &admin,
            GroupCommand::RemoveMember {
                group: Key::from("admin"),
                user: Key::from(&second),
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "break_glass_required");
    // Stopping enforcement keeps the named admin for next time, and frees them.
    org.run(
        &admin,
        SsoCommand::Enforce {
            enforced: false,
            break_glass: None,
        },
    )
    .unwrap();
    assert_eq!(
        org.state().org.sso.as_ref().unwrap().break_glass.as_ref(),
        Some(&second)
    );
    org.run(
        &admin,
        UserCommand::Deactivate {
            user: Key::from(&second),
        },
    )
    .unwrap();
}

#[test]
fn a_provisioned_user_starts_with_nothing_and_needs_saml() {
    let mut org = Org::new();
    assert_eq!(
        org.run(&Actor::System, provision("grace@acme.test"))
            .unwrap_err()
            .code(),
        "sso_not_configured"
    );
    org.sys(SsoCommand::Configure { idp: idp() });
    let grace = UserId::from(org.sys(provision("grace@acme.test")));
    let user = &org.state().users[&grace];
    assert_eq!(user.status, UserStatus::Active);
    assert_eq!(user.external_id.as_deref(), Some("00u-Grace"));
    assert_eq!(org.state().groups_of(&grace).count(), 0);
    assert!(org
        .snapshot
        .actions_of(grace.as_str(), org.now())
        .is_empty());
    // Twice is a duplicate, whatever the case.
    assert_eq!(
        org.run(&Actor::System, provision("GRACE@acme.test"))
            .unwrap_err()
            .code(),
        "duplicate_name"
    );
    // An admin cannot provision (it is SCIM's and SSO's): invitations are the admin's way.
    let admin = Actor::user(org.root());
    let err = org.run(&admin, provision("ada@acme.test")).unwrap_err();
    assert_eq!(err.code(), "forbidden");
}

#[test]
fn a_single_sign_on_assertion_may_provision_its_own_subject_and_nothing_else() {
    let mut org = Org::new();
    org.sys(SsoCommand::Configure { idp: idp() });
    let sso = Actor::SingleSignOn {
        subject: "Grace@Acme.test".into(),
    };
    assert_eq!(sso.describe(), "sso:Grace@Acme.test");
    let err = org.run(&sso, provision("mallory@acme.test")).unwrap_err();
    assert_eq!(err.code(), "forbidden");
    let err = org
        .run(
            &sso,
            GroupCommand::Create {
                name: "x".into(),
                description: String::new(),
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");
    let grace = org.run(&sso, provision("grace@acme.test")).unwrap();
    assert!(org.state().users.contains_key(&UserId::from(grace)));
}

#[test]
fn a_scim_token_acts_as_its_own_account_with_exactly_the_provisioning_role() {
    let mut org = Org::new();
    let admin = Actor::user(org.root());
    assert_eq!(
        org.run(&admin, scim_token("okta", 1)).unwrap_err().code(),
        "sso_not_configured"
    );
    org.run(&admin, SsoCommand::Configure { idp: idp() })
        .unwrap();
    let first = TokenId::from(org.run(&admin, scim_token("okta", 1)).unwrap());
    let second = TokenId::from(org.run(&admin, scim_token("entra", 2)).unwrap());
    assert_eq!(
        org.run(&admin, scim_token("OKTA", 3)).unwrap_err().code(),
        "duplicate_name"
    );
    let token = org.state().tokens[&first].clone();
    assert_eq!(token.kind, TokenKind::Scim);
    assert!(token.scope.is_empty());
    let PrincipalId::ServiceAccount(account) = token.owner else {
        panic!("a SCIM token acts as a service account");
    };
    assert!(org.state().service_accounts[&account].system_managed);
    let policy = org
        .state()
        .policies
        .values()
        .find(|p| p.name == PROVISIONING_POLICY)
        .unwrap()
        .clone();
    assert_eq!(policy.rules.len(), 2);
    // Exactly the role's actions, through the same engine as every check.
    let role = org.catalog.role(PROVISIONER_ROLE).unwrap();
    let actions = org.snapshot.actions_of(account.as_str(), org.now());
    assert_eq!(actions, role.action_set);
    for allowed in [
        "iam.users.provision",
        "iam.groups.create",
        "iam.memberships.create",
    ] {
        assert!(org
            .snapshot
            .check(account.as_str(), allowed, org.now())
            .unwrap());
    }
    for denied in ["iam.policies.update", "iam.users.invite", "iam.saml.update"] {
        assert!(!org
            .snapshot
            .check(account.as_str(), denied, org.now())
            .unwrap());
    }
    // SAML cannot go while SCIM depends on it.
    let err = org.run(&admin, SsoCommand::Remove).unwrap_err();
    assert_eq!(err.code(), "provisioning_active");
    // Deleting a token takes its account and its rule, and leaves the other's.
    for token in [&first, &second] {
        org.run(
            &admin,
            ProvisioningCommand::DeleteToken {
                token: Key::from(token.as_str()),
            },
        )
        .unwrap();
    }
    assert!(!org.state().service_accounts.contains_key(&account));
    let policy = &org.state().policies[&policy.id];
    assert!(policy.rules.is_empty());
    org.run(&admin, SsoCommand::Remove).unwrap();
    assert!(org.state().org.sso.is_none());
}

#[test]
fn identity_provider_ids_and_emails_change_through_commands() {
    let mut org = Org::new();
    org.sys(SsoCommand::Configure { idp: idp() });
    let grace = UserId::from(org.sys(provision("grace@acme.test")));
    let other = org.user("other@acme.test");
    let err = org
        .run(
            &Actor::System,
            UserCommand::ChangeEmail {
                user: Key::from(&grace),
                email: "OTHER@acme.test".into(),
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "duplicate_name");
    org.sys(UserCommand::ChangeEmail {
        user: Key::from(&grace),
        email: "grace.hopper@acme.test".into(),
    });
    assert_eq!(
        org.state()
            .user_by_email("GRACE.HOPPER@acme.test")
            .map(|u| &u.id),
        Some(&grace)
    );
    assert!(org.state().user_by_email("grace@acme.test").is_none());
    org.sys(UserCommand::SetExternalId {
        user: Key::from(&grace),
        external_id: None,
    });
    assert_eq!(org.state().users[&grace].external_id, None);
    let err = org
        .run(
            &Actor::System,
            GroupCommand::SetExternalId {
                group: Key::from("admin"),
                external_id: Some("x".into()),
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "legacy_group_protected");
    let _ = other;
}
