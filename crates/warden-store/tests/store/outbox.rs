//! The outbox: effects written with their commit, then claimed by workers for a lease,
//! delivered once, and retried after a failure or an expired lease.

use std::collections::BTreeSet;

use warden_core::command::{
    Key, NewToken, OrganizationCommand, ScopeInput, TokenCommand, TokenLifetime,
};
use warden_core::*;
use warden_store::{OutboxItem, Store, StoreError};

use crate::common::{hash, on_both_backends, Db, Org, T0};

on_both_backends!(
    an_effect_is_written_with_its_commit_and_round_trips_exactly,
    items_of_a_refused_commit_are_never_written,
    a_claimed_item_is_not_claimed_again_while_its_lease_runs,
    a_delivered_item_is_never_claimed_again_and_only_its_claimer_delivers_it,
    a_failed_delivery_is_retried_at_retry_at_and_not_before,
    an_expired_lease_lets_another_worker_claim_the_item,
    the_backlog_counts_undelivered_items,
    claims_take_the_oldest_due_items_up_to_the_limit,
    two_workers_claiming_at_once_never_share_an_item,
);

/// A lease long enough not to run out during a test.
const LEASE: i64 = 60_000;

fn notification(org: &OrgId, n: u32, expires_at: Option<Timestamp>) -> Effect {
    Effect::NotifyTokenCreated {
        org_id: org.clone(),
        org_name: "Acmé \"Corp\" 🚀".to_string(),
        email: format!("user{n}@example.com"),
        first_name: "Zoë".to_string(),
        token_id: TokenId::from(format!("tok_{n:04}")),
        token_name: "line\nbreak, tab\t and 'quotes'".to_string(),
        created_by: "user:usr_0000000000000001".to_string(),
        created_at: Timestamp(T0 + i64::from(n)),
        expires_at,
    }
}

/// Commits `n` notifications with one change to the organization, as a server would.
async fn commit_items(store: &Store, org: &mut Org, n: u32) -> Vec<OutboxItem> {
    let mut rename = org.execute(
        &Actor::System,
        OrganizationCommand::Update {
            name: format!("Acme {}", org.revision()),
        },
    );
    rename.outbox = (0..n)
        .map(|i| {
            let expires_at = (i % 2 == 0).then_some(Timestamp(T0 + 3_600_000));
            OutboxItem::new(
                format!("obx_{}_{}_{i:03}", org.id(), org.revision()),
                org.id().clone(),
                notification(org.id(), i, expires_at),
                org.ctx.now,
            )
        })
        .collect();
    org.commit(store, &rename).await;
    rename.outbox
}

/// The item as a claim returns it: one more attempt.
fn claimed(item: &OutboxItem, attempts: u64) -> OutboxItem {
    OutboxItem {
        attempts,
        ..item.clone()
    }
}

async fn an_effect_is_written_with_its_commit_and_round_trips_exactly(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;

    // A token created by its owner asks for a notification: the command's effect is the
    // item's payload, exactly.
    let admin = Actor::user(org.admin.clone());
    let created = org
        .run_as(
            store,
            &admin,
            TokenCommand::CreatePersonal {
                owner: Key::from(&org.admin),
                token: NewToken {
                    name: "laptop".to_string(),
                    note: String::new(),
                    lifetime: TokenLifetime::OneHour,
                    secret_hash: hash(1),
                    display_prefix: "wdn_pat_abcdef".to_string(),
                    scope: ScopeInput::default(),
                },
            },
        )
        .await;
    assert_eq!(created.executed.effects.len(), 1);
    let stored = store.outbox_of(org.id()).await.unwrap();
    assert_eq!(stored, created.outbox);
    assert_eq!(stored[0].effect, created.executed.effects[0]);
    assert!(matches!(
        &stored[0].effect,
        Effect::NotifyTokenCreated { token_id, email, expires_at: Some(_), .. }
            if token_id.as_str() == created.target() && email == "Ada@Example.com"
    ));
    assert_eq!(stored[0].attempts, 0);
    assert_eq!(stored[0].delivered_at, None);
    assert_eq!(stored[0].last_error, None);

    // Hand-made effects, with text that needs escaping and with and without an expiry.
    let items = commit_items(store, &mut org, 3).await;
    for item in &items {
        assert_eq!(
            store.outbox_item(&item.id).await.unwrap().as_ref(),
            Some(item)
        );
    }
    let mut all = stored.clone();
    all.extend(items);
    assert_eq!(store.outbox_of(org.id()).await.unwrap(), all);
    assert_eq!(store.outbox_item("obx_missing").await.unwrap(), None);

    // Items belong to their organization.
    let other = Org::create(store, "0a0a0a", 1_000_000).await;
    assert!(store.outbox_of(other.id()).await.unwrap().is_empty());
}

