//! Scoped personal tokens and org tokens (spec section 6): names unique per owner, scopes
//! resolved by name, org tokens managed only by IAM admins, each acting as its own service
//! account, unaffected by anyone's namespace access, and outliving their creator.

use warden_core::command::{
    Key, NamespaceCommand, NewToken, ScopeInput, TokenCommand, TokenEdit, TokenLifetime,
    UserCommand,
};
use warden_core::*;

use crate::common::Org;

fn new_token(name: &str, n: u8, namespaces: &[&str], clusters: &[&str]) -> NewToken {
    NewToken {
        name: name.into(),
        note: String::new(),
        lifetime: TokenLifetime::OneMonth,
        secret_hash: format!("{n:02x}").repeat(32),
        display_prefix: "wdn_org_x".into(),
        scope: ScopeInput {
            namespaces: namespaces.iter().map(|n| Key::from(*n)).collect(),
            clusters: clusters.iter().map(|c| Key::from(*c)).collect(),
        },
    }
}

fn with_namespaces(org: &mut Org, names: &[&str]) -> Vec<NamespaceId> {
    names
        .iter()
        .map(|name| {
            NamespaceId::from(org.sys(NamespaceCommand::Create {
                name: (*name).into(),
                access: vec![],
            }))
        })
        .collect()
}

