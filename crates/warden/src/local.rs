//! The commands that open the database themselves: `serve` and `org create`.

use std::path::PathBuf;
use std::sync::Arc;

use warden_core::command::{FirstUser, TokenLifetime};
use warden_core::{Actor, Command, GroupId, OrgId, UserId};
use warden_server::{ApiError, Settings, Warden};
use warden_store::Store;

use crate::cli::{OrgAddUserArgs, OrgCreateArgs, Output, ServeArgs, StoreArgs};
use crate::commands::{out, CliError};
use crate::table;

const DATA_DIR_ENV: &str = "WARDEN_DATA_DIR";
const DATABASE_URL_ENV: &str = "WARDEN_DATABASE_URL";
const DEFAULT_DATA_DIR: &str = "./data";

/// Where the database is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Url(String),
    DataDir(PathBuf),
}

impl Location {
    /// Resolves the options: a flag beats an environment variable, which beats the default;
    /// at the same level a database URL beats a data directory.
    pub fn resolve(args: &StoreArgs, env: impl Fn(&str) -> Option<String>) -> Location {
        let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        if let Some(url) = &args.database_url {
            return Location::Url(url.clone());
        }
        if let Some(dir) = &args.data_dir {
            return Location::DataDir(dir.clone());
        }
        if let Some(url) = env(DATABASE_URL_ENV) {
            return Location::Url(url);
        }
        Location::DataDir(PathBuf::from(
            env(DATA_DIR_ENV).unwrap_or_else(|| DEFAULT_DATA_DIR.to_string()),
        ))
    }

    /// For messages: a URL's password is masked.
    pub fn describe(&self) -> String {
        match self {
            Location::Url(url) => redact_url(url),
            Location::DataDir(dir) => format!("{}", dir.join("warden.db").display()),
        }
    }

    pub async fn open(&self) -> Result<Store, CliError> {
        let opened = match self {
            Location::Url(url) => Store::connect(url).await,
            Location::DataDir(dir) => Store::open_data_dir(dir).await,
        };
        opened.map_err(|e| {
            CliError::Message(format!(
                "cannot open the database at {}: {}",
                self.describe(),
                redact_in(&e.to_string(), self)
            ))
        })
    }
}

/// Masks the password of `scheme://user:password@host/...`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// Masks the URL's password wherever an error message repeats the URL.
fn redact_in(message: &str, location: &Location) -> String {
    match location {
        Location::Url(url) => message.replace(url.as_str(), &redact_url(url)),
        Location::DataDir(_) => message.to_string(),
    }
}

/// Logs to standard error, filtered by `RUST_LOG` (default: `default`).
pub fn init_logging(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

async fn open_warden(store: &StoreArgs) -> Result<Arc<Warden>, CliError> {
    // The program refuses to start on an invalid catalog.
    let catalog = warden_core::Catalog::builtin()
        .map_err(|e| CliError::Message(format!("the built-in role catalog is invalid: {e}")))?;
    let location = Location::resolve(store, |name| std::env::var(name).ok());
    let store = location.open().await?;
    tracing::debug!(database = %location.describe(), "database opened");
    Warden::open(store, catalog, Settings::default())
        .await
        .map_err(|e| {
            CliError::Message(format!(
                "cannot load the organizations from {}: {}",
                location.describe(),
                redact_in(&e.to_string(), &location)
            ))
        })
}

/// `warden serve`.
pub async fn serve(args: ServeArgs) -> Result<(), CliError> {
    init_logging("info");
    let warden = open_warden(&args.store).await?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|e| CliError::Message(format!("cannot listen on {}: {e}", args.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::Message(format!("cannot listen on {}: {e}", args.listen)))?;
    tracing::info!(%addr, organizations = warden.org_ids().len(), "warden started");
    out(&format!("warden listening on http://{addr}\n"));
    let stop = async {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => tracing::info!("interrupted, stopping"),
            () = terminated() => tracing::info!("SIGTERM received, stopping"),
        }
    };
    let served = warden_server::serve(Arc::clone(&warden), listener, stop).await;
    if let Err(e) = warden.flush_token_usage().await {
        tracing::warn!(error = %e, "token usage flush failed");
    }
    warden.store().close().await;
    served.map_err(|e| CliError::Message(format!("the server stopped: {e}")))
}

/// Resolves when the process gets SIGTERM (never, where there is no such signal).
async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            term.recv().await;
            return;
        }
    }
    std::future::pending::<()>().await
}