async fn items_of_a_refused_commit_are_never_written(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let first = org.execute(
        &Actor::System,
        OrganizationCommand::Update {
            name: "First".to_string(),
        },
    );
    let mut late = org.execute(
        &Actor::System,
        OrganizationCommand::Update {
            name: "Late".to_string(),
        },
    );
    late.outbox = vec![OutboxItem::new(
        "obx_late".to_string(),
        org.id().clone(),
        notification(org.id(), 1, None),
        org.ctx.now,
    )];
    org.commit(store, &first).await;
    let err = late.commit(store, 1).await.unwrap_err();
    assert!(
        matches!(err, StoreError::RevisionConflict { .. }),
        "{err:?}"
    );
    assert_eq!(store.outbox_item("obx_late").await.unwrap(), None);
    assert_eq!(store.outbox_backlog().await.unwrap(), 0);
    assert!(store
        .claim_outbox("w1", Timestamp(T0 + 86_400_000), LEASE, 10)
        .await
        .unwrap()
        .is_empty());
}

async fn a_claimed_item_is_not_claimed_again_while_its_lease_runs(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let items = commit_items(store, &mut org, 1).await;
    let now = org.ctx.now;

    let got = store.claim_outbox("w1", now, LEASE, 10).await.unwrap();
    assert_eq!(got, vec![claimed(&items[0], 1)]);
    assert_eq!(
        store.outbox_item(&items[0].id).await.unwrap(),
        Some(claimed(&items[0], 1))
    );
    // Neither another worker nor the same one gets it while the lease runs.
    let later = Timestamp(now.0 + LEASE - 1);
    assert!(store
        .claim_outbox("w2", later, LEASE, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .claim_outbox("w1", later, LEASE, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store
            .outbox_item(&items[0].id)
            .await
            .unwrap()
            .unwrap()
            .attempts,
        1
    );
}

async fn a_delivered_item_is_never_claimed_again_and_only_its_claimer_delivers_it(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let items = commit_items(store, &mut org, 1).await;
    let now = org.ctx.now;
    store.claim_outbox("w1", now, LEASE, 10).await.unwrap();

    let at = Timestamp(now.0 + 5);
    assert!(!store
        .outbox_delivered(&items[0].id, "w2", at)
        .await
        .unwrap());
    assert_eq!(
        store
            .outbox_item(&items[0].id)
            .await
            .unwrap()
            .unwrap()
            .delivered_at,
        None
    );
    assert!(store
        .outbox_delivered(&items[0].id, "w1", at)
        .await
        .unwrap());
    assert_eq!(
        store.outbox_item(&items[0].id).await.unwrap(),
        Some(OutboxItem {
            delivered_at: Some(at),
            ..claimed(&items[0], 1)
        })
    );
    // Delivered once: not again, by anyone, and never claimed again, however late.
    assert!(!store
        .outbox_delivered(&items[0].id, "w1", at)
        .await
        .unwrap());
    assert!(!store
        .outbox_delivered("obx_missing", "w1", at)
        .await
        .unwrap());
    let much_later = Timestamp(now.0 + 100 * LEASE);
    assert!(store
        .claim_outbox("w1", much_later, LEASE, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .claim_outbox("w2", much_later, LEASE, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.outbox_backlog().await.unwrap(), 0);
}

async fn a_failed_delivery_is_retried_at_retry_at_and_not_before(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let items = commit_items(store, &mut org, 1).await;
    let id = &items[0].id;
    let now = org.ctx.now;
    store.claim_outbox("w1", now, LEASE, 10).await.unwrap();

    // A worker that does not hold the claim cannot record a failure.
    let retry_at = Timestamp(now.0 + 5_000);
    assert!(!store
        .outbox_failed(id, "w2", "not mine", Timestamp(now.0))
        .await
        .unwrap());
    assert_eq!(
        store.outbox_item(id).await.unwrap(),
        Some(claimed(&items[0], 1))
    );

    assert!(store
        .outbox_failed(id, "w1", "smtp: connection refused", retry_at)
        .await
        .unwrap());
    let failed = OutboxItem {
        last_error: Some("smtp: connection refused".to_string()),
        ..claimed(&items[0], 1)
    };
    assert_eq!(store.outbox_item(id).await.unwrap().as_ref(), Some(&failed));
    // The claim is released, and the item is due again at retry_at, not before.
    assert!(store
        .claim_outbox("w2", Timestamp(retry_at.0 - 1), 10, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.outbox_backlog().await.unwrap(), 1);
    let again = store.claim_outbox("w2", retry_at, LEASE, 10).await.unwrap();
    assert_eq!(again, vec![claimed(&failed, 2)]);
    // The failed worker lost it; the new one delivers it, which clears the error.
    assert!(!store.outbox_delivered(id, "w1", retry_at).await.unwrap());
    assert!(store.outbox_delivered(id, "w2", retry_at).await.unwrap());
    assert_eq!(
        store.outbox_item(id).await.unwrap(),
        Some(OutboxItem {
            delivered_at: Some(retry_at),
            last_error: None,
            ..claimed(&items[0], 2)
        })
    );
}

async fn an_expired_lease_lets_another_worker_claim_the_item(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let items = commit_items(store, &mut org, 1).await;
    let now = org.ctx.now;

    // w1 claims for 10 ms, then (say) dies.
    let first = store.claim_outbox("w1", now, 10, 10).await.unwrap();
    assert_eq!(first, vec![claimed(&items[0], 1)]);
    assert!(store
        .claim_outbox("w2", Timestamp(now.0 + 9), LEASE, 10)
        .await
        .unwrap()
        .is_empty());
    let second = store
        .claim_outbox("w2", Timestamp(now.0 + 11), LEASE, 10)
        .await
        .unwrap();
    assert_eq!(second, vec![claimed(&items[0], 2)]);
    // The claim is w2's now: w1 coming back cannot mark it delivered.
    let at = Timestamp(now.0 + 12);
    assert!(!store
        .outbox_delivered(&items[0].id, "w1", at)
        .await
        .unwrap());
    assert!(store
        .outbox_delivered(&items[0].id, "w2", at)
        .await
        .unwrap());
    let done = store.outbox_item(&items[0].id).await.unwrap().unwrap();
    assert_eq!(done.attempts, 2);
    assert_eq!(done.delivered_at, Some(at));
}

async fn the_backlog_counts_undelivered_items(db: Db) {
    let store = &db.store;
    assert_eq!(store.outbox_backlog().await.unwrap(), 0);
    let mut a = Org::create(store, "aaaaaa", 0).await;
    let mut b = Org::create(store, "bbbbbb", 1_000_000).await;
    commit_items(store, &mut a, 3).await;
    // The backlog is the whole store's, across organizations.
    commit_items(store, &mut b, 2).await;
    assert_eq!(store.outbox_backlog().await.unwrap(), 5);

    let now = Timestamp(a.ctx.now.0.max(b.ctx.now.0));
    let got = store.claim_outbox("w1", now, LEASE, 3).await.unwrap();
    assert_eq!(got.len(), 3);
    // Claimed, or failed, is still undelivered.
    assert_eq!(store.outbox_backlog().await.unwrap(), 5);
    assert!(store
        .outbox_failed(&got[0].id, "w1", "timeout", Timestamp(now.0 + 1_000))
        .await
        .unwrap());
    assert_eq!(store.outbox_backlog().await.unwrap(), 5);
    assert!(store.outbox_delivered(&got[1].id, "w1", now).await.unwrap());
    assert!(store.outbox_delivered(&got[2].id, "w1", now).await.unwrap());
    assert_eq!(store.outbox_backlog().await.unwrap(), 3);
}

async fn claims_take_the_oldest_due_items_up_to_the_limit(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let older = commit_items(store, &mut org, 2).await;
    let newer = commit_items(store, &mut org, 2).await;
    // Not yet due: created after `now`.
    assert!(store
        .claim_outbox("w1", Timestamp(older[0].created_at.0 - 1), LEASE, 10)
        .await
        .unwrap()
        .is_empty());
    // Due only the older ones at their creation instant, and no more than asked for.
    let now = older[0].created_at;
    assert!(store
        .claim_outbox("w1", now, LEASE, 0)
        .await
        .unwrap()
        .is_empty());
    let got = store.claim_outbox("w1", now, LEASE, 1).await.unwrap();
    assert_eq!(got, vec![claimed(&older[0], 1)]);
    let got = store.claim_outbox("w1", now, LEASE, 10).await.unwrap();
    assert_eq!(got, vec![claimed(&older[1], 1)]);
    let later = newer[0].created_at;
    let got = store.claim_outbox("w2", later, LEASE, 10).await.unwrap();
    assert_eq!(got, vec![claimed(&newer[0], 1), claimed(&newer[1], 1)]);
}

async fn two_workers_claiming_at_once_never_share_an_item(db: Db) {
    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let items = commit_items(store, &mut org, 12).await;
    let now = org.ctx.now;
    let (one, two) = tokio::join!(
        store.claim_outbox("w1", now, LEASE, 100),
        store.claim_outbox("w2", now, LEASE, 100),
    );
    let (one, two) = (one.unwrap(), two.unwrap());
    let ids =
        |got: &[OutboxItem]| -> BTreeSet<String> { got.iter().map(|i| i.id.clone()).collect() };
    let (one_ids, two_ids) = (ids(&one), ids(&two));
    assert!(one_ids.is_disjoint(&two_ids), "{one_ids:?} and {two_ids:?}");
    let all: BTreeSet<String> = one_ids.union(&two_ids).cloned().collect();
    assert_eq!(all, ids(&items));
    // Every item was claimed exactly once.
    assert!(one.iter().chain(&two).all(|i| i.attempts == 1));
    for item in &one {
        assert!(store.outbox_delivered(&item.id, "w1", now).await.unwrap());
    }
    for item in &two {
        assert!(store.outbox_delivered(&item.id, "w2", now).await.unwrap());
    }
    assert_eq!(store.outbox_backlog().await.unwrap(), 0);
}

/// A claim that raced another worker's claim-and-fail must not take the item before its
/// retry time. PostgreSQL only: a second connection holds the row lock so that the claim's
/// update runs after the other worker's failure, deterministically.
#[tokio::test]
async fn a_claim_racing_a_failure_respects_the_retry_time() {
    crate::common::on_postgres(claim_races_a_failure).await
}

async fn claim_races_a_failure(db: Db) {
    use sqlx::{Connection, Executor, PgConnection, Row};

    let store = &db.store;
    let mut org = Org::create(store, "a1b2c3", 0).await;
    let mut prepared = org.execute(
        &Actor::System,
        OrganizationCommand::Update { name: "X".into() },
    );
    let effect = notification(org.id(), 1, None);
    prepared.outbox = vec![OutboxItem::new(
        "obx_1".into(),
        org.id().clone(),
        effect,
        org.ctx.now,
    )];
    org.commit(store, &prepared).await;
    let now = org.ctx.now;

    let mut side = PgConnection::connect(&db.url).await.unwrap();
    side.execute("BEGIN").await.unwrap();
    side.execute("SELECT id FROM outbox WHERE id = 'obx_1' FOR UPDATE")
        .await
        .unwrap();
    // Worker A: its due query sees the item; its claim waits for the row lock.
    let a = tokio::spawn({
        let store = store.clone();
        async move { store.claim_outbox("a", now, 60_000, 10).await }
    });
    let mut watcher = PgConnection::connect(&db.url).await.unwrap();
    loop {
        let waiting: i64 = sqlx::query(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
             AND query LIKE 'UPDATE outbox SET claimed_by%'",
        )
        .fetch_one(&mut watcher)
        .await
        .unwrap()
        .get(0);
        if waiting == 1 {
            break;
        }
        tokio::task::yield_now().await;
    }
    // Worker B (the side connection) claims it, fails and schedules a retry in an hour,
    // as claim_outbox and outbox_failed do.
    side.execute(
        format!(
            "UPDATE outbox SET claimed_by = 'b', claimed_until = {}, attempts = attempts + 1 \
             WHERE id = 'obx_1'",
            now.0 + 60_000
        )
        .as_str(),
    )
    .await
    .unwrap();
    side.execute(
        format!(
            "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL, last_error = 'smtp down', \
             next_attempt_at = {} WHERE id = 'obx_1' AND claimed_by = 'b'",
            now.0 + 3_600_000
        )
        .as_str(),
    )
    .await
    .unwrap();
    side.execute("COMMIT").await.unwrap();
    let got = a.await.unwrap().unwrap();
    side.close().await.unwrap();
    watcher.close().await.unwrap();
    assert!(got.is_empty(), "an item not due was claimed: {got:?}");
}
