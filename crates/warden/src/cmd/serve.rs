//! `warden serve`, and what every command that opens the store shares: where the database
//! is, logging, and opening the service over it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use warden_core::ErrorCode;
use warden_server::service::LinkKey;
use warden_server::{AuthFailureLimit, Limits, Mailer, Service, ServiceError, Settings};
use warden_store::Store;

use crate::cmd::mail::{self, MailArgs, MailSetup};
use crate::output::{out, CliError};

const DATA_DIR_ENV: &str = "WARDEN_DATA_DIR";
const DATABASE_URL_ENV: &str = "WARDEN_DATABASE_URL";
const MAIL_DIR_ENV: &str = "WARDEN_MAIL_DIR";
const DEFAULT_DATA_DIR: &str = "./data";
/// The mail directory's name under the data directory.
const OUTBOX_DIR: &str = "outbox";

// `warden serve`'s options (its description is the `Serve` command's).
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the chosen address is printed).
    #[arg(
        long,
        env = "WARDEN_LISTEN",
        default_value = "127.0.0.1:8080",
        value_name = "ADDR"
    )]
    pub listen: String,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Without --smtp-host: directory the server writes the emails it sends into (e.g. "a
    /// personal access token was created for your account"), one RFC 5322 `.eml` file per
    /// message; created if missing. [env: WARDEN_MAIL_DIR] [default: <data dir>/outbox,
    /// <data dir> being --data-dir, WARDEN_DATA_DIR or ./data, also when the database is a URL]
    #[arg(long, value_name = "DIR")]
    pub mail_dir: Option<PathBuf>,
    #[command(flatten)]
    pub mail: MailArgs,
    /// Failed authentications allowed per client address per minute (also the burst); past
    /// it the address gets 429 with `Retry-After`. 0 turns the limit off.
    #[arg(
        long,
        env = "WARDEN_MAX_FAILED_AUTH_PER_MINUTE",
        default_value_t = 600,
        value_name = "N"
    )]
    pub max_failed_auth_per_minute: u32,
    /// The address users reach this server at, for the links in emails (invitations).
    /// [default: http://<the address it listens on>]
    #[arg(long, env = "WARDEN_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// How long an invitation's link works: `<N>d`, `<N>h` or `<N>m`.
    #[arg(long, env = "WARDEN_INVITATION_TTL", default_value = "7d", value_parser = parse_ttl, value_name = "DURATION")]
    pub invitation_ttl: std::time::Duration,
    /// The file of the key invitation links are made with (64 hex digits; created, mode
    /// 0600, if missing). Servers sharing a database must share it. [env:
    /// WARDEN_LINK_KEY_FILE] [default: <data dir>/link.key]
    #[arg(long, value_name = "FILE")]
    pub link_key_file: Option<PathBuf>,
    /// Log lines on stderr as text, or as one JSON object per line (for a log collector).
    #[arg(
        long,
        env = "WARDEN_LOG_FORMAT",
        value_enum,
        default_value = "text",
        value_name = "FORMAT"
    )]
    pub log_format: LogFormat,
}

/// How `warden serve` writes its log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Where the database is, for the commands that open it directly.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Directory of the embedded SQLite database (`<DIR>/warden.db`, created if missing).
    /// [env: WARDEN_DATA_DIR] [default: ./data]
    #[arg(long, value_name = "DIR", conflicts_with = "database_url")]
    pub data_dir: Option<PathBuf>,
    /// Database URL (`sqlite://path/to/file.db` or `postgres://user:pass@host/db`); takes
    /// precedence over the data directory. [env: WARDEN_DATABASE_URL]
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

