//! `warden tokens`: the caller's own personal tokens, optionally narrowed to namespaces and
//! clusters, and (for IAM viewers and admins) anyone's. What creating a token prints (the
//! secret once, the kubeconfig written with mode 0600) is shared with `org_tokens.rs`.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use warden_client::model::{
    CreatedToken, Principal, ScopeItem, Token, TokenInput, TokenKind, TokenLifetime, TokenUpdate,
};
use warden_client::Client;

use crate::cli::{api_lifetime, Output};
use crate::output::{show, show_written, CliError};
use crate::table::{self, details, Table};

/// What a new token is (personal or org).
#[derive(Debug, Args)]
pub struct NewTokenArgs {
    #[arg(long, default_value = "")]
    pub name: String,
    #[arg(long, default_value = "")]
    pub note: String,
    /// Lifetime of the token (the server's default is 30d).
    #[arg(long, value_parser = api_lifetime(), value_name = "LIFETIME")]
    pub expires_in: Option<TokenLifetime>,
    /// A namespace (name or id) to narrow the token to; repeat or separate with commas.
    #[arg(long = "namespace", value_name = "NAMESPACE", value_delimiter = ',')]
    pub namespaces: Vec<String>,
    /// A cluster (name or id) the token is for; repeat or separate with commas. None: every
    /// cluster of the organization.
    #[arg(long = "cluster", value_name = "CLUSTER", value_delimiter = ',')]
    pub clusters: Vec<String>,
    /// Write the token's kubeconfig (one context per cluster) to this file, mode 0600. The
    /// file must not exist yet.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
}

impl NewTokenArgs {
    pub fn input(&self) -> TokenInput {
        TokenInput {
            name: self.name.clone(),
            note: self.note.clone(),
            expires_in: self.expires_in,
            namespaces: self.namespaces.clone(),
            clusters: self.clusters.clone(),
        }
    }
}

/// An edit of a token (personal or org): what is given changes; never the secret.
#[derive(Debug, Args)]
pub struct TokenEditArgs {
    /// Token id, or its name.
    #[arg(value_name = "TOKEN")]
    pub key: String,
    /// A new name ("" removes it).
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub note: Option<String>,
    /// The token's namespaces from now on (names or ids); repeat or separate with commas.
    #[arg(
        long = "namespace",
        value_name = "NAMESPACE",
        value_delimiter = ',',
        conflicts_with = "no_namespaces"
    )]
    pub namespaces: Vec<String>,
    /// Remove every namespace (an org token becomes a blank token; a personal token is no
    /// longer narrowed to namespaces).
    #[arg(long)]
    pub no_namespaces: bool,
    /// The token's clusters from now on; repeat or separate with commas.
    #[arg(
        long = "cluster",
        value_name = "CLUSTER",
        value_delimiter = ',',
        conflicts_with = "no_clusters"
    )]
    pub clusters: Vec<String>,
    /// Remove every cluster (the token is for every cluster of the organization).
    #[arg(long)]
    pub no_clusters: bool,
}

