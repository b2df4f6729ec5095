//! Several commands, one revision: all or nothing.

use warden_core::command::{
    GroupCommand, Key, NewToken, ScopeInput, TokenCommand, TokenLifetime, UserCommand,
};
use warden_core::*;

use crate::common::Org;

fn add_user_batch(email: &str, group: &str) -> Vec<Command> {
    vec![
        UserCommand::Create {
            email: email.into(),
            first_name: "Bob".into(),
            last_name: String::new(),
        }
        .into(),
        GroupCommand::AddMember {
            group: Key::from(group),
            user: Key::from(email),
        }
        .into(),
        TokenCommand::CreatePersonal {
            owner: Key::from(email),
            token: NewToken {
                name: "initial token".into(),
                note: String::new(),
                lifetime: TokenLifetime::OneHour,
                secret_hash: "11".repeat(32),
                display_prefix: "wdn_pat_y".into(),
                scope: ScopeInput::default(),
            },
        }
        .into(),
    ]
}

#[test]
fn a_batch_is_one_revision_and_later_commands_see_earlier_ones() {
    let mut org = Org::new();
    let revision = org.state().revision;
    let executed = org
        .run_all(&Actor::System, add_user_batch("bob@acme.test", "read"))
        .unwrap();
    assert_eq!(executed.revision(), revision + 1);
    assert_eq!(executed.applied.len(), 3);
    let actions: Vec<&str> = executed.applied.iter().map(|a| a.action).collect();
    assert_eq!(
        actions,
        [
            "iam.users.invite",
            "iam.memberships.create",
            "tokens.personal.create"
        ]
    );
    // Each command's changes are its own: the user, the membership, the token.
    assert!(executed.applied.iter().all(|a| a.changes.len() == 1));
    let bob = org
        .state()
        .user_by_email("bob@acme.test")
        .unwrap()
        .id
        .clone();
    assert_eq!(executed.applied[0].target, bob.to_string());
    assert!(org.allowed(&bob, "iam.users.list"));
    assert_eq!(executed.effects.len(), 1);
}

#[test]
fn a_failing_third_command_refuses_the_whole_batch_and_names_it() {
    let mut org = Org::new();
    let before = org.state().clone();
    let mut batch = add_user_batch("bob@acme.test", "read");
    // The third command names a token owner that does not exist.
    batch[2] = TokenCommand::CreatePersonal {
        owner: Key::from("nobody@acme.test"),
        token: NewToken {
            name: String::new(),
            note: String::new(),
            lifetime: TokenLifetime::OneHour,
            secret_hash: "22".repeat(32),
            display_prefix: "wdn_pat_z".into(),
            scope: ScopeInput::default(),
        },
    }
    .into();
    // No `Executed` comes back, so there is nothing to commit (the store suite shows a
    // refused commit writes nothing); the refusal names the third command.
    let err = org.run_all(&Actor::System, batch).unwrap_err();
    assert_eq!(err.index, 2);
    assert_eq!(err.error.code(), "not_found");
    assert_eq!(*org.state(), before);
    assert!(org.state().user_by_email("bob@acme.test").is_none());
}

#[test]
fn every_command_of_a_batch_is_authorized_and_invariants_hold_at_its_end() {
    let mut org = Org::new();
    let second = org.user("second@acme.test");
    org.join("read", &second);
    let batch: Vec<Command> = vec![
        GroupCommand::Create {
            name: "ml".into(),
            description: String::new(),
        }
        .into(),
        UserCommand::Deactivate {
            user: Key::from(&org.root()),
        }
        .into(),
    ];
    // `read` grants neither command: the first is refused.
    let err = org
        .run_all(&Actor::user(second.clone()), batch.clone())
        .unwrap_err();
    assert_eq!(err.index, 0);
    assert_eq!(err.error.code(), "forbidden");
    // The system may run both, but the end result would have no admin.
    let err = org.run_all(&Actor::System, batch).unwrap_err();
    assert_eq!(err.error, DomainError::LastAdmin);
    assert!(org.state().group_by_name("ml").is_none());
    // An admin hand-over in one batch is fine: add the new admin, then remove the old one.
    org.run_all(
        &Actor::System,
        vec![
            GroupCommand::AddMember {
                group: Key::from("admin"),
                user: Key::from(&second),
            }
            .into(),
            GroupCommand::RemoveMember {
                group: Key::from("admin"),
                user: Key::from(&org.root()),
            }
            .into(),
        ],
    )
    .unwrap();
    assert_eq!(org.snapshot.org_admins(org.now()), vec![second]);
}
