//! HTTP throughput of `POST /v1/authz/check` and of the Kubernetes webhooks on the reference
//! organization of spec section 11.
//!
//! `cargo bench -p warden-server --bench http` starts Warden in this process on a loopback
//! port (SQLite in a temporary directory), loads the reference organization (10,000 users,
//! 1,000 groups, 200 policies; plus 20 namespaces where 500 users each hold keys, and a
//! cluster with a webhook credential), and drives it with `wrk` (Debian package `wrk`, `-t1
//! -c64`, keep-alive) for a bounded time: first a bare axum handler doing one hash-map look-up
//! (the spec's baseline), then single checks, batches of 100, SubjectAccessReviews
//! (`/k8s/authorize`) and TokenReviews (`/k8s/authenticate`). Prints requests/s, decisions/s,
//! latency percentiles and the ratio to the baseline (and the webhooks' to the single check).
//! Skips with a message when `wrk` is absent.
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

use warden_core::command::{ClusterCommand, Key, TokenLifetime};
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

/// SubjectAccessReviews as a kube-apiserver sends them: users of the organization asking for
/// namespaced requests (some in namespaces where they hold keys, some not).
fn access_reviews(state: &OrgState) -> Vec<String> {
    let users: Vec<(&str, &str)> = state
        .users
        .values()
        .map(|u| (&*u.email, u.id.as_str()))
        .collect();
    let namespaces: Vec<&str> = state.namespaces.values().map(|n| n.name.as_str()).collect();
    let org = &state.org.id;
    let requests = [
        ("get", "", "pods"),
        ("list", "", "configmaps"),
        ("create", "apps", "deployments"),
        ("delete", "batch", "jobs"),
        ("create", "", "pods"),
    ];
    let mut rng = SplitMix(13);
    (0..512)
        .map(|_| {
            let (user, uid) = users[rng.below(users.len())];
            let ns = namespaces[rng.below(namespaces.len())];
            let (verb, group, resource) = requests[rng.below(requests.len())];
            format!(
                r#"{{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{{"resourceAttributes":{{"namespace":"{ns}","verb":"{verb}","group":"{group}","version":"v1","resource":"{resource}"}},"user":"warden:{org}:user:{user}","groups":["warden:{org}","system:authenticated"],"uid":"{uid}"}}}}"#
            )
        })
        .collect()
}

fn lua(token: &str, bodies: &[String]) -> String {
    lua_for("/v1/authz/check", token, bodies)
}

fn lua_for(path: &str, token: &str, bodies: &[String]) -> String {
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
        &format!("request = function()\n  i = i + 1\n  return wrk.format(nil, \"{path}\", nil, bodies[(i % #bodies) + 1])\nend\n"),
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

/// 20 namespaces, in each of which 500 users hold keys (a few of them write keys).
fn with_namespaces(state: &mut OrgState) {
    use warden_core::{Namespace, NamespaceGrant, NamespaceId};
    let users: Vec<_> = state.users.keys().cloned().collect();
    let keys = ["r:full", "w:deployments", "w:jobs", "w:configmaps"];
    let mut rng = SplitMix(17);
    for n in 0..20 {
        let namespace = Namespace {
            id: NamespaceId::from(format!("ns_bench{n:02}")),
            name: format!("team-{n:02}"),
            created_at: NOW,
        };
        for _ in 0..500 {
            let user = users[rng.below(users.len())].clone();
            let key = keys[rng.below(keys.len())];
            state.namespace_grants.insert(NamespaceGrant {
                namespace: namespace.id.clone(),
                user,
                key: key.to_string(),
            });
        }
        state.namespaces.insert(namespace.id.clone(), namespace);
    }
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
        let mut state = generate_org(&catalog, Workload::REFERENCE).unwrap();
        with_namespaces(&mut state);
        let store = Store::open_data_dir(dir.path()).await.unwrap();
        warden_testing::store_generated_org(&store, &catalog, &state)
            .await
            .unwrap();
        let service = Service::open(store, catalog.clone(), Settings::default())
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
        let org = state.org.id.clone();
        service
            .execute(
                &org,
                &Actor::System,
                ClusterCommand::Create {
                    name: "prod".into(),
                    api_server_url: "https://prod.example.com".into(),
                    ca_bundle: String::new(),
                }
                .into(),
            )
            .await
            .unwrap();
        let (_, webhook, _) = service
            .issue_webhook_credential(&org, &Actor::System, None, Key::from("prod"))
            .await
            .unwrap();
        let compiled = service.compiled(&org).unwrap();
        let state = compiled.state().as_ref().clone();
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
        let mut single_check = None;
        let reviews = access_reviews(&state);
        // What the reviews ask, decided in process: the mix the HTTP figures are for.
        let (mut allowed, mut denied) = (0, 0);
        for body in &reviews {
            let review: warden_core::k8s::SubjectAccessReview = serde_json::from_str(body).unwrap();
            let cluster = state.clusters.keys().next().unwrap();
            let verdict = warden_core::k8s::authorize(&compiled.snapshot, cluster, &review.spec, NOW);
            allowed += usize::from(verdict.allowed);
            denied += usize::from(verdict.denied);
        }
        println!(
            "SubjectAccessReviews: {allowed} allowed, {denied} denied, {} no opinion of {}",
            reviews.len() - allowed - denied,
            reviews.len()
        );
        let token_reviews: Vec<String> = (0..512)
            .map(|_| format!(r#"{{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{{"token":"{token}"}}}}"#))
            .collect();
        for (label, per_call, target) in [
            ("bare axum handler", 1usize, &bare_base),
            ("check", 1, &base),
            ("check", 100, &base),
            ("SubjectAccessReview", 1, &base),
            ("TokenReview", 1, &base),
        ] {
            let script = dir.path().join(format!("{}-{per_call}.lua", label.len()));
            let text = match label {
                "SubjectAccessReview" => lua_for("/k8s/authorize", &webhook, &reviews),
                "TokenReview" => lua_for("/k8s/authenticate", &webhook, &token_reviews),
                _ => lua(&token, &bodies(&state, &compiled.snapshot, &catalog, per_call)),
            };
            std::fs::write(&script, text).unwrap();
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
                        Some(bare) if per_call == 1 => {
                            let of_check = match single_check {
                                None => {
                                    single_check = Some(rps);
                                    String::new()
                                }
                                Some(check) => format!(", {:.0}% of the single check", rps / check * 100.0),
                            };
                            format!(", {:.0}% of the bare handler{of_check}", rps / bare * 100.0)
                        }
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