#[test]
fn a_personal_token_is_narrowed_to_namespaces_and_clusters_by_name() {
    let mut org = Org::new();
    let root = org.root();
    let ids = with_namespaces(&mut org, &["ml", "web"]);
    let admin = Actor::user(root.clone());
    let created = org
        .run(
            &admin,
            TokenCommand::CreatePersonal {
                owner: Key::from(&root),
                token: new_token("ci", 1, &["web", "ml", "ml"], &[]),
            },
        )
        .unwrap();
    let token = &org.state().tokens[&TokenId::from(created.clone())];
    // Sorted ids, without repeats.
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(token.scope.namespaces, expected);
    assert_eq!(token.kind, TokenKind::Personal);
    // An unknown namespace or cluster is refused, naming it.
    let err = org
        .run(
            &admin,
            TokenCommand::CreatePersonal {
                owner: Key::from(&root),
                token: new_token("other", 2, &["nope"], &[]),
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "unknown_namespace");
    assert!(err.to_string().contains("nope"), "{err}");
    let err = org
        .run(
            &admin,
            TokenCommand::CreatePersonal {
                owner: Key::from(&root),
                token: new_token("other", 2, &[], &["prod"]),
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "unknown_cluster");
    // Its owner edits name and scope; the secret stays.
    let hash = org.state().tokens[&TokenId::from(created.clone())]
        .secret_hash
        .clone();
    org.run(
        &admin,
        TokenCommand::UpdatePersonal {
            token: Key::from(created.as_str()),
            edit: TokenEdit {
                name: Some("deploys".into()),
                namespaces: Some(vec![Key::from("web")]),
                ..TokenEdit::default()
            },
        },
    )
    .unwrap();
    let token = &org.state().tokens[&TokenId::from(created.clone())];
    assert_eq!(token.name, "deploys");
    assert_eq!(token.scope.namespaces, vec![ids[1].clone()]);
    assert_eq!(token.secret_hash, hash);
    // Deleting a namespace never widens a token: its id stays in the scope.
    org.sys(NamespaceCommand::Delete {
        namespace: Key::from("web"),
    });
    let token = &org.state().tokens[&TokenId::from(created)];
    assert_eq!(token.scope.namespaces, vec![ids[1].clone()]);
}

#[test]
fn token_names_are_unique_per_owner_without_regard_to_case() {
    let mut org = Org::new();
    let root = org.root();
    let u = org.user("u@acme.test");
    let admin = Actor::user(root.clone());
    let personal = |owner: &UserId, name: &str, n: u8| TokenCommand::CreatePersonal {
        owner: Key::from(owner),
        token: new_token(name, n, &[], &[]),
    };
    org.run(&admin, personal(&root, "Laptop", 1)).unwrap();
    let err = org.run(&admin, personal(&root, "laptop", 2)).unwrap_err();
    assert_eq!(err.code(), "duplicate_name");
    // Unnamed tokens never collide; another owner may use the name.
    org.run(&admin, personal(&root, "", 3)).unwrap();
    org.run(&admin, personal(&root, "", 4)).unwrap();
    org.run(&Actor::System, personal(&u, "laptop", 5)).unwrap();
    // Org tokens are the organization's: one name across them all.
    org.run(
        &admin,
        TokenCommand::CreateOrg {
            token: new_token("deploy", 6, &[], &[]),
        },
    )
    .unwrap();
    let err = org
        .run(
            &admin,
            TokenCommand::CreateOrg {
                token: new_token("DEPLOY", 7, &[], &[]),
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "duplicate_name");
    // Renaming onto a taken name is refused too.
    let second = org
        .run(
            &admin,
            TokenCommand::CreateOrg {
                token: new_token("build", 8, &[], &[]),
            },
        )
        .unwrap();
    let err = org
        .run(
            &admin,
            TokenCommand::UpdateOrg {
                token: Key::from(second.as_str()),
                edit: TokenEdit {
                    name: Some("Deploy".into()),
                    ..TokenEdit::default()
                },
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "duplicate_name");
}

#[test]
fn only_iam_admins_manage_org_tokens() {
    let mut org = Org::new();
    let root = org.root();
    let viewer = org.user("viewer@acme.test");
    org.join("read", &viewer);
    let writer = org.user("writer@acme.test");
    org.join("write", &writer);
    with_namespaces(&mut org, &["ml"]);
    let create = || TokenCommand::CreateOrg {
        token: new_token("ci", 1, &["ml"], &[]),
    };
    for someone in [&viewer, &writer] {
        let err = org
            .run(&Actor::user(someone.clone()), create())
            .unwrap_err();
        assert_eq!(err.code(), "forbidden");
    }
    let id = org.run(&Actor::user(root.clone()), create()).unwrap();
    let edit = TokenCommand::UpdateOrg {
        token: Key::from(id.as_str()),
        edit: TokenEdit {
            namespaces: Some(vec![]),
            ..TokenEdit::default()
        },
    };
    let delete = TokenCommand::DeleteOrg {
        token: Key::from(id.as_str()),
    };
    for someone in [&viewer, &writer] {
        for command in [edit.clone(), delete.clone()] {
            let err = org.run(&Actor::user(someone.clone()), command).unwrap_err();
            assert_eq!(err.code(), "forbidden");
        }
    }
    // A personal token is not an org token, whatever the caller.
    let mine = org
        .run(
            &Actor::user(root.clone()),
            TokenCommand::CreatePersonal {
                owner: Key::from(&root),
                token: new_token("mine", 2, &[], &[]),
            },
        )
        .unwrap();
    let err = org
        .run(
            &Actor::user(root.clone()),
            TokenCommand::DeleteOrg {
                token: Key::from(mine.as_str()),
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "not_found");
    // The admin edits it into a blank token (no namespaces), then deletes it.
    org.run(&Actor::user(root.clone()), edit).unwrap();
    let token = &org.state().tokens[&TokenId::from(id.clone())];
    assert!(token.scope.namespaces.is_empty());
    org.run(&Actor::user(root), delete).unwrap();
    assert!(!org.state().tokens.contains_key(&TokenId::from(id)));
}

#[test]
fn an_org_token_acts_as_its_own_service_account_and_outlives_its_creator() {
    let mut org = Org::new();
    let root = org.root();
    let second = org.user("second@acme.test");
    org.join("admin", &second);
    let ns = with_namespaces(&mut org, &["ml"]);
    let id = org
        .run(
            &Actor::user(second.clone()),
            TokenCommand::CreateOrg {
                token: new_token("ci", 1, &["ml"], &[]),
            },
        )
        .unwrap();
    let token = org.state().tokens[&TokenId::from(id.clone())].clone();
    assert_eq!(token.kind, TokenKind::Org);
    assert_eq!(token.created_by, PrincipalId::User(second.clone()));
    assert_eq!(token.scope.namespaces, ns);
    let PrincipalId::ServiceAccount(account) = &token.owner else {
        panic!("an org token acts as a service account: {:?}", token.owner);
    };
    let sa = &org.state().service_accounts[account];
    assert!(sa.system_managed && sa.active);
    assert_eq!(sa.created_by.as_ref(), Some(&second));
    // The account is managed through its token: not by the service-account commands.
    let err = org
        .run(
            &Actor::System,
            warden_core::command::ServiceAccountCommand::Delete {
                account: Key::from(account),
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "system_managed");
    // A user's namespace access never changes a token.
    org.sys(NamespaceCommand::SetAccess {
        namespace: Key::from("ml"),
        user: Key::from(&second),
        keys: vec!["w:deployments".into()],
    });
    assert_eq!(org.state().tokens[&TokenId::from(id.clone())], token);
    // Its creator leaves: the token and its account stay, listed as the creator's.
    org.run(
        &Actor::user(root.clone()),
        UserCommand::Deactivate {
            user: Key::from(&second),
        },
    )
    .unwrap();
    assert!(org.snapshot.is_active(account.as_str()));
    let created: Vec<TokenId> = warden_core::command::org_tokens_created_by(org.state(), &second)
        .map(|t| t.id.clone())
        .collect();
    assert_eq!(created, vec![TokenId::from(id)]);
    // One command revokes them all, with their accounts.
    org.run(
        &Actor::user(root),
        TokenCommand::DeleteOrgTokensCreatedBy {
            user: Key::from("second@acme.test"),
        },
    )
    .unwrap();
    assert!(org.state().tokens.is_empty());
    assert!(!org.state().service_accounts.contains_key(account));
}
