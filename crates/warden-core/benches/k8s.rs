//! The Kubernetes webhooks' core work on the reference workload of spec section 11, with a
//! cluster and namespaces added: `authorize` for a namespaced request that a namespace key
//! allows and for one nothing grants (answered with the key that would), and the TokenReview
//! `identity` of a user's token.
//!
//! `cargo bench -p warden-core --bench k8s -- --warm-up-time 1 --measurement-time 3`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use warden_core::k8s::review::ResourceAttributes;
use warden_core::k8s::{authorize, identity, username, SubjectAccessSpec};
use warden_core::testkit::{generate_org, Workload};
use warden_core::*;

const NOW: Timestamp = Timestamp(1_700_000_000_000);

fn spec(user: &str, verb: &str) -> SubjectAccessSpec {
    SubjectAccessSpec {
        user: user.to_string(),
        resource_attributes: Some(ResourceAttributes {
            namespace: "ns-7".into(),
            verb: verb.into(),
            group: "apps".into(),
            resource: "deployments".into(),
            ..ResourceAttributes::default()
        }),
        ..SubjectAccessSpec::default()
    }
}

fn benches(c: &mut Criterion) {
    let catalog = Catalog::builtin().unwrap();
    let mut state = generate_org(&catalog, Workload::REFERENCE).unwrap();
    let cluster = ClusterId::from("cls_bench");
    state.clusters.insert(
        cluster.clone(),
        Cluster {
            id: cluster.clone(),
            name: "prod".into(),
            api_server_url: "https://prod.k8s.test".into(),
            ca_bundle: String::new(),
            created_at: NOW,
            webhook_secret_hash: None,
        },
    );
    // 20 namespaces; the first 2,000 users hold `r:full` and `w:deployments` in each.
    let users: Vec<UserId> = state.users.keys().cloned().collect();
    for n in 0..20 {
        let id = NamespaceId::from(format!("ns_{n:04}"));
        state.namespaces.insert(
            id.clone(),
            Namespace {
                id: id.clone(),
                name: format!("ns-{n}"),
                created_at: NOW,
            },
        );
        for user in users.iter().take(2_000) {
            for key in ["r:full", "w:deployments"] {
                state.namespace_grants.insert(NamespaceGrant {
                    namespace: id.clone(),
                    user: user.clone(),
                    key: key.to_string(),
                });
            }
        }
    }
    // A user with keys and one without, neither an org admin.
    let holder = users.iter().take(2_000).find(|u| {
        !state
            .groups_of(u)
            .any(|g| state.groups.get(g).is_some_and(|g| g.legacy))
    });
    let holder = holder.unwrap().clone();
    let stranger = users[9_999].clone();
    let token = ApiToken {
        id: TokenId::from("tok_bench"),
        kind: TokenKind::Personal,
        owner: PrincipalId::User(holder.clone()),
        name: "laptop".into(),
        note: String::new(),
        secret_hash: "00".repeat(32),
        display_prefix: "wdn_".into(),
        created_by: PrincipalId::User(holder.clone()),
        created_at: NOW,
        expires_at: None,
        scope: TokenScope::default(),
    };
    state.tokens.insert(token.id.clone(), token.clone());
    let snapshot = Snapshot::compile(catalog, Arc::new(state), NOW);
    let state = snapshot.state().clone();

    let allowed = spec(
        &username(&state, &PrincipalId::User(holder)).unwrap(),
        "create",
    );
    let verdict = authorize(&snapshot, &cluster, &allowed, NOW);
    assert!(verdict.allowed, "{verdict:?}");
    let denied = spec(
        &username(&state, &PrincipalId::User(stranger)).unwrap(),
        "create",
    );
    let verdict = authorize(&snapshot, &cluster, &denied, NOW);
    assert!(!verdict.allowed, "{verdict:?}");

    c.bench_function("k8s authorize (allowed, namespace key)", |b| {
        b.iter(|| black_box(authorize(&snapshot, &cluster, black_box(&allowed), NOW)))
    });
    c.bench_function("k8s authorize (no grant, with the remedy)", |b| {
        b.iter(|| black_box(authorize(&snapshot, &cluster, black_box(&denied), NOW)))
    });
    c.bench_function("k8s identity (user token)", |b| {
        b.iter(|| black_box(identity(&state, black_box(&token))))
    });
}

criterion_group!(k8s_benches, benches);
criterion_main!(k8s_benches);
