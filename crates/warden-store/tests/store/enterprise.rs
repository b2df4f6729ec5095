//! Enterprise identity: the SSO settings, identity providers' external ids, SCIM tokens with
//! their accounts and policy, and the SAML sign-in state (pending requests, replay cache).

use warden_core::command::{
    Change, Entity, GroupCommand, IdpInput, Key, NewToken, OrganizationCommand,
    ProvisioningCommand, ScopeInput, SsoCommand, TokenLifetime, UserCommand,
};
use warden_core::*;

use crate::common::{hash, on_both_backends, Db, Org};

fn idp() -> IdpInput {
    IdpInput {
        entity_id: "https://idp.example.com/metadata".to_string(),
        sso_url: "https://idp.example.com/sso".to_string(),
        certificates: vec!["MIIBszCCAVmgAwIBAgIUXq==".to_string()],
        attributes: SamlAttributeNames::default(),
        allow_idp_initiated: true,
    }
}

on_both_backends!(sso_settings_external_ids_and_scim_tokens_round_trip);

async fn sso_settings_external_ids_and_scim_tokens_round_trip(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "e1e2e3", 0).await;
    org.run(store, SsoCommand::Configure { idp: idp() }).await;
    org.run(
        store,
        SsoCommand::Enforce {
            enforced: true,
            break_glass: Some(Key::from(&org.admin.clone())),
        },
    )
    .await;
    org.assert_stored(store).await;
    let loaded = store.load_org(org.id()).await.unwrap().unwrap();
    let sso = loaded.org.sso.as_deref().unwrap();
    assert!(sso.enforced);
    assert_eq!(sso.break_glass.as_ref(), Some(&org.admin));
    assert_eq!(sso.idp_certificates, idp().certificates);

    let provisioned = org
        .run(
            store,
            UserCommand::Provision {
                email: "grace@example.com".to_string(),
                first_name: "Grace".to_string(),
                last_name: "Hopper".to_string(),
                external_id: Some("00u1AbC".to_string()),
                active: true,
            },
        )
        .await;
    let grace = UserId::from(provisioned.target().to_string());
    org.run(
        store,
        GroupCommand::Create {
            name: "gpu-team".to_string(),
            description: String::new(),
        },
    )
    .await;
    org.run(
        store,
        GroupCommand::SetExternalId {
            group: Key::from("gpu-team"),
            external_id: Some("Grp-7".to_string()),
        },
    )
    .await;
    org.run(
        store,
        UserCommand::ChangeEmail {
            user: Key::from(&grace),
            email: "grace.hopper@example.com".to_string(),
        },
    )
    .await;
    org.assert_stored(store).await;
    let loaded = store.load_org(org.id()).await.unwrap().unwrap();
    assert_eq!(loaded.users[&grace].external_id.as_deref(), Some("00u1AbC"));
    assert_eq!(&*loaded.users[&grace].email, "grace.hopper@example.com");
    assert_eq!(
        loaded
            .group_by_name("gpu-team")
            .unwrap()
            .external_id
            .as_deref(),
        Some("Grp-7")
    );

    // A SCIM token: its account and the provisioning policy's rule come and go with it.
    let created = org
        .run(
            store,
            ProvisioningCommand::CreateToken {
                token: NewToken {
                    name: "okta".to_string(),
                    note: String::new(),
                    lifetime: TokenLifetime::Never,
                    scope: ScopeInput::default(),
                    secret_hash: hash(7),
                    display_prefix: "wdn_scim_abcdef".to_string(),
                },
            },
        )
        .await;
    org.assert_stored(store).await;
    let token = TokenId::from(created.target().to_string());
    let loaded = store.load_org(org.id()).await.unwrap().unwrap();
    assert_eq!(loaded.tokens[&token].kind, TokenKind::Scim);
    // A second SCIM token with the same name (any case) is refused by the database too.
    let mut twin = loaded.tokens[&token].clone();
    twin.id = TokenId::from("tok_twin");
    twin.name = "OKTA".to_string();
    twin.secret_hash = hash(8);
    let noop = org.execute(
        &Actor::System,
        OrganizationCommand::Update {
            name: "Renamed".to_string(),
        },
    );
    let put = Change::Put {
        before: None,
        after: Entity::Token(twin),
    };
    let err = noop
        .commit_followed_by(store, org.revision(), &put)
        .await
        .unwrap_err();
    assert!(err.is_unique_violation(), "{err:?}");

    org.run(
        store,
        ProvisioningCommand::DeleteToken {
            token: Key::from(token.as_str()),
        },
    )
    .await;
    org.assert_stored(store).await;
    org.run(store, SsoCommand::Remove).await;
    org.assert_stored(store).await;
    assert!(store
        .load_org(org.id())
        .await
        .unwrap()
        .unwrap()
        .org
        .sso
        .is_none());
}

on_both_backends!(a_saml_request_is_taken_once_and_an_assertion_used_once);

async fn a_saml_request_is_taken_once_and_an_assertion_used_once(db: Db) {
    let store = &db.store;
    let org = Org::create(store, "e4e5e6", 0).await;
    let t = |s: i64| Timestamp(1_800_000_000_000 + s * 1_000);
    store
        .insert_saml_request(org.id(), "_req1", "/console", t(0), t(300))
        .await
        .unwrap();
    store
        .insert_saml_request(org.id(), "_req2", "", t(0), t(300))
        .await
        .unwrap();
    // Another organization cannot take it.
    let other = OrgId::from("nobody");
    assert_eq!(
        store
            .take_saml_request(&other, "_req1", t(1))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .take_saml_request(org.id(), "_req1", t(1))
            .await
            .unwrap()
            .as_deref(),
        Some("/console")
    );
    assert_eq!(
        store
            .take_saml_request(org.id(), "_req1", t(2))
            .await
            .unwrap(),
        None
    );
    // Expired: not taken.
    assert_eq!(
        store
            .take_saml_request(org.id(), "_req2", t(300))
            .await
            .unwrap(),
        None
    );

    assert!(store
        .record_saml_assertion(org.id(), "_a1", t(0), t(600))
        .await
        .unwrap());
    assert!(!store
        .record_saml_assertion(org.id(), "_a1", t(5), t(600))
        .await
        .unwrap());
    assert!(store
        .record_saml_assertion(org.id(), "_a2", t(0), t(10))
        .await
        .unwrap());
    // Purging forgets what expired (the stale request and `_a2`), not `_a1`.
    assert_eq!(store.purge_saml(t(300)).await.unwrap(), 2);
    assert!(!store
        .record_saml_assertion(org.id(), "_a1", t(301), t(600))
        .await
        .unwrap());
}
