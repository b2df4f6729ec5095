//! Harnesses shared by Warden's test suites.
//!
//! [`with_postgres`] gives a test a fresh PostgreSQL database and drops it afterwards, even
//! when the test fails. The server is `WARDEN_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`). When it cannot be reached the test is skipped
//! with a loud message, or fails when `CI=true`: CI must never pass without PostgreSQL.

use std::future::Future;
use std::time::Duration;

use sqlx::{Connection, Executor, PgConnection};
use warden_core::testkit::as_created;
use warden_core::{AuditEvent, Catalog, OrgState, Outcome};
use warden_store::{Commit, Store, StoreError};

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The PostgreSQL server the suites use.
pub fn postgres_server() -> String {
    std::env::var("WARDEN_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_string())
}

/// Runs `test` with the URL of a new, empty database, dropped when the test ends (the test
/// runs in its own task, so a panic in it still drops the database and is then re-raised).
/// Returns without running the test when the server is unreachable outside CI.
pub async fn with_postgres<F, Fut>(test: F)
where
    F: FnOnce(String) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let server = postgres_server();
    let mut admin =
        match tokio::time::timeout(Duration::from_secs(10), PgConnection::connect(&server)).await {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => return unreachable_server(&server, &e.to_string()),
            Err(_) => return unreachable_server(&server, "connection timed out after 10 s"),
        };
    let name = format!("warden_t_{}", random_hex());
    if let Err(e) = admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
    {
        return unreachable_server(&server, &format!("cannot create a database: {e}"));
    }
    let url = with_database(&server, &name);
    let outcome = tokio::spawn(test(url)).await;
    let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    if let Err(e) = admin.execute(drop.as_str()).await {
        eprintln!("warning: could not drop test database {name}: {e}");
    }
    let _ = admin.close().await;
    match outcome {
        Ok(()) => {}
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // A test that did not run to its end must not pass.
        #[allow(clippy::panic)]
        Err(e) => panic!("the test task did not finish: {e}"),
    }
}

fn unreachable_server(server: &str, why: &str) {
    let server = warden_store::redact_url(server);
    if std::env::var("CI").as_deref() == Ok("true") {
        // A harness that cannot set up its database fails the test that asked for it.
        #[allow(clippy::panic)]
        {
            panic!("PostgreSQL not reachable at {server} (CI=true, so this is a failure): {why}");
        }
    }
    eprintln!(
        "\n**********\nSKIPPED: PostgreSQL not reachable at {server}: {why}\n\
         (set WARDEN_TEST_POSTGRES_URL to test the PostgreSQL backend)\n**********\n"
    );
}

/// Writes a generated organization (`warden_core::testkit::generate_org`, `generate_tenant`)
/// into `store` as one creation, with the audit event an API creation writes (its id names
/// the organization: audit ids are global keys).
pub async fn store_generated_org(
    store: &Store,
    catalog: &std::sync::Arc<Catalog>,
    state: &OrgState,
) -> Result<(), StoreError> {
    let executed = as_created(catalog, state.clone());
    let audit = AuditEvent {
        id: format!("evt_{}", state.org.id),
        org_id: state.org.id.clone(),
        at: state.org.created_at,
        actor: "system".into(),
        action: "iam.organizations.create".into(),
        target: state.org.id.to_string(),
        outcome: Outcome::Allowed,
        error_code: None,
        revision: state.revision,
        request_id: "generated".into(),
        changes: serde_json::Value::Array(Vec::new()),
    };
    let changes: Vec<_> = executed.changes().collect();
    store
        .create_organization(
            &state.org,
            state.revision,
            Commit {
                changes: &changes,
                audit: std::slice::from_ref(&audit),
                outbox: &[],
                credentials: &[],
                password_resets: &[],
            },
        )
        .await
}

/// The server URL with its database replaced by `name` (query parameters kept).
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let host_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base
        .get(host_start..)
        .and_then(|rest| rest.find('/'))
        .map(|i| host_start + i);
    let base = match path_start.and_then(|i| base.get(..i)) {
        Some(prefix) => prefix,
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

/// 64 bits of randomness from the standard library's hasher seed, a counter, the process id
/// and the time: enough to keep concurrent suites' database names apart.
pub fn random_hex() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    hasher.write_u128(now.as_nanos());
    format!("{:016x}", hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            with_database("postgres://u@h:5432/test?x=1", "d"),
            "postgres://u@h:5432/d?x=1"
        );
        assert_eq!(with_database("postgres://u@h", "d"), "postgres://u@h/d");
    }
}
