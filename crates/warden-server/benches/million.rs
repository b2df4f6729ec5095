//! Spec section 11's scale target: "1 M users across 10,000 orgs: all snapshots ≤ 1 GiB,
//! cold start ≤ 5 s".
//!
//! `cargo bench -p warden-server --bench million` writes 10,000 organizations of 100 users
//! each (the reference organization scaled down a hundredfold) into SQLite (in a temporary
//! directory) and then PostgreSQL (a fresh database on `WARDEN_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`; skipped with a message when unreachable). The
//! load is setup, timed only for information.
//!
//! The figures come from fresh processes of this binary, one per measurement: a cold start
//! is a process with nothing in memory, and its resident memory must not include what the
//! load left in the allocator. The first child times `Service::open_lazily` (what `warden
//! serve` does) until it serves, until a check on the last organization is answered, and until
//! every organization is loaded. The second times `Service::open` until every organization is
//! served, reports resident memory before and after, and checks a permission in a random
//! organization. The third times the steps of an unoptimized open one by one
//! (`Store::load_all` on one connection, compiling on one thread and on all, publishing one
//! organization at a time and all at once) and measures what the
//! compiled snapshots hold besides the states they share. A third, once, measures what the
//! states alone hold, generated in memory: resident memory after a load also holds what the
//! allocator kept of the rows read.
//!
//! Run without `--bench` (as `cargo test --benches` does), it uses 20 organizations.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss
)]

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustc_hash::FxHashMap;
use warden_core::testkit::{generate_tenant, SplitMix, Workload};
use warden_core::{Catalog, OrgId};
use warden_server::service::{now, CompiledOrg};
use warden_server::{Service, Settings};
use warden_store::Store;

/// One organization: the reference workload (spec section 11) divided by 100. With the
/// first admin that `new_organization` adds, 100 users; with its five legacy groups and
/// their default policies, 15 groups and 7 policies. Reference organizations have no tokens
/// or service accounts, so neither do these. The seed is set per organization.
const TENANT: Workload = Workload {
    users: 99,
    groups: 10,
    memberships_per_user: 2,
    policies: 2,
    rules_per_policy: 3,
    group_rule_percent: 80,
    seed: 0,
};

/// Organizations written at once to PostgreSQL, which commits them in parallel. SQLite
/// takes one writer at a time: more only wait for its lock, and a writer that waits longer
/// than its `busy_timeout` (5 s) fails, so SQLite gets one.
const POSTGRES_WRITERS: usize = 8;

/// Where a child process finds the database.
const SQLITE: &str = "sqlite";
const POSTGRES: &str = "postgres";

fn organizations() -> usize {
    // `cargo test --benches` runs this binary without `--bench`: stay small then.
    if std::env::args().any(|a| a == "--bench") {
        10_000
    } else {
        20
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // `million --child <mode> <backend> <location> <organizations>`: one measurement.
    if args.get(1).map(String::as_str) == Some("--child") {
        let [_, _, mode, backend, location, orgs] = &args[..] else {
            panic!(
                "usage: million --child <lazy|open|parts|states> <backend> <location> <organizations>"
            );
        };
        let orgs: usize = orgs.parse().unwrap();
        runtime.block_on(async {
            match mode.as_str() {
                "open" => cold_start(backend, location, orgs).await,
                "lazy" => lazy_start(backend, location, orgs).await,
                "parts" => parts(backend, location, orgs).await,
                "states" => states(orgs),
                other => panic!("unknown child mode `{other}`"),
            }
        });
        return;
    }
    let orgs = organizations();
    runtime.block_on(async move {
        child("states", "none", "none", orgs).await;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_data_dir(dir.path()).await.unwrap();
        load("SQLite", &store, orgs, 1).await;
        // Closing the last connection checkpoints the WAL into the database file.
        store.close().await;
        let location = dir.path().to_str().unwrap().to_string();
        measure(SQLITE, &location, orgs).await;
        warden_testing::with_postgres(move |url| async move {
            let store = Store::connect(&url).await.unwrap();
            load("PostgreSQL", &store, orgs, POSTGRES_WRITERS).await;
            store.close().await;
            measure(POSTGRES, &url, orgs).await;
        })
        .await;
    });
}

/// Writes `orgs` organizations, each in its own `create_organization` transaction as the
/// API creates one, `writers` at a time.
async fn load(label: &str, store: &Store, orgs: usize, writers: usize) {
    let start = Instant::now();
    let catalog = Catalog::builtin().unwrap();
    let next = Arc::new(AtomicUsize::new(0));
    let mut loaders = tokio::task::JoinSet::new();
    for _ in 0..writers {
        let (store, catalog, next) = (store.clone(), catalog.clone(), next.clone());
        loaders.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= orgs {
                    break;
                }
                let workload = Workload {
                    seed: i as u64,
                    ..TENANT
                };
                let state = generate_tenant(&catalog, workload, org_id(i)).unwrap();
                warden_testing::store_generated_org(&store, &catalog, &state)
                    .await
                    .unwrap();
            }
        });
    }
    while let Some(done) = loaders.join_next().await {
        done.unwrap();
    }
    println!(
        "{label}: loaded {orgs} organizations, {} users, in {:.1} s ({writers} at a time; setup, not a figure)",
        orgs * (TENANT.users + 1),
        start.elapsed().as_secs_f64()
    );
}