impl TokenEditArgs {
    pub fn update(&self) -> Result<TokenUpdate, CliError> {
        let list = |given: &[String], none: bool| {
            if none {
                Some(Vec::new())
            } else if given.is_empty() {
                None
            } else {
                Some(given.to_vec())
            }
        };
        let update = TokenUpdate {
            name: self.name.clone(),
            note: self.note.clone(),
            namespaces: list(&self.namespaces, self.no_namespaces),
            clusters: list(&self.clusters, self.no_clusters),
        };
        if update == TokenUpdate::default() {
            return Err(CliError::message(
                "nothing to change: give --name, --note, --namespace, --no-namespaces, \
                 --cluster or --no-clusters",
            ));
        }
        Ok(update)
    }
}

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// List your personal tokens, or another user's, or everyone's (never their secrets).
    List {
        /// Another user's tokens (id or email; needs IAM Viewer).
        #[arg(long, value_name = "USER", conflicts_with = "all")]
        user: Option<String>,
        /// Every user's tokens, with their owners (needs IAM Viewer).
        #[arg(long)]
        all: bool,
    },
    /// Show one of your tokens.
    Get {
        /// Token id.
        id: String,
    },
    /// Create a personal token, optionally narrowed to namespaces and clusters, and print
    /// its secret (shown only this once); --kubeconfig FILE writes its kubeconfig.
    Create(NewTokenArgs),
    /// Rename, re-note or re-scope one of your tokens (never its secret).
    Update(TokenEditArgs),
    /// Revoke a token by id or name: one of yours, or (IAM Admin) another user's.
    #[command(visible_alias = "delete")]
    Revoke {
        /// Token id, or its name when that is unique. (Not called `token`: that is the
        /// global --token option's id.)
        #[arg(value_name = "TOKEN")]
        key: String,
        /// The user whose token it is (id or email; needs IAM Admin when not you).
        #[arg(long, value_name = "USER")]
        user: Option<String>,
    },
}

pub async fn run(client: &Client, o: Output, command: TokensCommand) -> Result<(), CliError> {
    match command {
        TokensCommand::List { user, all } => {
            let listed = match (user, all) {
                (_, true) => client.all_tokens().await?,
                (Some(user), false) => client.tokens_of(&user).await?,
                (None, false) => client.tokens().await?,
            };
            show(o, &listed, |l| token_table(&l.items))
        }
        TokensCommand::Get { id } => show(o, &client.token(&id).await?, token),
        TokensCommand::Create(args) => {
            refuse_existing(args.kubeconfig.as_deref(), NEW_KUBECONFIG)?;
            let created = client.create_token(&args.input()).await?;
            show_created(o, &created, args.kubeconfig.as_deref())
        }
        TokensCommand::Update(args) => {
            let update = args.update()?;
            let listed = client.tokens().await?;
            let id = find(&listed.items, &args.key)?
                .map(|t| t.id.clone())
                .ok_or_else(|| not_found(&args.key, None))?;
            let w = client.update_token(&id, &update).await?;
            show_written(o, &w, "Updated", token)
        }
        TokensCommand::Revoke { key, user } => {
            let listed = match &user {
                Some(user) => client.tokens_of(user).await?,
                None => client.tokens().await?,
            };
            let id = match find(&listed.items, &key)? {
                Some(found) => found.id.clone(),
                // An id that is not among the caller's: an IAM admin may revoke it anyway.
                None if user.is_none() && looks_like_id(&key) => key.clone(),
                None => return Err(not_found(&key, user.as_deref())),
            };
            let w = match client.delete_token(&id).await {
                Err(e) if e.code() == Some("not_found") => {
                    return Err(not_found(&key, user.as_deref()))
                }
                other => other?,
            };
            let found = listed.items.iter().find(|t| t.id == id);
            let text = match found {
                Some(t) => format!(
                    "Revoked token `{}`{} of {} (revision {}).\n",
                    t.id,
                    if t.name.is_empty() {
                        String::new()
                    } else {
                        format!(" (\"{}\")", t.name)
                    },
                    t.owner.name,
                    w.revision
                ),
                None => format!("Revoked token `{id}` (revision {}).\n", w.revision),
            };
            show(o, &w, |_| text)
        }
    }
}

/// Refuses a kubeconfig path that exists, before any token is created: a token's secret is
/// shown once, and overwriting someone's kubeconfig would lose theirs.
/// `remedy` says what to do instead.
pub fn refuse_existing(path: Option<&Path>, remedy: &str) -> Result<(), CliError> {
    match path {
        Some(path) if path.exists() => Err(CliError::message(format!(
            "{} already exists: {remedy}",
            path.display()
        ))),
        _ => Ok(()),
    }
}

/// What to do instead of overwriting a kubeconfig.
pub const NEW_KUBECONFIG: &str = "give --kubeconfig a new file (nothing was created)";

