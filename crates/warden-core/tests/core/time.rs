//! Time in the engine: a time-bound rule grants until its instant and nothing after, at the
//! instant a question is asked, without a write or a recompilation.

use std::sync::Arc;

use warden_core::command::{PolicyCommand, PrincipalKind, RuleInput};
use warden_core::*;

use crate::common::{rule, Org};

const HOUR: i64 = 3_600_000;

fn time_bound(org: &mut Org, user: &UserId, until: Timestamp) {
    org.sys(PolicyCommand::Create {
        name: "break-glass".into(),
        description: String::new(),
        rules: vec![RuleInput {
            expires_at: Some(until),
            ..rule(PrincipalKind::User, user.as_str(), &["cks-admin"])
        }],
    });
}

#[test]
fn a_time_bound_rule_stops_granting_at_its_instant() {
    let mut org = Org::new();
    let u = org.user("u@acme.test");
    let until = Timestamp(org.now().0 + HOUR);
    time_bound(&mut org, &u, until);
    assert!(org.allowed(&u, "cks.clusters.create"));
    assert_eq!(org.snapshot.valid_until(), Some(until));
    let decision = org
        .snapshot
        .decide(u.as_str(), "cks.clusters.create", org.now())
        .unwrap();
    assert_eq!(decision.granted_by[0].expires_at, Some(until));
    // One millisecond before: granted. At the instant: not, with no write in between.
    org.advance(HOUR - 1);
    assert!(org.allowed(&u, "cks.clusters.create"));
    org.advance(1);
    assert!(!org.allowed(&u, "cks.clusters.create"));
    let decision = org
        .snapshot
        .decide(u.as_str(), "cks.clusters.create", org.now())
        .unwrap();
    assert_eq!(decision.reason, Some(DenyReason::NoMatchingRule));
    assert!(org.snapshot.permissions(u.as_str(), org.now()).is_empty());
    assert!(!org
        .snapshot
        .who_can("cks.clusters.create", org.now())
        .unwrap()
        .contains(&PrincipalId::User(u.clone())));
}

#[test]
fn a_snapshot_compiled_after_the_expiry_still_answers_for_earlier_instants() {
    let mut org = Org::new();
    let u = org.user("u@acme.test");
    let start = org.now();
    let until = Timestamp(start.0 + HOUR);
    time_bound(&mut org, &u, until);
    let later = Snapshot::compile(
        org.catalog.clone(),
        Arc::new(org.state().clone()),
        Timestamp(until.0 + HOUR),
    );
    assert_eq!(later.valid_until(), None);
    assert!(!later
        .check(u.as_str(), "cks.clusters.create", Timestamp(until.0 + 1))
        .unwrap());
    assert!(later
        .check(u.as_str(), "cks.clusters.create", start)
        .unwrap());
}

#[test]
fn an_admin_role_that_expires_counts_until_it_expires() {
    let mut org = Org::new();
    let u = org.user("u@acme.test");
    let until = Timestamp(org.now().0 + HOUR);
    org.sys(PolicyCommand::Create {
        name: "temp-admin".into(),
        description: String::new(),
        rules: vec![RuleInput {
            expires_at: Some(until),
            ..rule(PrincipalKind::User, u.as_str(), &["iam-admin"])
        }],
    });
    assert!(org.snapshot.is_org_admin(u.as_str(), org.now()));
    assert!(!org.snapshot.is_org_admin(u.as_str(), until));
}

#[test]
fn a_rule_cannot_expire_in_the_past() {
    let mut org = Org::new();
    let u = org.user("u@acme.test");
    let err = org
        .run(
            &Actor::System,
            PolicyCommand::Create {
                name: "late".into(),
                description: String::new(),
                rules: vec![RuleInput {
                    expires_at: Some(org.now()),
                    ..rule(PrincipalKind::User, u.as_str(), &["cks-admin"])
                }],
            },
        )
        .unwrap_err();
    assert_eq!(err.field(), Some("rules[0].expires_at"));
}
