//! Where a small organization's memory goes: builds `N` organizations shaped like the
//! million-user benchmark's tenants (100 users, 15 groups, 7 policies with the legacy ones) and compiles their
//! snapshots, then holds them. Run under a heap profiler:
//! `cargo build --release -p warden-core --example tenant_memory`, then
//! `valgrind --tool=massif target/release/examples/tenant_memory 200` and `ms_print`.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use warden_core::testkit::{generate_tenant, Workload};
use warden_core::{Catalog, OrgId, Snapshot, Timestamp};

fn main() {
    let n: usize = std::env::args().nth(1).map_or(200, |a| a.parse().unwrap());
    let packed = std::env::args().any(|a| a == "--packed");
    let catalog = Catalog::builtin().unwrap();
    let tenant = Workload {
        users: 99,
        groups: 10,
        memberships_per_user: 2,
        policies: 2,
        rules_per_policy: 3,
        group_rule_percent: 80,
        seed: 1,
    };
    let mut held = Vec::with_capacity(n);
    for i in 0..n {
        let mut w = tenant;
        w.seed = i as u64;
        let state = generate_tenant(&catalog, w, OrgId::from(format!("{i:06x}"))).unwrap();
        let state = Arc::new(if packed { state.packed() } else { state });
        let snapshot = Snapshot::compile(catalog.clone(), state, Timestamp(1_700_000_000_000));
        held.push(snapshot);
    }
    std::hint::black_box(&held);
    println!("{} organizations held", held.len());
}
