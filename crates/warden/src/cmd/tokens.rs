//! `warden tokens`: the caller's own personal tokens, and (for IAM viewers and admins)
//! anyone's.

use clap::Subcommand;
use warden_client::model::{Principal, Token, TokenInput, TokenKind, TokenLifetime};
use warden_client::Client;

use crate::cli::{api_lifetime, Output};
use crate::output::{show, CliError};
use crate::table::{self, details, Table};

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
    /// Create a personal token and print its secret (shown only this once).
    Create {
        #[arg(long, default_value = "")]
        name: String,
        #[arg(long, default_value = "")]
        note: String,
        /// Lifetime of the token (the server's default is 30d).
        #[arg(long, value_parser = api_lifetime(), value_name = "LIFETIME")]
        expires_in: Option<TokenLifetime>,
    },
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
        TokensCommand::Create {
            name,
            note,
            expires_in,
        } => {
            let input = TokenInput {
                name,
                note,
                expires_in,
            };
            let created = client.create_token(&input).await?;
            show(o, &created, |c| {
                let mut text = token_table(std::slice::from_ref(&c.token));
                text.push_str(&format!(
                    "\nToken: {}\n\nSave the token now: it will not be shown again.\n",
                    c.secret
                ));
                text
            })
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

/// Token ids look like `tok_...`.
fn looks_like_id(key: &str) -> bool {
    key.starts_with("tok_")
}

/// The token `key` names among `tokens`: by id, else by name (which must be unique).
fn find<'a>(tokens: &'a [Token], key: &str) -> Result<Option<&'a Token>, CliError> {
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
fn not_found(key: &str, user: Option<&str>) -> CliError {
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
    }
}

/// `user ada@example.com (usr_...)`.
fn owner(p: &Principal) -> String {
    format!("{} {} ({})", p.kind.as_str(), p.name, p.id)
}

fn token_table(tokens: &[Token]) -> String {
    let mut t = Table::new(&[
        "ID",
        "NAME",
        "OWNER",
        "PREFIX",
        "EXPIRES",
        "LAST USED",
        "CREATED",
    ]);
    for tok in tokens {
        t.row(vec![
            tok.id.clone(),
            tok.name.clone(),
            tok.owner.name.clone(),
            tok.display_prefix.clone(),
            table::optional_time(tok.expires_at, "never"),
            table::optional_time(tok.last_used_at, ""),
            table::time(tok.created_at),
        ]);
    }
    t.render()
}

fn token(t: &Token) -> String {
    details(&[
        ("ID", t.id.clone()),
        ("Kind", kind(t.kind).to_string()),
        ("Name", t.name.clone()),
        ("Note", t.note.clone()),
        ("Prefix", t.display_prefix.clone()),
        ("Owner", owner(&t.owner)),
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
