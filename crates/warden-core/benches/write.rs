//! Write benchmark: one command at a time against the reference organization of spec
//! section 11, in process, as its admin would send them (authorization, validation, apply,
//! invariants and the new snapshot; no store). Each write starts from the previous one's
//! result, like a server's writes to one organization.
//!
//! `cargo bench -p warden-core --bench write` prints p50/p99 overall and per kind of write.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss
)]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

use warden_core::command::{
    GroupCommand, Key, NamespaceCommand, PolicyCommand, PrincipalInput, PrincipalKind, RuleInput,
    UserCommand,
};
use warden_core::testkit::{generate_org, FixedContext, SplitMix, Workload};
use warden_core::*;

/// Writes per kind.
const ROUNDS: usize = 400;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    // `cargo test --benches` runs bench binaries with `--bench` absent: stay quick then.
    let rounds = if std::env::args().any(|a| a == "--bench") {
        ROUNDS
    } else {
        5
    };
    let catalog = Catalog::builtin().unwrap();
    let state = generate_org(&catalog, Workload::REFERENCE).unwrap();
    let admin = Actor::Principal(PrincipalId::User(state.org.default_admin.clone()));
    let mut ctx = FixedContext::new(state.org.created_at.0);
    let mut snapshot = Snapshot::compile(catalog, std::sync::Arc::new(state), ctx.now);
    let mut rng = SplitMix(11);
    let user = |rng: &mut SplitMix| Key(format!("usr_{:08}", rng.below(10_000)));
    let group = |rng: &mut SplitMix| Key(format!("grp_{:08}", rng.below(1_000)));

    // A namespace to grant access in.
    let created = execute(
        &snapshot,
        &admin,
        NamespaceCommand::Create {
            name: "training".into(),
            access: Vec::new(),
        }
        .into(),
        &mut ctx,
    )
    .unwrap();
    snapshot = created.snapshot;

    let mut timings: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for round in 0..rounds {
        let (g, u) = (group(&mut rng), user(&mut rng));
        let policy = format!("pol_{:08}", rng.below(200));
        let mut rules: Vec<RuleInput> = snapshot.state().policies[&PolicyId::from(policy.clone())]
            .rules
            .iter()
            .map(|r| RuleInput {
                principal: PrincipalInput {
                    kind: match r.principal {
                        PrincipalRef::User(_) => PrincipalKind::User,
                        PrincipalRef::Group(_) => PrincipalKind::Group,
                        PrincipalRef::ServiceAccount(_) => PrincipalKind::ServiceAccount,
                    },
                    id: r.principal.id().to_string(),
                },
                roles: r.roles.clone(),
                expires_at: r.expires_at,
            })
            .collect();
        rules.push(RuleInput {
            principal: PrincipalInput {
                kind: PrincipalKind::Group,
                id: group(&mut rng).0,
            },
            roles: vec!["cks-viewer".into()],
            expires_at: None,
        });
        let writes: Vec<(&str, Command)> = vec![
            (
                "add a member",
                GroupCommand::AddMember {
                    group: g.clone(),
                    user: u.clone(),
                }
                .into(),
            ),
            (
                "remove a member",
                GroupCommand::RemoveMember { group: g, user: u }.into(),
            ),
            (
                "rename a user",
                UserCommand::Update {
                    user: user(&mut rng),
                    first_name: Some(format!("Renamed{round}")),
                    last_name: None,
                }
                .into(),
            ),
            (
                "add a group rule to a policy",
                PolicyCommand::Replace {
                    policy: Key(policy.clone()),
                    name: snapshot.state().policies[&PolicyId::from(policy)]
                        .name
                        .clone(),
                    description: format!("round {round}"),
                    rules,
                }
                .into(),
            ),
            (
                "set namespace access",
                NamespaceCommand::SetAccess {
                    namespace: Key("training".into()),
                    user: user(&mut rng),
                    keys: vec!["r:full".into()],
                }
                .into(),
            ),
        ];
        for (kind, command) in writes {
            ctx.now = Timestamp(ctx.now.0 + 1);
            let start = Instant::now();
            let executed = execute(&snapshot, &admin, command, &mut ctx);
            let elapsed = start.elapsed().as_secs_f64() * 1e6;
            let executed = executed.unwrap_or_else(|e| panic!("{kind}: {e}"));
            // Dropping the old snapshot is part of a write's cost too.
            let start = Instant::now();
            snapshot = black_box(executed.snapshot);
            let dropped = start.elapsed().as_secs_f64() * 1e6;
            timings.entry(kind).or_default().push(elapsed + dropped);
        }
    }
    let mut all: Vec<f64> = timings.values().flatten().copied().collect();
    all.sort_by(f64::total_cmp);
    println!(
        "one write to the reference org, in process ({} writes): p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        all.len(),
        percentile(&all, 0.5),
        percentile(&all, 0.99),
        all[all.len() - 1]
    );
    for (kind, mut t) in timings {
        t.sort_by(f64::total_cmp);
        println!(
            "  {kind:<30} p50 {:>9.1} µs  p99 {:>9.1} µs",
            percentile(&t, 0.5),
            percentile(&t, 0.99)
        );
    }
}