/// The `i`-th organization's id: six hex digits, as the service makes them.
fn org_id(i: usize) -> OrgId {
    OrgId::from(format!("{i:06x}"))
}

/// Runs the measurements of a loaded database, each in a fresh process.
async fn measure(backend: &str, location: &str, orgs: usize) {
    for mode in ["lazy", "open", "parts"] {
        child(mode, backend, location, orgs).await;
    }
}

/// Runs one measurement in a fresh process of this binary.
async fn child(mode: &str, backend: &str, location: &str, orgs: usize) {
    let exe = std::env::current_exe().unwrap();
    let args = [
        "--child".to_string(),
        mode.to_string(),
        backend.to_string(),
        location.to_string(),
        orgs.to_string(),
    ];
    let status = tokio::task::spawn_blocking(move || Command::new(exe).args(args).status())
        .await
        .unwrap()
        .unwrap();
    assert!(
        status.success(),
        "the `{mode}` measurement failed: {status}"
    );
}

async fn connect(backend: &str, location: &str) -> Store {
    match backend {
        SQLITE => Store::open_data_dir(Path::new(location)).await.unwrap(),
        _ => Store::connect(location).await.unwrap(),
    }
}

fn label(backend: &str) -> &'static str {
    match backend {
        SQLITE => "SQLite",
        _ => "PostgreSQL",
    }
}

/// `VmRSS` (resident now) and `VmHWM` (resident at the peak) of this process, in bytes.
fn resident() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map_or(0, |kib| kib * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1048576.0
}

