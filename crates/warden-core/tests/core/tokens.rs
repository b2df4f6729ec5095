//! Personal tokens: who may create them for whom, and the notification each asks for.

use warden_core::command::{Key, NewToken, ScopeInput, TokenCommand, TokenLifetime, UserCommand};
use warden_core::*;

use crate::common::Org;

fn token(owner: &str) -> TokenCommand {
    TokenCommand::CreatePersonal {
        owner: Key::from(owner),
        token: NewToken {
            name: "t".into(),
            note: String::new(),
            lifetime: TokenLifetime::OneHour,
            secret_hash: "00".repeat(32),
            display_prefix: "wdn_pat_x".into(),
            scope: ScopeInput::default(),
        },
    }
}

#[test]
fn personal_tokens_belong_to_their_creator_unless_the_system_issues_them() {
    let mut org = Org::new();
    let root = org.root();
    let u = org.user("u@acme.test");
    // The admin may not mint a token for someone else.
    let err = org
        .run(&Actor::user(root.clone()), token(u.as_str()))
        .unwrap_err();
    assert_eq!(err.code(), "invalid_field");
    // A user without tokens.personal.create may not mint one for themselves.
    let err = org
        .run(&Actor::user(u.clone()), token(u.as_str()))
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");
    // The system (an operator) may, and the token records its owner.
    let id = TokenId::from(org.sys(token("u@acme.test")));
    let t = &org.state().tokens[&id];
    assert_eq!(t.owner, PrincipalId::User(u.clone()));
    assert_eq!(t.created_by, PrincipalId::User(u.clone()));
    assert_eq!(t.expires_at, Some(Timestamp(1_000 + 3_600_000)));
    // Only its owner (or the system) may delete it; to others it does not exist.
    let err = org
        .run(
            &Actor::user(root),
            TokenCommand::DeletePersonal {
                token: Key::from(&id),
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "not_found");
    // A deactivated user cannot be given one.
    org.sys(UserCommand::Deactivate {
        user: Key::from(&u),
    });
    assert_eq!(
        org.run(&Actor::System, token(u.as_str()))
            .unwrap_err()
            .code(),
        "invalid_field"
    );
}

#[test]
fn creating_a_token_asks_for_a_notification_to_its_owner() {
    let mut org = Org::new();
    let u = org.user("u@acme.test");
    let executed = execute(
        &org.snapshot,
        &Actor::System,
        token("u@acme.test").into(),
        &mut org.ctx,
    )
    .unwrap();
    let id = TokenId::from(executed.target().to_string());
    assert_eq!(
        executed.effects,
        vec![Effect::NotifyTokenCreated {
            org_id: OrgId::from("abc123"),
            org_name: "Acme".into(),
            email: "u@acme.test".into(),
            first_name: String::new(),
            token_id: id,
            token_name: "t".into(),
            created_by: "system".into(),
            created_at: org.now(),
            expires_at: Some(Timestamp(org.now().0 + 3_600_000)),
        }]
    );
    // Other commands ask for nothing.
    let executed = execute(
        &org.snapshot,
        &Actor::System,
        UserCommand::Update {
            user: Key::from(&u),
            first_name: Some("Uma".into()),
            last_name: None,
        }
        .into(),
        &mut org.ctx,
    )
    .unwrap();
    assert!(executed.effects.is_empty());
}

#[test]
fn token_lifetime_names_match_their_serde_names() {
    for (lifetime, name) in TokenLifetime::ALL.iter().zip(TokenLifetime::NAMES) {
        assert_eq!(TokenLifetime::parse(name), Some(*lifetime));
        assert_eq!(lifetime.name(), name);
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
