//! Instructions per check, for comparisons that the machine's noise cannot blur: run under
//! `valgrind --tool=callgrind` with 0 and with 1,000,000 checks and divide the difference by a
//! million (BENCHMARKS.md, "In-process engine"). With `explain` as a second argument, the
//! same for `decide` (a check with its explanation); with `compile`, instructions per
//! snapshot compilation.
//!
//! `cargo build --release -p warden-core --example check_instructions`, then
//! `valgrind --tool=callgrind target/release/examples/check_instructions 1000000`.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::hint::black_box;
use std::sync::Arc;
use warden_core::testkit::{generate_org, SplitMix, Workload};
use warden_core::{Catalog, Snapshot, Timestamp};
fn main() {
    let n: usize = std::env::args().nth(1).map_or(0, |a| a.parse().unwrap());
    let catalog = Catalog::builtin().unwrap();
    let state = Arc::new(generate_org(&catalog, Workload::REFERENCE).unwrap());
    let snap = Snapshot::compile(catalog.clone(), state.clone(), Timestamp(1_700_000_000_000));
    let users: Vec<String> = state.users.keys().map(|u| u.to_string()).collect();
    let mut rng = SplitMix(7);
    let qs: Vec<(String, String)> = (0..4096)
        .map(|_| {
            (
                users[rng.below(users.len())].clone(),
                catalog.actions()[rng.below(catalog.actions().len())].clone(),
            )
        })
        .collect();
    let now = black_box(Timestamp(1_700_000_000_000));
    let mut allowed = 0u64;
    if std::env::args().nth(2).as_deref() == Some("compile") {
        for _ in 0..n {
            let again = Snapshot::compile(catalog.clone(), state.clone(), now);
            allowed += u64::from(again.check(&qs[0].0, &qs[0].1, now).unwrap());
        }
        println!("{allowed}");
        return;
    }
    if std::env::args().nth(2).as_deref() == Some("explain") {
        for i in 0..n {
            let (p, a) = &qs[i & 4095];
            allowed += u64::from(
                snap.decide(black_box(p), black_box(a), now)
                    .unwrap()
                    .allowed,
            );
        }
        println!("{allowed}");
        return;
    }
    for i in 0..n {
        let (p, a) = &qs[i & 4095];
        allowed += u64::from(snap.check(black_box(p), black_box(a), now).unwrap());
    }
    println!("{allowed}");
}