/// Writes a file only its owner may read (mode 0600 from the start, never wider), failing
/// if it exists.
pub fn write_private_file(path: &Path, contents: &str) -> Result<(), CliError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| CliError::message(format!("cannot create {}: {e}", path.display())))?;
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| CliError::message(format!("cannot write {}: {e}", path.display())))
}

/// What creating a token prints: the token, its secret once, and where its kubeconfig went.
pub fn show_created(
    o: Output,
    created: &CreatedToken,
    kubeconfig: Option<&Path>,
) -> Result<(), CliError> {
    let wrote = match kubeconfig {
        Some(path) => match write_private_file(path, &created.kubeconfig) {
            Ok(()) => Some(path.display().to_string()),
            // The token exists now: still show its secret, then report the failure.
            Err(e) => {
                show(o, created, |c| created_text(c, None))?;
                return Err(e);
            }
        },
        None => None,
    };
    show(o, created, |c| created_text(c, wrote.as_deref()))
}

fn created_text(c: &CreatedToken, kubeconfig: Option<&str>) -> String {
    let mut text = token(&c.token);
    text.push_str(&format!("\nToken: {}\n", c.secret));
    match kubeconfig {
        Some(path) => text.push_str(&format!(
            "Kubeconfig: written to {path} (mode 0600); try `kubectl --kubeconfig {path} get pods`\n"
        )),
        None => text.push_str(
            "Kubeconfig: not saved (give --kubeconfig FILE, or read `kubeconfig` in -o json)\n",
        ),
    }
    text.push_str(
        "\nSave the token now: it will not be shown again (it is also inside the kubeconfig).\n",
    );
    text
}

/// Token ids look like `tok_...`.
fn looks_like_id(key: &str) -> bool {
    key.starts_with("tok_")
}

/// The token `key` names among `tokens`: by id, else by name (which must be unique).
pub fn find<'a>(tokens: &'a [Token], key: &str) -> Result<Option<&'a Token>, CliError> {
    if let Some(t) = tokens.iter().find(|t| t.id == key) {
        return Ok(Some(t));
    }
    let named: Vec<&Token> = tokens.iter().filter(|t| t.name == key).collect();
    match named.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        several => {
            let ids: Vec<&str> = several.iter().map(|t| t.id.as_str()).collect();
            Err(CliError::message(format!(
                "{} tokens are named `{key}`: {}; give the id",
                several.len(),
                ids.join(", ")
            )))
        }
    }
}

/// What a revoke says about a token it cannot find: where it looked, and who could do more.
pub fn not_found(key: &str, user: Option<&str>) -> CliError {
    CliError::message(match user {
        Some(user) => format!("{user} has no token `{key}`: nothing was revoked"),
        None => format!(
            "no token `{key}` among yours; an IAM admin can revoke another user's token \
             (`warden tokens revoke ID --user USER`)"
        ),
    })
}

fn kind(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::Personal => "personal",
        TokenKind::Org => "org",
        TokenKind::Scim => "scim",
    }
}

