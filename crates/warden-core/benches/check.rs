//! Check benchmarks on the reference workload of spec section 11.
//!
//! `cargo bench -p warden-core --bench check` runs the criterion groups and then prints a
//! percentile report (p50/p99 per check, explain, batch throughput, snapshot build time and
//! memory). Percentiles come from timing batches of 32 checks (a single ~20 ns check is below
//! the clock's resolution); the timer's own cost is measured and subtracted.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    clippy::cast_lossless
)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use rustc_hash::FxHashMap;
use warden_core::testkit::{generate_org, SplitMix, Workload};
use warden_core::{ActionId, Catalog, OrgState, Snapshot, Timestamp};

/// The instant every question is asked at (the generated organization's creation time): a
/// caller reads its clock once per request, not per check.
const NOW: Timestamp = Timestamp(1_700_000_000_000);

/// Questions in the benchmark's cycle: half allowed, half denied (a power of two).
const QUESTIONS: usize = 4096;

struct Fixture {
    catalog: Arc<Catalog>,
    state: Arc<OrgState>,
    orgs: FxHashMap<Box<str>, Arc<Snapshot>>,
    /// (org, principal, action) strings, half allowed and half denied.
    questions: Vec<(String, String, String)>,
}

fn fixture() -> Fixture {
    let catalog = Catalog::builtin().unwrap();
    let state = Arc::new(generate_org(&catalog, Workload::REFERENCE).unwrap());
    let snapshot = Arc::new(Snapshot::compile(catalog.clone(), state.clone(), NOW));
    let mut orgs = FxHashMap::default();
    orgs.insert(state.org.id.to_string().into_boxed_str(), snapshot.clone());
    let users: Vec<&str> = state.users.keys().map(|u| u.as_str()).collect();
    let mut rng = SplitMix(7);
    let (mut allowed, mut denied) = (Vec::new(), Vec::new());
    let half = QUESTIONS / 2;
    while allowed.len() < half || denied.len() < half {
        let user = users[rng.below(users.len())];
        let action = &catalog.actions()[rng.below(catalog.actions().len())];
        let q = (state.org.id.to_string(), user.to_string(), action.clone());
        if snapshot.check(user, action, NOW).unwrap() {
            if allowed.len() < half {
                allowed.push(q);
            }
        } else if denied.len() < half {
            denied.push(q);
        }
    }
    let mut questions: Vec<_> = allowed
        .into_iter()
        .zip(denied)
        .flat_map(|(a, d)| [a, d])
        .collect();
    // Shuffle so the branch predictor cannot learn the allow/deny pattern.
    for i in (1..questions.len()).rev() {
        questions.swap(i, rng.below(i + 1));
    }
    Fixture {
        catalog,
        state,
        orgs,
        questions,
    }
}

#[inline]
fn check(
    orgs: &FxHashMap<Box<str>, Arc<Snapshot>>,
    org: &str,
    principal: &str,
    action: &str,
) -> bool {
    orgs.get(org)
        .is_some_and(|s| s.check(principal, action, NOW).unwrap_or(false))
}

