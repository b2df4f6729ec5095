//! HTTP throughput of `POST /v1/authz/check` on the reference organization of spec section 11.
//!
//! `cargo bench -p warden-server --bench http` starts Warden in this process on a loopback
//! port (SQLite in a temporary directory), loads the reference organization (10,000 users,
//! 1,000 groups, 200 policies), and drives it with `wrk` (Debian package `wrk`, `-t1 -c64`,
//! keep-alive) for a bounded time: first a bare axum handler doing one hash-map look-up (the
//! spec's baseline), then single checks, then batches of 100. Prints requests/s,
//! decisions/s, latency percentiles and the ratio to the baseline. Skips with a message when
//! `wrk` is absent.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    clippy::cast_lossless
)]

use std::fmt::Write as _;
use std::process::Command as Process;

use std::collections::HashMap;
use std::sync::Arc;

use warden_core::command::{Key, TokenLifetime};
use warden_core::testkit::{generate_org, SplitMix, Workload};
use warden_core::{Actor, Catalog, OrgState, Snapshot, Timestamp};
use warden_server::{Service, Settings};
use warden_store::Store;

const SECONDS: u32 = 10;
/// The generated organization's creation time; checks are asked about it.
const NOW: Timestamp = Timestamp(1_700_000_000_000);
const CONNECTIONS: u32 = 64;

fn bodies(
    state: &OrgState,
    snapshot: &Snapshot,
    catalog: &Catalog,
    per_call: usize,
) -> Vec<String> {
    let users: Vec<&str> = state.users.keys().map(|u| u.as_str()).collect();
    let mut rng = SplitMix(11);
    let mut out = Vec::new();
    for _ in 0..512 {
        let mut checks = Vec::new();
        let mut allowed = 0;
        while checks.len() < per_call {
            let user = users[rng.below(users.len())];
            let action = &catalog.actions()[rng.below(catalog.actions().len())];
            let allow = snapshot.check(user, action, NOW).unwrap();
            // Keep the mix at half allowed, half denied.
            if allow && allowed * 2 >= per_call {
                continue;
            }
            if !allow && (checks.len() - allowed) * 2 >= per_call {
                continue;
            }
            allowed += allow as usize;
            checks.push(format!(r#"{{"principal":"{user}","action":"{action}"}}"#));
        }
        out.push(format!(r#"{{"checks":[{}]}}"#, checks.join(",")));
    }
    out
}

fn lua(token: &str, bodies: &[String]) -> String {
    let mut s = String::new();
    s.push_str("wrk.method = \"POST\"\n");
    s.push_str("wrk.headers[\"Content-Type\"] = \"application/json\"\n");
    let _ = writeln!(s, "wrk.headers[\"Authorization\"] = \"Bearer {token}\"");
    s.push_str("local bodies = {\n");
    for b in bodies {
        let _ = writeln!(s, "  [[{b}]],");
    }
    s.push_str("}\nlocal i = 0\n");
    s.push_str(
        "request = function()\n  i = i + 1\n  return wrk.format(nil, \"/v1/authz/check\", nil, bodies[(i % #bodies) + 1])\nend\n",
    );
    s.push_str(
        "done = function(summary, latency, requests)\n  io.write(string.format(\"RESULT requests=%d errors=%d seconds=%.3f p50_us=%d p99_us=%d\\n\", summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.duration / 1e6, latency:percentile(50), latency:percentile(99)))\nend\n",
    );
    s
}

fn run_wrk(base: &str, script: &std::path::Path) -> Option<(f64, u64, u64, u64)> {
    let out = Process::new("wrk")
        .args([
            "-t1",
            &format!("-c{CONNECTIONS}"),
            &format!("-d{SECONDS}s"),
            "--latency",
            "-s",
        ])
        .arg(script)
        .arg(base)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.starts_with("RESULT"))?;
    let field = |name: &str| -> f64 {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    Some((
        field("requests") / field("seconds"),
        field("errors") as u64,
        field("p50_us") as u64,
        field("p99_us") as u64,
    ))
}

fn main() {
    if Process::new("wrk").arg("--version").output().is_err() {
        eprintln!("SKIPPED: wrk is not installed (apt-get install wrk)");
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let catalog = Catalog::builtin().unwrap();
        let state = generate_org(&catalog, Workload::REFERENCE).unwrap();
        let store = Store::open_data_dir(dir.path()).await.unwrap();
        warden_testing::store_generated_org(&store, &catalog, &state)
            .await
            .unwrap();
        let service = Service::open(store, catalog.clone(), Settings::default())
            .await
            .unwrap();
        let admin = state.org.default_admin.clone();
        let (compiled, token, _) = service
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
        // Token authentication: format and checksum, SHA-256, index look-ups, expiry and
        // user checks, as every request pays it.
        let mut auth: Vec<f64> = Vec::with_capacity(100_000);
        for _ in 0..100_000 {
            let t = std::time::Instant::now();
            std::hint::black_box(service.authenticate(&token).await.unwrap());
            auth.push(t.elapsed().as_nanos() as f64);
        }
        auth.sort_by(f64::total_cmp);
        println!(
            "token authentication: p50 {:.0} ns, p99 {:.0} ns",
            auth[auth.len() / 2],
            auth[auth.len() * 99 / 100]
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = warden_server::app(service.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

        // The baseline: a bare axum handler answering a POST with one hash-map look-up.
        let table: Arc<HashMap<String, bool>> = Arc::new(
            state
                .users
                .keys()
                .map(|u| (u.to_string(), true))
                .collect(),
        );
        let bare_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let bare_base = format!("http://{}", bare_listener.local_addr().unwrap());
        let first_user = state.users.keys().next().unwrap().to_string();
        let bare = axum::Router::new().route(
            "/v1/authz/check",
            axum::routing::post(move |_body: axum::body::Bytes| {
                let table = table.clone();
                let user = first_user.clone();
                async move { if table.contains_key(&user) { "{\"allowed\":true}" } else { "{}" } }
            }),
        );
        tokio::spawn(async move { axum::serve(bare_listener, bare).await.unwrap() });

        println!(
            "reference org: {} users, {} groups, {} policies; wrk -t1 -c{CONNECTIONS} -d{SECONDS}s on the same 2 cores",
            state.users.len(),
            state.groups.len(),
            state.policies.len()
        );
        let mut baseline = None;
        for (label, per_call, target) in [("bare axum handler", 1usize, &bare_base), ("check", 1, &base), ("check", 100, &base)] {
            let script = dir.path().join(format!("{}-{per_call}.lua", label.len()));
            std::fs::write(
                &script,
                lua(&token, &bodies(&state, &compiled.snapshot, &catalog, per_call)),
            )
            .unwrap();
            let target = target.clone();
            let result = tokio::task::spawn_blocking(move || run_wrk(&target, &script))
                .await
                .unwrap();
            match result {
                Some((rps, errors, p50, p99)) => {
                    let ratio = match baseline {
                        None => {
                            baseline = Some(rps);
                            String::new()
                        }
                        Some(bare) if per_call == 1 => format!(", {:.0}% of the bare handler", rps / bare * 100.0),
                        Some(_) => String::new(),
                    };
                    println!(
                        "{label}, {per_call:>3} question(s) per call: {rps:>9.0} requests/s, {:>10.0} decisions/s, latency p50 {p50} µs, p99 {p99} µs, {errors} errors{ratio}",
                        rps * per_call as f64
                    )
                }
                None => println!("{label}, {per_call} question(s) per call: wrk failed"),
            }
        }
    });
}