/// Scope entries by name (`(deleted) ns_...` once gone); `all` when there are none.
fn scope(items: &[ScopeItem], all: &str) -> String {
    if items.is_empty() {
        return all.to_string();
    }
    items
        .iter()
        .map(|i| match &i.name {
            Some(name) => name.clone(),
            None => format!("(deleted) {}", i.id),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a token's namespaces mean for its kind.
fn namespaces(t: &Token) -> String {
    match t.kind {
        TokenKind::Personal => scope(&t.namespaces, "all (not narrowed)"),
        TokenKind::Org => scope(
            &t.namespaces,
            "none: a blank token (bind RBAC to its Kubernetes user)",
        ),
        TokenKind::Scim => "none: SCIM provisioning only".to_string(),
    }
}

/// `user ada@example.com (usr_...)`.
fn owner(p: &Principal) -> String {
    format!("{} {} ({})", p.kind.as_str(), p.name, p.id)
}

pub fn token_table(tokens: &[Token]) -> String {
    let mut t = Table::new(&[
        "ID",
        "NAME",
        "OWNER",
        "PREFIX",
        "NAMESPACES",
        "EXPIRES",
        "LAST USED",
        "CREATED",
    ]);
    for tok in tokens {
        t.row(vec![
            tok.id.clone(),
            tok.name.clone(),
            // An org token's owner is the account made for it: say whose it is instead.
            match tok.kind {
                TokenKind::Personal => tok.owner.name.clone(),
                TokenKind::Org | TokenKind::Scim => "(organization)".to_string(),
            },
            tok.display_prefix.clone(),
            match tok.kind {
                TokenKind::Personal => scope(&tok.namespaces, "all"),
                TokenKind::Org => scope(&tok.namespaces, "(blank)"),
                TokenKind::Scim => "(SCIM)".to_string(),
            },
            table::optional_time(tok.expires_at, "never"),
            table::optional_time(tok.last_used_at, ""),
            table::time(tok.created_at),
        ]);
    }
    t.render()
}

pub fn token(t: &Token) -> String {
    details(&[
        ("ID", t.id.clone()),
        ("Kind", kind(t.kind).to_string()),
        ("Name", t.name.clone()),
        ("Note", t.note.clone()),
        ("Prefix", t.display_prefix.clone()),
        ("Owner", owner(&t.owner)),
        ("Namespaces", namespaces(t)),
        ("Clusters", scope(&t.clusters, "all")),
        ("Kubernetes user", t.kubernetes_username.clone()),
        ("Created by", t.created_by.clone()),
        ("Created", table::time(t.created_at)),
        ("Expires", table::optional_time(t.expires_at, "never")),
        ("Last used", table::optional_time(t.last_used_at, "")),
    ])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use warden_client::model::PrincipalKind;

    use super::*;

    fn token(id: &str, name: &str) -> Token {
        Token {
            id: id.into(),
            kind: TokenKind::Personal,
            owner: Principal {
                kind: PrincipalKind::User,
                id: "usr_1".into(),
                name: "bob@example.com".into(),
            },
            name: name.into(),
            note: String::new(),
            display_prefix: "wdn_pat_ab".into(),
            created_by: "usr_1".into(),
            created_at: 0,
            expires_at: None,
            last_used_at: None,
            namespaces: Vec::new(),
            clusters: Vec::new(),
            kubernetes_username: "warden:abc123:user:bob@example.com".into(),
        }
    }

    #[test]
    fn revoke_keeps_the_global_token_apart_from_the_one_it_revokes() {
        use clap::Parser;
        let cli = crate::cli::Cli::try_parse_from([
            "warden",
            "--token",
            "wdn_pat_x",
            "tokens",
            "revoke",
            "laptop",
        ])
        .unwrap();
        assert_eq!(cli.global.token.as_deref(), Some("wdn_pat_x"));
        match cli.command {
            crate::cli::Command::Tokens(TokensCommand::Revoke { key, .. }) => {
                assert_eq!(key, "laptop")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tokens_are_found_by_id_or_unique_name() {
        let tokens = [
            token("tok_1", "laptop"),
            token("tok_2", "ci"),
            token("tok_3", "ci"),
        ];
        assert_eq!(find(&tokens, "tok_2").unwrap().unwrap().id, "tok_2");
        assert_eq!(find(&tokens, "laptop").unwrap().unwrap().id, "tok_1");
        assert!(find(&tokens, "desk").unwrap().is_none());
        let ambiguous = find(&tokens, "ci").unwrap_err().to_string();
        assert_eq!(
            ambiguous,
            "2 tokens are named `ci`: tok_2, tok_3; give the id"
        );
        let text = not_found("tok_9", None).to_string();
        assert!(
            text.starts_with("no token `tok_9` among yours; an IAM admin can revoke"),
            "{text}"
        );
    }
}