/// What `warden serve` does: `Service::open_lazily` returns once organizations and tokens
/// are known; a check on an organization not loaded yet waits for that one; the rest load in
/// the background.
async fn lazy_start(backend: &str, location: &str, orgs: usize) {
    let label = label(backend);
    let catalog = Catalog::builtin().unwrap();
    let store = connect(backend, location).await;
    let (before, _) = resident();
    let start = Instant::now();
    let service = Service::open_lazily(store, catalog, Settings::default())
        .await
        .unwrap();
    let serving = start.elapsed();
    // The last organization by id: the background load reaches it last.
    let org = org_id(orgs - 1);
    let compiled = service.organization(&org).await.unwrap().unwrap();
    let admin = compiled.state().org.default_admin.clone();
    let allowed = compiled
        .snapshot
        .check(admin.as_str(), "iam.users.list", now())
        .unwrap();
    assert!(allowed);
    let first_check = start.elapsed();
    while !service.is_loaded() {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let loaded = start.elapsed();
    let (after, peak) = resident();
    assert_eq!(service.org_ids().len(), orgs);
    println!(
        "{label}: lazy start (warden serve): serving after {:.2} s (target <= 5 s), first check on the last organization answered after {:.2} s, all {orgs} organizations loaded after {:.2} s; resident +{:.0} MiB, peak {:.0} MiB",
        serving.as_secs_f64(),
        first_check.as_secs_f64(),
        loaded.as_secs_f64(),
        mib(after.saturating_sub(before)),
        mib(peak)
    );
}

/// The figure: a new store on the loaded database, then `Service::open` until every
/// organization is served.
async fn cold_start(backend: &str, location: &str, orgs: usize) {
    let label = label(backend);
    let catalog = Catalog::builtin().unwrap();
    let start = Instant::now();
    let store = connect(backend, location).await;
    let connected = start.elapsed();
    let (before, _) = resident();
    let start = Instant::now();
    let service = Service::open(store, catalog, Settings::default())
        .await
        .unwrap();
    let opened = start.elapsed();
    let (after, peak) = resident();

    let ids = service.org_ids();
    assert_eq!(ids.len(), orgs, "every organization is served");
    let users: usize = ids
        .iter()
        .map(|org| service.compiled(org).unwrap().state().users.len())
        .sum();
    assert_eq!(users, orgs * (TENANT.users + 1));
    println!(
        "{label}: cold start {:.2} s (Service::open until {orgs} organizations, {users} users, are served; target <= 5 s); Store::connect before it {:.2} s",
        opened.as_secs_f64(),
        connected.as_secs_f64()
    );
    println!(
        "{label}: resident memory {:.0} MiB before Service::open, {:.0} MiB after: +{:.0} MiB to serve them all (target <= 1024 MiB); peak {:.0} MiB",
        mib(before),
        mib(after),
        mib(after.saturating_sub(before)),
        mib(peak)
    );

    // One check in a random organization: its admin may list users (IAM Admin, through the
    // legacy `admin` group), and a random user is asked about a random action.
    let mut rng = SplitMix(u64::from(std::process::id()) ^ now().0 as u64);
    let org = rng.pick(&ids).unwrap();
    let compiled = service.compiled(org).unwrap();
    let at = now();
    let admin = compiled.state().org.default_admin.clone();
    let allowed = compiled
        .snapshot
        .check(admin.as_str(), "iam.users.list", at)
        .unwrap();
    assert!(allowed, "the admin of {org} may list users");
    let members: Vec<_> = compiled.state().users.keys().cloned().collect();
    let user = rng.pick(&members).unwrap();
    let actions = service.catalog().actions();
    let action = rng.pick(actions).unwrap();
    let answer = compiled.snapshot.check(user.as_str(), action, at).unwrap();
    println!(
        "{label}: organization {org} serves: {admin} may iam.users.list: {allowed}; {user} may {action}: {answer}"
    );
}

/// Where the time of an open goes, step by step, done the simple way (one query per table
/// for everything, then compile, then publish), against which `load.rs` was built.
async fn parts(backend: &str, location: &str, orgs: usize) {
    let label = label(backend);
    let catalog = Catalog::builtin().unwrap();
    let store = connect(backend, location).await;
    let (before, _) = resident();
    let start = Instant::now();
    let states = store.load_all().await.unwrap();
    let loaded = start.elapsed();
    let (after_load, peak) = resident();
    assert_eq!(states.len(), orgs);
    let states: Vec<_> = states.into_iter().map(Arc::new).collect();

    // One organization after another, on one thread.
    let at = now();
    let start = Instant::now();
    let serial: Vec<CompiledOrg> = states
        .iter()
        .map(|s| CompiledOrg::compile(catalog.clone(), s.clone(), at))
        .collect();
    let compiled_serially = start.elapsed();

    // The same on every core. The serial results stay alive, so the resident growth is
    // what compiled snapshots hold besides the states they share.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (before_parallel, _) = resident();
    let start = Instant::now();
    let chunk = states.len().div_ceil(threads).max(1);
    let parallel: Vec<CompiledOrg> = std::thread::scope(|scope| {
        let workers: Vec<_> = states
            .chunks(chunk)
            .map(|part| {
                let catalog = &catalog;
                scope.spawn(move || {
                    part.iter()
                        .map(|s| CompiledOrg::compile(catalog.clone(), s.clone(), at))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let compiled_in_parallel = start.elapsed();
    let (after_parallel, _) = resident();
    drop(serial);

    // Publishing as `Service::install` adds an organization: copy the whole map, insert,
    // swap. Adding n organizations one by one copies O(n²) entries.
    let compiled: Vec<(OrgId, Arc<CompiledOrg>)> = parallel
        .into_iter()
        .map(|c| (c.state().org.id.clone(), Arc::new(c)))
        .collect();
    let start = Instant::now();
    let mut map: Arc<FxHashMap<OrgId, Arc<CompiledOrg>>> = Arc::default();
    for (org, c) in &compiled {
        let mut next = FxHashMap::clone(&map);
        next.insert(org.clone(), c.clone());
        map = Arc::new(next);
    }
    let published_one_by_one = start.elapsed();
    drop(map);
    let start = Instant::now();
    let map: FxHashMap<OrgId, Arc<CompiledOrg>> = compiled.iter().cloned().collect();
    let published_at_once = start.elapsed();
    assert_eq!(map.len(), orgs);

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{label}: open, part 1: Store::load_all {:.0} ms (+{:.0} MiB resident, peak {:.0} MiB)",
        ms(loaded),
        mib(after_load.saturating_sub(before)),
        mib(peak)
    );
    println!(
        "{label}: open, part 2: compile {:.0} ms on one thread, {:.0} ms on {threads} threads",
        ms(compiled_serially),
        ms(compiled_in_parallel)
    );
    println!(
        "{label}: open, part 3: publish {:.0} ms copying the map per organization (one install each, as before load.rs), {:.1} ms into one map",
        ms(published_one_by_one),
        ms(published_at_once)
    );
    println!(
        "{label}: compiled snapshots of {orgs} organizations hold {:.0} MiB besides their states ({:.1} KiB each, resident growth)",
        mib(after_parallel.saturating_sub(before_parallel)),
        after_parallel.saturating_sub(before_parallel) as f64 / 1024.0 / orgs as f64
    );
}

/// What the states of the organizations hold, without a store: the same organizations,
/// generated in this fresh process and held.
fn states(orgs: usize) {
    let catalog = Catalog::builtin().unwrap();
    let (before, _) = resident();
    let states: Vec<_> = (0..orgs)
        .map(|i| {
            let workload = Workload {
                seed: i as u64,
                ..TENANT
            };
            generate_tenant(&catalog, workload, org_id(i)).unwrap()
        })
        .collect();
    let (after, _) = resident();
    let held = after.saturating_sub(before);
    println!(
        "states of {} organizations hold {:.0} MiB ({:.1} KiB each, generated in memory, resident growth)",
        states.len(),
        mib(held),
        held as f64 / 1024.0 / orgs as f64
    );
}