/// An environment variable, if set and not blank.
fn non_blank(env: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    env(name).filter(|v| !v.trim().is_empty())
}

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
        if let Some(url) = &args.database_url {
            return Location::Url(url.clone());
        }
        if let Some(dir) = &args.data_dir {
            return Location::DataDir(dir.clone());
        }
        if let Some(url) = non_blank(&env, DATABASE_URL_ENV) {
            return Location::Url(url);
        }
        Location::DataDir(data_dir(args, &env))
    }

    /// For messages: a URL's password is masked.
    pub fn describe(&self) -> String {
        match self {
            Location::Url(url) => warden_store::redact_url(url),
            Location::DataDir(dir) => format!("{}", dir.join("warden.db").display()),
        }
    }

    pub async fn open(&self) -> Result<Store, CliError> {
        let opened = match self {
            Location::Url(url) => Store::connect(url).await,
            Location::DataDir(dir) => Store::open_data_dir(dir).await,
        };
        opened.map_err(|e| {
            CliError::message(format!(
                "cannot open the database at {}: {}",
                self.describe(),
                redact_in(&e.to_string(), self)
            ))
        })
    }
}

/// The data directory the options name (`--data-dir`, `WARDEN_DATA_DIR`, `./data`), whether
/// or not the database is in it.
fn data_dir(args: &StoreArgs, env: &impl Fn(&str) -> Option<String>) -> PathBuf {
    args.data_dir.clone().unwrap_or_else(|| {
        PathBuf::from(non_blank(env, DATA_DIR_ENV).unwrap_or_else(|| DEFAULT_DATA_DIR.into()))
    })
}

