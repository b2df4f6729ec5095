//! A real Warden server on a loopback port, with an organization and its admin.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::Value;
use warden_client::model::{CheckQuestion, CheckRequest};
use warden_client::Client;
use warden_core::command::{
    FirstUser, Key, NewToken, PolicyCommand, PrincipalInput, PrincipalKind, RuleInput, ScopeInput,
    TokenCommand, TokenLifetime, UserCommand,
};
use warden_core::{Actor, Catalog, Command, OrgId, UserId};
use warden_server::service::new_personal_secret;
use warden_server::{Limits, Service, Settings};
use warden_store::Store;

pub struct Server {
    pub base: String,
    pub service: Arc<Service>,
    pub org: OrgId,
    pub admin: UserId,
    pub admin_token: String,
    /// A client acting as the admin.
    pub admin_client: Client,
    /// The database's URL, for tests that reach behind the server (set by `start` and by
    /// `on_both_backends`).
    pub db_url: Option<String>,
    http: reqwest::Client,
    task: tokio::task::JoinHandle<()>,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Settings that keep tests fast.
pub fn settings() -> Settings {
    Settings {
        revision_wait: Duration::from_millis(300),
        sync_interval: Duration::from_millis(200),
        // The suites send many bad tokens from one address on purpose; the limit has its own
        // test.
        auth_failure_limit: None,
        ..Settings::default()
    }
}

impl Server {
    /// A server on a fresh SQLite data directory.
    pub async fn start() -> Server {
        Server::start_with(settings()).await
    }

    /// A server on a fresh SQLite data directory, with `settings`.
    pub async fn start_with(settings: Settings) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_data_dir(dir.path()).await.unwrap();
        let url = format!("sqlite://{}", dir.path().join("warden.db").display());
        let mut server = Server::start_on(store, Some(dir), settings).await;
        server.db_url = Some(url);
        server
    }

    /// A server on `store`, with a new organization.
    pub async fn start_on(
        store: Store,
        dir: Option<tempfile::TempDir>,
        settings: Settings,
    ) -> Server {
        let service = Service::open(store, Catalog::builtin().unwrap(), settings)
            .await
            .unwrap();
        let (compiled, admin_token, _) = service
            .create_organization(
                "Acme",
                FirstUser {
                    email: "root@acme.test".into(),
                    first_name: "Root".into(),
                    last_name: "Admin".into(),
                },
                TokenLifetime::OneHour,
            )
            .await
            .unwrap();
        let org = compiled.state().org.id.clone();
        let admin = compiled.state().org.default_admin.clone();
        Server::serve(service, org, admin, admin_token, dir).await
    }

    /// Serves `service` (whose organization `org` already exists) on a loopback port.
    pub async fn serve(
        service: Arc<Service>,
        org: OrgId,
        admin: UserId,
        admin_token: String,
        dir: Option<tempfile::TempDir>,
    ) -> Server {
        Server::serve_within(service, org, admin, admin_token, dir, Limits::default()).await
    }