fn benches(c: &mut Criterion) {
    let f = fixture();
    let mut i = 0usize;
    c.bench_function("check (org, principal, action) strings", |b| {
        b.iter(|| {
            // 4,096 questions: a mask, not a division, picks the next one.
            let (o, p, a) = &f.questions[i & (QUESTIONS - 1)];
            i += 1;
            black_box(check(&f.orgs, o, p, a))
        })
    });
    let snapshot = f.orgs.values().next().unwrap().clone();
    c.bench_function("explain", |b| {
        b.iter(|| {
            let (_, p, a) = &f.questions[i & (QUESTIONS - 1)];
            i += 1;
            black_box(snapshot.decide(p, a, NOW).unwrap())
        })
    });
    c.bench_function("snapshot compile (reference org)", |b| {
        b.iter(|| black_box(Snapshot::compile(f.catalog.clone(), f.state.clone(), NOW)))
    });
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn report() {
    let f = fixture();
    const BATCH: usize = 32;
    let timer_cost = {
        let mut samples: Vec<f64> = (0..20_000)
            .map(|_| {
                let t = Instant::now();
                black_box(());
                t.elapsed().as_nanos() as f64
            })
            .collect();
        samples.sort_by(f64::total_cmp);
        percentile(&samples, 0.5)
    };
    let mut samples = Vec::with_capacity(200_000);
    let n = f.questions.len();
    for round in 0..200_000usize {
        let start = (round * BATCH) % n;
        let t = Instant::now();
        for q in &f.questions[start..(start + BATCH).min(n)] {
            black_box(check(&f.orgs, &q.0, &q.1, &q.2));
        }
        let elapsed = t.elapsed().as_nanos() as f64 - timer_cost;
        samples.push(elapsed.max(0.0) / BATCH as f64);
    }
    samples.sort_by(f64::total_cmp);
    println!(
        "check from strings: p50 {:.1} ns, p99 {:.1} ns (batches of {BATCH}, timer cost {timer_cost:.0} ns subtracted)",
        percentile(&samples, 0.5),
        percentile(&samples, 0.99)
    );

    let snapshot = f.orgs.values().next().unwrap().clone();
    let mut explain = Vec::with_capacity(50_000);
    for (k, q) in f.questions.iter().cycle().take(50_000).enumerate() {
        let t = Instant::now();
        black_box(snapshot.decide(&q.1, &q.2, NOW).unwrap());
        explain.push(t.elapsed().as_nanos() as f64);
        black_box(k);
    }
    explain.sort_by(f64::total_cmp);
    println!(
        "explain: p50 {:.0} ns, p99 {:.0} ns",
        percentile(&explain, 0.5),
        percentile(&explain, 0.99)
    );

    // Batch throughput: interned (principal, action) pairs on one core.
    let interned: Vec<(&str, ActionId)> = f
        .questions
        .iter()
        .map(|q| (q.1.as_str(), f.catalog.action_id(&q.2).unwrap()))
        .collect();
    let t = Instant::now();
    let mut decisions = 0u64;
    let mut allowed = 0u64;
    while t.elapsed() < Duration::from_secs(2) {
        for (p, a) in &interned {
            allowed += u64::from(snapshot.check_at(p, *a, NOW));
        }
        decisions += interned.len() as u64;
    }
    println!(
        "batch check (interned actions, string principals): {:.1} M decisions/s on one core ({} allowed in total)",
        decisions as f64 / t.elapsed().as_secs_f64() / 1e6,
        black_box(allowed)
    );

    let mut builds: Vec<f64> = (0..30)
        .map(|_| {
            let t = Instant::now();
            black_box(Snapshot::compile(f.catalog.clone(), f.state.clone(), NOW));
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    builds.sort_by(f64::total_cmp);
    println!(
        "snapshot compile: p50 {:.2} ms, max {:.2} ms",
        percentile(&builds, 0.5),
        builds[builds.len() - 1]
    );

    // Memory: resident growth while holding 20 compiled snapshots of the same state (the
    // state itself is shared and not counted).
    let before = rss_bytes();
    let held: Vec<Snapshot> = (0..20)
        .map(|_| Snapshot::compile(f.catalog.clone(), f.state.clone(), NOW))
        .collect();
    let after = rss_bytes();
    if let (Some(b), Some(a)) = (before, after) {
        println!(
            "snapshot memory: {:.2} MiB per compiled snapshot (RSS growth over {} snapshots)",
            (a.saturating_sub(b)) as f64 / held.len() as f64 / 1048576.0,
            held.len()
        );
    }
}

criterion_group!(check_benches, benches);

fn main() {
    check_benches();
    Criterion::default().configure_from_args().final_summary();
    report();
}
