//! The harness every area's tests share.

mod server;

use serde_json::Value;
pub use server::*;

/// `body` is a problem document with this status and code.
pub fn assert_problem(status: u16, body: &Value, want_status: u16, code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], want_status);
    assert_eq!(body["type"], format!("urn:warden:problem:{code}"));
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    assert!(body["request_id"].as_str().is_some_and(|d| !d.is_empty()));
}

/// The problem of a refused client call, with its status and code checked.
pub fn problem_of<T: std::fmt::Debug>(
    result: Result<T, warden_client::ClientError>,
    status: u16,
    code: &str,
) -> warden_client::model::Problem {
    match result {
        Err(warden_client::ClientError::Api(p)) => {
            assert_eq!((p.status, p.code.as_str()), (status, code), "{p:?}");
            assert!(!p.detail.is_empty() && !p.request_id.is_empty(), "{p:?}");
            *p
        }
        other => panic!("expected {status} {code}, got {other:?}"),
    }
}

/// Runs `test` against a server on SQLite, then against one on PostgreSQL (which must be
/// there when `CI=true`): both backends pass the same rules.
pub async fn on_both_backends<F, Fut>(test: F)
where
    F: Fn(Server) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    on_both_backends_with(settings, test).await;
}

/// [`on_both_backends`], with the servers' settings made by `settings`.
pub async fn on_both_backends_with<F, Fut>(settings: fn() -> warden_server::Settings, test: F)
where
    F: Fn(Server) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    test(Server::start_with(settings()).await).await;
    warden_testing::with_postgres(move |url: String| async move {
        let store = warden_store::Store::connect(&url).await.unwrap();
        let mut server = Server::start_on(store, None, settings()).await;
        server.db_url = Some(url);
        test(server).await;
    })
    .await;
}