/// `warden org create`.
pub async fn create_org(args: OrgCreateArgs, output: Output) -> Result<(), CliError> {
    init_logging("warn");
    let lifetime = parse_lifetime(&args.token_expires_in)?;
    let warden = open_warden(&args.store).await?;
    let first = FirstUser {
        email: args.email.clone(),
        first_name: args.first_name.clone(),
        last_name: args.last_name.clone(),
    };
    let created = warden
        .create_organization(&args.name, first, lifetime)
        .await;
    warden.store().close().await;
    let (view, secret, token_id) = created.map_err(|e| api_error(&e))?;
    let state = view.state();
    let admin_id = state.org.default_admin.0.clone();
    let admin_email = state
        .users
        .get(&state.org.default_admin)
        .map(|u| u.email.clone())
        .unwrap_or_else(|| args.email.clone());
    let expires_at = state.tokens.get(&token_id).and_then(|t| t.expires_at);
    match output {
        Output::Json => {
            crate::commands::print_json(&CreatedOrg {
                organization_id: &state.org.id.0,
                organization_name: &state.org.name,
                admin_user_id: &admin_id,
                admin_email: &admin_email,
                token_id: &token_id.0,
                token_expires_at: expires_at.map(|t| t.0),
                token: &secret,
            })?;
        }
        Output::Table => {
            let mut text = String::from("Organization created.\n\n");
            text.push_str(&table::details(&[
                ("Organization id", state.org.id.0.clone()),
                ("Organization name", state.org.name.clone()),
                ("Admin user id", admin_id),
                ("Admin email", admin_email),
                ("Token id", token_id.0.clone()),
                (
                    "Token expires",
                    table::optional_time(expires_at.map(|t| t.0), "never"),
                ),
                ("Token", secret),
            ]));
            text.push_str(
                "\nSave the token now: it will not be shown again. Use it with \
                 `--token` or WARDEN_TOKEN.\n",
            );
            out(&text);
        }
    }
    Ok(())
}

fn parse_lifetime(text: &str) -> Result<TokenLifetime, CliError> {
    TokenLifetime::parse(text).ok_or_else(|| {
        CliError::Message(format!(
            "invalid token lifetime `{text}`: use {}",
            TokenLifetime::NAMES.join(", ")
        ))
    })
}

/// `warden org add-user`: a platform operation, so it acts as the system.
pub async fn add_user(args: OrgAddUserArgs, output: Output) -> Result<(), CliError> {
    init_logging("warn");
    let lifetime = parse_lifetime(&args.token_expires_in)?;
    let warden = open_warden(&args.store).await?;
    let result = add_user_to(&warden, &args, lifetime).await;
    warden.store().close().await;
    let (user, email, groups, secret, token, expires_at, revision) = result?;
    match output {
        Output::Json => crate::commands::print_json(&serde_json::json!({
            "organization_id": args.org,
            "user_id": user.0,
            "email": email,
            "groups": groups,
            "token_id": token,
            "token_expires_at": expires_at,
            "token": secret,
            "revision": revision,
        }))?,
        Output::Table => {
            let mut text = String::from("User added.\n\n");
            text.push_str(&table::details(&[
                ("Organization id", args.org.clone()),
                ("User id", user.0.clone()),
                ("Email", email),
                ("Groups", groups.join(", ")),
                ("Token id", token),
                ("Token expires", table::optional_time(expires_at, "never")),
                ("Token", secret),
                ("Revision", revision.to_string()),
            ]));
            text.push_str("\nHand the token to the user now: it will not be shown again.\n");
            out(&text);
        }
    }
    Ok(())
}

/// User id, email, group names, token secret, token id, token expiry, revision.
type AddedUser = (
    UserId,
    String,
    Vec<String>,
    String,
    String,
    Option<i64>,
    u64,
);