/// `7d`, `12h`, `30m`: a lifetime of at least a minute and at most a year.
fn parse_ttl(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}`: expected <N>d, <N>h or <N>m, such as 7d"))?;
    let seconds = match unit {
        "d" => n.saturating_mul(86_400),
        "h" => n.saturating_mul(3_600),
        "m" => n.saturating_mul(60),
        _ => return Err(format!("`{text}`: expected <N>d, <N>h or <N>m, such as 7d")),
    };
    if !(60..=366 * 86_400).contains(&seconds) {
        return Err(format!("`{text}`: must be between 1m and 366d"));
    }
    Ok(std::time::Duration::from_secs(seconds))
}

/// The link key file: `--link-key-file`, else `WARDEN_LINK_KEY_FILE`, else `link.key` in
/// the data directory (also when the database is elsewhere).
fn link_key_file(args: &ServeArgs, env: impl Fn(&str) -> Option<String>) -> PathBuf {
    if let Some(file) = &args.link_key_file {
        return file.clone();
    }
    if let Some(file) = non_blank(&env, "WARDEN_LINK_KEY_FILE") {
        return PathBuf::from(file);
    }
    data_dir(&args.store, &env).join("link.key")
}

/// Where `warden serve` writes emails: `--mail-dir`, else `WARDEN_MAIL_DIR`, else the
/// `outbox` directory under the data directory (also when the database is elsewhere).
pub fn mail_dir(args: &ServeArgs, env: impl Fn(&str) -> Option<String>) -> PathBuf {
    if let Some(dir) = &args.mail_dir {
        return dir.clone();
    }
    if let Some(dir) = non_blank(&env, MAIL_DIR_ENV) {
        return PathBuf::from(dir);
    }
    let data = match Location::resolve(&args.store, &env) {
        Location::DataDir(dir) => dir,
        Location::Url(_) => data_dir(&args.store, &env),
    };
    data.join(OUTBOX_DIR)
}

/// Masks the URL's password wherever an error message repeats the URL.
fn redact_in(message: &str, location: &Location) -> String {
    match location {
        Location::Url(url) => message.replace(url.as_str(), &warden_store::redact_url(url)),
        Location::DataDir(_) => message.to_string(),
    }
}

/// Logs to standard error, filtered by `RUST_LOG` (default: `default`).
pub fn init_logging(default: &str) {
    init_logging_as(default, LogFormat::Text);
}

/// Logging to stderr in `format`, at `RUST_LOG`'s level or `default`.
pub fn init_logging_as(default: &str, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
    };
}

/// Opens the store the options name and loads every organization from it.
pub async fn open_service(store: &StoreArgs, settings: Settings) -> Result<Arc<Service>, CliError> {
    open_service_as(store, || Ok(settings), false).await
}

/// Opens the store the options name; with `lazily`, returns once the organizations and
/// tokens are known and loads the organizations in the background.
/// `settings` are made once the store is open, so a database that cannot be opened is the
/// error reported, before anything else the settings need (the link key file in the data
/// directory).
async fn open_service_as(
    store: &StoreArgs,
    settings: impl FnOnce() -> Result<Settings, CliError>,
    lazily: bool,
) -> Result<Arc<Service>, CliError> {
    // The program refuses to start on an invalid catalog.
    let catalog = warden_core::Catalog::builtin()
        .map_err(|e| CliError::message(format!("the built-in role catalog is invalid: {e}")))?;
    let location = Location::resolve(store, |name| std::env::var(name).ok());
    let store = location.open().await?;
    tracing::debug!(database = %location.describe(), "database opened");
    let settings = settings()?;
    let opened = if lazily {
        Service::open_lazily(store, catalog, settings).await
    } else {
        Service::open(store, catalog, settings).await
    };
    opened.map_err(|e| {
        CliError::message(format!(
            "cannot load the organizations from {}: {}",
            location.describe(),
            redact_in(&e.to_string(), &location)
        ))
    })
}

/// A service error met locally: its stable code and full message (internal errors included,
/// since the operator is the one running the command). A refused command of a batch is
/// reported as itself.
pub fn service_error(e: &ServiceError) -> CliError {
    let detail = match e {
        ServiceError::Batch(batch) => batch.error.to_string(),
        other => other.to_string(),
    };
    CliError::message(format!("{}: {detail}", e.error_code().name()))
}

/// `warden serve`.
pub async fn run(args: ServeArgs) -> Result<(), CliError> {
    init_logging_as("info", args.log_format);
    let env = |name: &str| std::env::var(name).ok();
    let mail = mail::resolve(&args.mail, mail_dir(&args, env), env)?;
    let listen = &args.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| CliError::message(format!("cannot listen on {listen}: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::message(format!("cannot listen on {listen}: {e}")))?;
    let key_file = link_key_file(&args, env);
    let settings = || -> Result<Settings, CliError> {
        let link_key = LinkKey::load_or_create(&key_file).map_err(|e| {
            CliError::message(format!(
                "cannot read or create the link key file {}: {e}",
                key_file.display()
            ))
        })?;
        Ok(Settings {
            mailer: Some(mail.mailer.clone()),
            mail_from: mail.from.clone(),
            auth_failure_limit: (args.max_failed_auth_per_minute > 0).then(|| AuthFailureLimit {
                burst: args.max_failed_auth_per_minute,
                per_second: f64::from(args.max_failed_auth_per_minute) / 60.0,
            }),
            public_url: args
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{addr}")),
            invitation_ttl: args.invitation_ttl,
            link_key,
            ..Settings::default()
        })
    };
    let service = open_service_as(&args.store, settings, true).await?;
    let served = serve_on(&service, listener, addr, &mail).await;
    if let Err(e) = service.flush_token_usage().await {
        tracing::warn!(error = %e, "token usage flush failed");
    }
    service.store().close().await;
    served
}

/// Serves on `listener` until interrupted or terminated.
async fn serve_on(
    service: &Arc<Service>,
    listener: tokio::net::TcpListener,
    addr: std::net::SocketAddr,
    mail: &MailSetup,
) -> Result<(), CliError> {
    if let Mailer::Directory(dir) = &mail.mailer {
        create_mail_dir(dir)?;
    }
    tracing::info!(
        %addr,
        organizations_loaded = service.org_ids().len(),
        "warden started"
    );
    tracing::info!("{}", mail.describe());
    out(&format!("warden listening on http://{addr}\n"));
    let stop = async {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => tracing::info!("interrupted, stopping"),
            () = terminated() => tracing::info!("SIGTERM received, stopping"),
        }
    };
    warden_server::serve(Arc::clone(service), listener, Limits::default(), stop)
        .await
        .map_err(|e| CliError::message(format!("the server stopped: {e}")))
}

/// Makes the mail directory, so a bad `--mail-dir` stops the start rather than every email.
fn create_mail_dir(dir: &Path) -> Result<(), CliError> {
    std::fs::create_dir_all(dir).map_err(|e| {
        CliError::message(format!(
            "cannot create the mail directory {}: {e}",
            dir.display()
        ))
    })
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

    fn serve(dir: Option<&str>, url: Option<&str>, mail: Option<&str>) -> ServeArgs {
        ServeArgs {
            listen: "127.0.0.1:0".into(),
            store: args(dir, url),
            mail_dir: mail.map(PathBuf::from),
            mail: MailArgs::default(),
            max_failed_auth_per_minute: 600,
            public_url: None,
            invitation_ttl: std::time::Duration::from_secs(7 * 86_400),
            link_key_file: None,
            log_format: LogFormat::Text,
        }
    }

    #[test]
    fn invitation_lifetimes_are_days_hours_or_minutes() {
        assert_eq!(
            parse_ttl("7d"),
            Ok(std::time::Duration::from_secs(7 * 86_400))
        );
        assert_eq!(
            parse_ttl("12h"),
            Ok(std::time::Duration::from_secs(12 * 3_600))
        );
        assert_eq!(parse_ttl("30m"), Ok(std::time::Duration::from_secs(1_800)));
        for bad in ["", "7", "d", "0m", "7w", "400d", "-1d"] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_link_key_lives_in_the_data_directory_unless_told_otherwise() {
        let none = env(&[]);
        assert_eq!(
            link_key_file(&serve(Some("/d"), None, None), &none),
            PathBuf::from("/d/link.key")
        );
        let set = env(&[("WARDEN_LINK_KEY_FILE", "/etc/warden/link.key")]);
        assert_eq!(
            link_key_file(&serve(Some("/d"), None, None), &set),
            PathBuf::from("/etc/warden/link.key")
        );
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
    fn mail_dir_precedence() {
        let none = env(&[]);
        // The flag beats the environment, which beats the data directory's outbox.
        let mail = env(&[
            ("WARDEN_MAIL_DIR", "/env/mail"),
            ("WARDEN_DATA_DIR", "/env/dir"),
        ]);
        assert_eq!(
            mail_dir(&serve(Some("/d"), None, Some("/flag/mail")), &mail),
            PathBuf::from("/flag/mail")
        );
        assert_eq!(
            mail_dir(&serve(Some("/d"), None, None), &mail),
            PathBuf::from("/env/mail")
        );
        assert_eq!(
            mail_dir(&serve(Some("/d"), None, None), &none),
            PathBuf::from("/d/outbox")
        );
        assert_eq!(
            mail_dir(&serve(None, None, None), &none),
            PathBuf::from("./data/outbox")
        );
        // With a database URL: ./data/outbox, unless WARDEN_DATA_DIR names a directory.
        assert_eq!(
            mail_dir(&serve(None, Some("postgres://db/w"), None), &none),
            PathBuf::from("./data/outbox")
        );
        let dir = env(&[("WARDEN_DATA_DIR", "/env/dir"), ("WARDEN_MAIL_DIR", " ")]);
        assert_eq!(
            mail_dir(&serve(None, Some("postgres://db/w"), None), &dir),
            PathBuf::from("/env/dir/outbox")
        );
        let url = env(&[("WARDEN_DATABASE_URL", "sqlite:///x.db")]);
        assert_eq!(
            mail_dir(&serve(None, None, None), &url),
            PathBuf::from("./data/outbox")
        );
    }

    #[test]
    fn messages_about_a_database_never_show_its_password() {
        let location = Location::Url("postgres://warden:s3cret@db:5432/warden".into());
        assert_eq!(location.describe(), "postgres://warden:***@db:5432/warden");
        let message = "cannot reach postgres://warden:s3cret@db:5432/warden: refused";
        assert_eq!(
            redact_in(message, &location),
            "cannot reach postgres://warden:***@db:5432/warden: refused"
        );
    }
}
