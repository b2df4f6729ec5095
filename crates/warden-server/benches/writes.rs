//! API write throughput to one organization, 16 concurrent writers (spec section 11).
//!
//! `cargo bench -p warden-server --bench writes` starts Warden in this process on a loopback
//! port over the reference organization (10,000 users, 1,000 groups, 200 policies), on SQLite
//! (`synchronous=FULL`, in a temporary directory) and then on PostgreSQL (a fresh database on
//! `WARDEN_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`; skipped with
//! a message when unreachable). Sixteen writers, each on its own keep-alive connection, send
//! writes back to back for a bounded time (alternately: create a group, rename a user) and
//! the bench prints writes/s and latency percentiles per backend.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use warden_core::command::{Key, TokenLifetime};
use warden_core::testkit::{generate_org, Workload};
use warden_core::{Actor, Catalog};
use warden_server::{Service, Settings};
use warden_store::Store;

const WRITERS: usize = 16;

fn seconds() -> u64 {
    // `cargo test --benches` runs this binary without `--bench`: stay short then.
    if std::env::args().any(|a| a == "--bench") {
        10
    } else {
        1
    }
}

/// Loads the reference organization into `store`, serves it, and runs the writers.
async fn run(label: &str, store: Store) {
    let catalog = Catalog::builtin().unwrap();
    let state = generate_org(&catalog, Workload::REFERENCE).unwrap();
    warden_testing::store_generated_org(&store, &catalog, &state)
        .await
        .unwrap();
    let service = Service::open(store, catalog, Settings::default())
        .await
        .unwrap();
    let admin = state.org.default_admin.clone();
    let (_, token, _) = service
        .issue_personal_token(
            &state.org.id,
            &Actor::user(admin.clone()),
            Key::from(&admin),
            "bench",
            "",
            TokenLifetime::OneHour,
        )
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = warden_server::app(service.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let users: Arc<Vec<String>> = Arc::new(state.users.keys().map(|u| u.to_string()).collect());
    // As fast as the server answers: the throughput, and what queueing does to latency.
    let (all, failures) = load(&base, &token, &users, None).await;
    report(label, "back to back", &all, failures);
    // At the target's rate, 500 writes/s in all (each writer every 32 ms, the writers'
    // cycles evenly staggered): the latency a client sees when the server keeps up.
    let (all, failures) = load(&base, &token, &users, Some(Duration::from_millis(32))).await;
    report(label, "paced to 500/s", &all, failures);
    server.abort();
}

/// Sixteen writers for [`seconds`], each sending its next write when the previous one was
/// answered (or, with `pace`, at that interval); returns the sorted latencies in ms.
async fn load(
    base: &str,
    token: &str,
    users: &Arc<Vec<String>>,
    pace: Option<Duration>,
) -> (Vec<f64>, u64) {
    let deadline = Instant::now() + Duration::from_secs(seconds());
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (base, token, users) = (base.to_string(), token.to_string(), users.clone());
        writers.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut latencies = Vec::new();
            let mut failures = 0u64;
            let mut i = 0usize;
            // Writers start their cycles spread over one interval, so the 500 writes a second
            // arrive evenly rather than sixteen at a time.
            let mut tick = pace.map(|every| {
                let offset = every * u32::try_from(w).unwrap() / WRITERS as u32;
                let mut tick =
                    tokio::time::interval_at(tokio::time::Instant::now() + offset, every);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                tick
            });
            while Instant::now() < deadline {
                if let Some(tick) = tick.as_mut() {
                    tick.tick().await;
                }
                i += 1;
                let request = if i.is_multiple_of(2) {
                    http.post(format!("{base}/v1/groups"))
                        .json(&serde_json::json!({
                            "name": format!("bench-{w}-{i}-{}", pace.is_some()),
                            "description": "",
                        }))
                } else {
                    let user = &users[(w * 7919 + i * 31) % users.len()];
                    http.patch(format!("{base}/v1/users/{user}"))
                        .json(&serde_json::json!({ "first_name": format!("Renamed{i}") }))
                };
                let start = Instant::now();
                let response = request.bearer_auth(&token).send().await.unwrap();
                let ok = response.status().is_success();
                let _ = response.bytes().await;
                latencies.push(start.elapsed().as_secs_f64() * 1000.0);
                if !ok {
                    failures += 1;
                }
            }
            (latencies, failures)
        }));
    }
    let mut all = Vec::new();
    let mut failures = 0;
    for writer in writers {
        let (latencies, failed) = writer.await.unwrap();
        all.extend(latencies);
        failures += failed;
    }
    all.sort_by(f64::total_cmp);
    (all, failures)
}

fn report(label: &str, mode: &str, all: &[f64], failures: u64) {
    let at = |p: f64| all[((all.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "{label}, {WRITERS} writers {mode}: {:.0} writes/s ({} in {} s, {failures} failed), p50 {:.2} ms, p99 {:.2} ms",
        all.len() as f64 / seconds() as f64,
        all.len(),
        seconds(),
        at(0.5),
        at(0.99),
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_data_dir(dir.path()).await.unwrap();
        run("SQLite (synchronous=FULL)", store).await;
        warden_testing::with_postgres(|url| async move {
            let store = Store::connect(&url).await.unwrap();
            run("PostgreSQL", store).await;
        })
        .await;
    });
}