async fn add_user_to(
    warden: &Warden,
    args: &OrgAddUserArgs,
    lifetime: TokenLifetime,
) -> Result<AddedUser, CliError> {
    let org = OrgId(args.org.clone());
    let view = warden
        .view(&org)
        .ok_or_else(|| CliError::Message(format!("no organization `{}`", args.org)))?;
    // Resolve every group before writing anything, so a typo adds no user.
    let mut groups: Vec<GroupId> = Vec::new();
    for key in &args.groups {
        let group = view
            .state()
            .groups
            .get(&GroupId(key.clone()))
            .or_else(|| view.state().group_by_name(key))
            .ok_or_else(|| CliError::Message(format!("no group `{key}` in `{}`", args.org)))?;
        groups.push(group.id.clone());
    }
    let (_, id) = warden
        .execute(
            &org,
            &Actor::System,
            Command::CreateUser {
                email: args.email.clone(),
                first_name: args.first_name.clone(),
                last_name: args.last_name.clone(),
            },
        )
        .await
        .map_err(|e| api_error(&e))?;
    let user = UserId(id);
    for group in &groups {
        warden
            .execute(
                &org,
                &Actor::System,
                Command::AddGroupMember {
                    group: group.clone(),
                    user: user.clone(),
                },
            )
            .await
            .map_err(|e| api_error(&e))?;
    }
    let (view, secret, token) = warden
        .issue_personal_token(&org, &Actor::System, &user, "initial token", "", lifetime)
        .await
        .map_err(|e| api_error(&e))?;
    let state = view.state();
    let email = state
        .users
        .get(&user)
        .map(|u| u.email.clone())
        .unwrap_or_default();
    let group_names = groups
        .iter()
        .filter_map(|g| state.groups.get(g))
        .map(|g| g.name.clone())
        .collect();
    let expires_at = state
        .tokens
        .get(&token)
        .and_then(|t| t.expires_at)
        .map(|t| t.0);
    Ok((
        user,
        email,
        group_names,
        secret,
        token.0,
        expires_at,
        view.revision(),
    ))
}

/// `org create --output json`.
#[derive(serde::Serialize)]
struct CreatedOrg<'a> {
    organization_id: &'a str,
    organization_name: &'a str,
    admin_user_id: &'a str,
    admin_email: &'a str,
    token_id: &'a str,
    /// Milliseconds since the epoch; `null` for a token that never expires.
    token_expires_at: Option<i64>,
    token: &'a str,
}

/// A server-side error met locally: its stable code and full message (internal errors
/// included, since the operator is the one running the command).
fn api_error(e: &ApiError) -> CliError {
    let (_, code, _) = e.parts();
    let detail = match e {
        ApiError::Internal(message) => message.clone(),
        other => other.to_string(),
    };
    CliError::Message(format!("{code}: {detail}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn args(dir: Option<&str>, url: Option<&str>) -> StoreArgs {
        StoreArgs {
            data_dir: dir.map(PathBuf::from),
            database_url: url.map(str::to_string),
        }
    }

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn location_precedence() {
        let none = env(&[]);
        assert_eq!(
            Location::resolve(&args(None, None), &none),
            Location::DataDir("./data".into())
        );
        let both = env(&[
            ("WARDEN_DATA_DIR", "/env/dir"),
            ("WARDEN_DATABASE_URL", "sqlite:///env.db"),
        ]);
        assert_eq!(
            Location::resolve(&args(None, None), &both),
            Location::Url("sqlite:///env.db".into())
        );
        assert_eq!(
            Location::resolve(&args(Some("/flag"), None), &both),
            Location::DataDir("/flag".into())
        );
        assert_eq!(
            Location::resolve(&args(None, Some("postgres://x")), &both),
            Location::Url("postgres://x".into())
        );
        let dir_only = env(&[("WARDEN_DATA_DIR", "/env/dir"), ("WARDEN_DATABASE_URL", "")]);
        assert_eq!(
            Location::resolve(&args(None, None), &dir_only),
            Location::DataDir("/env/dir".into())
        );
    }

    #[test]
    fn passwords_are_masked() {
        assert_eq!(
            redact_url("postgres://warden:s3cret@db:5432/warden?sslmode=disable"),
            "postgres://warden:***@db:5432/warden?sslmode=disable"
        );
        assert_eq!(redact_url("postgres://db/warden"), "postgres://db/warden");
        assert_eq!(redact_url("sqlite:///tmp/a.db"), "sqlite:///tmp/a.db");
    }
}