    /// Serves as [`Server::serve`], within `limits`.
    pub async fn serve_within(
        service: Arc<Service>,
        org: OrgId,
        admin: UserId,
        admin_token: String,
        dir: Option<tempfile::TempDir>,
        limits: Limits,
    ) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = warden_server::app(service.clone());
        let task = tokio::spawn(async move {
            warden_server::serve_app(app, listener, limits, std::future::pending())
                .await
                .unwrap();
        });
        Server {
            admin_client: Client::new(&base, Some(admin_token.clone())).unwrap(),
            base,
            service,
            org,
            admin,
            admin_token,
            db_url: None,
            http: reqwest::Client::new(),
            task,
            _dir: dir,
        }
    }

    /// Runs one SQL statement on the server's database behind its back (a test that tampers
    /// with rows); returns how many rows it touched.
    pub async fn tamper(&self, sql: &str) -> u64 {
        let url = self
            .db_url
            .as_deref()
            .expect("a server started with its database URL");
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(url)
            .await
            .unwrap();
        let done = sqlx::Executor::execute(&mut conn, sql).await.unwrap();
        sqlx::Connection::close(conn).await.unwrap();
        done.rows_affected()
    }

    /// A second server on this server's database, with its organization and admin: what a
    /// restart serves, e.g. after [`Server::tamper`] changed rows behind the first one's back.
    pub async fn reopen(&self) -> Server {
        let store = Store::connect(self.db_url.as_deref().expect("a database URL"))
            .await
            .unwrap();
        let service = Service::open(store, Catalog::builtin().unwrap(), settings())
            .await
            .unwrap();
        let mut server = Server::serve(
            service,
            self.org.clone(),
            self.admin.clone(),
            self.admin_token.clone(),
            None,
        )
        .await;
        server.db_url = self.db_url.clone();
        server
    }

    /// The first column of every row `sql` returns, as text, read from the server's database
    /// behind its back (what is really stored).
    pub async fn stored(&self, sql: &str) -> Vec<String> {
        use sqlx::Row;
        let url = self
            .db_url
            .as_deref()
            .expect("a server started with its database URL");
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(url)
            .await
            .unwrap();
        let rows = sqlx::query(sql).fetch_all(&mut conn).await.unwrap();
        sqlx::Connection::close(conn).await.unwrap();
        rows.iter()
            .map(|row| row.try_get::<String, _>(0).unwrap())
            .collect()
    }

    /// A client acting with `token`.
    pub fn client(&self, token: &str) -> Client {
        Client::new(&self.base, Some(token.to_string())).unwrap()
    }

    /// A client without a token (accepting an invitation).
    pub fn anonymous(&self) -> Client {
        Client::new(&self.base, None).unwrap()
    }

    /// A new platform operator, and a client acting as it.
    pub async fn operator(&self, email: &str) -> Client {
        let (_, secret) = self
            .service
            .create_operator(&Actor::System, "Test operator", email, false)
            .await
            .unwrap()
            .unwrap();
        self.client(&secret)
    }

    /// A new active user with a personal token, added in one batch as a platform operation.
    pub async fn user(&self, email: &str) -> (UserId, String) {
        let secret = new_personal_secret();
        let written = self
            .service
            .execute_all(
                &self.org,
                &Actor::System,
                vec![
                    UserCommand::Create {
                        email: email.into(),
                        first_name: String::new(),
                        last_name: String::new(),
                    }
                    .into(),
                    TokenCommand::CreatePersonal {
                        owner: Key::from(email),
                        token: NewToken {
                            name: "test".into(),
                            note: String::new(),
                            lifetime: TokenLifetime::OneHour,
                            secret_hash: secret.hash_hex,
                            display_prefix: secret.display_prefix,
                            scope: ScopeInput::default(),
                        },
                    }
                    .into(),
                ],
            )
            .await
            .unwrap();
        (UserId::from(written.target().to_string()), secret.secret)
    }

    /// Runs a command as the system; returns its target.
    pub async fn system(&self, command: impl Into<Command>) -> String {
        self.service
            .execute(&self.org, &Actor::System, command.into())
            .await
            .unwrap()
            .target()
            .to_string()
    }

    /// Grants `roles` to `user` through a policy of its own.
    pub async fn grant(&self, user: &UserId, roles: &[&str]) -> String {
        self.system(PolicyCommand::Create {
            name: format!("grant-{}-{}", user, roles.join("-")),
            description: String::new(),
            rules: vec![RuleInput {
                principal: PrincipalInput {
                    kind: PrincipalKind::User,
                    id: user.to_string(),
                },
                roles: roles.iter().map(|r| r.to_string()).collect(),
                expires_at: None,
            }],
        })
        .await
    }

    /// A raw HTTP call: the status, the body as JSON (a JSON string when it is not JSON)
    /// and the headers. For malformed input and header checks; prefer the typed client.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value, HeaderMap) {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        self.send(req).await
    }

    /// Sends a request built with [`Server::request`].
    pub async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value, HeaderMap) {
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value, headers)
    }

    /// A request to build by hand (odd bodies, headers).
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{}", self.base, path))
    }

    /// Does the engine (asked over HTTP by `token`'s holder) allow `principal` `action`?
    pub async fn check(&self, token: &str, principal: &UserId, action: &str) -> bool {
        let answer = self
            .client(token)
            .check(&CheckRequest {
                checks: vec![CheckQuestion {
                    principal: principal.to_string(),
                    action: action.into(),
                    namespace: None,
                    explain: false,
                }],
                at_least_revision: None,
            })
            .await
            .unwrap();
        answer.results[0].allowed
    }

    /// The organization's revision on this server.
    pub fn revision(&self) -> u64 {
        self.service.compiled(&self.org).unwrap().revision()
    }
}
