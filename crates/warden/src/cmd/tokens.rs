//! `warden tokens`: the caller's own personal tokens.

use clap::Subcommand;
use warden_client::model::{Principal, Token, TokenInput, TokenKind, TokenLifetime};
use warden_client::Client;

use crate::cli::{api_lifetime, Output};
use crate::output::{show, show_written, CliError};
use crate::table::{self, details, Table};

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// List your personal tokens (never their secrets).
    List,
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
    /// Revoke one of your tokens.
    Delete {
        /// Token id.
        id: String,
    },
}

pub async fn run(client: &Client, o: Output, command: TokensCommand) -> Result<(), CliError> {
    match command {
        TokensCommand::List => show(o, &client.tokens().await?, |l| token_table(&l.items)),
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
        TokensCommand::Delete { id } => {
            let w = client.delete_token(&id).await?;
            show_written(o, &w, &format!("Deleted token `{id}`"), |t| {
                token_table(std::slice::from_ref(t))
            })
        }
    }
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
