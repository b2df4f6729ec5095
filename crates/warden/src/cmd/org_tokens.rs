//! `warden org-tokens`: the organization's tokens (the legacy model), for IAM admins. Each
//! acts as its own service account in its namespaces only; one without namespaces is a blank
//! token, whose rights come only from custom RBAC bound to its Kubernetes user name. The
//! org tokens a user created keep working after they leave: `created-by` lists them and
//! `revoke-created-by` revokes them all.

use clap::Subcommand;
use warden_client::model::Token;
use warden_client::Client;

use super::tokens::{
    find, refuse_existing, show_created, token, token_table, NewTokenArgs, TokenEditArgs,
    NEW_KUBECONFIG,
};
use crate::cli::Output;
use crate::output::{show, show_written, CliError};

#[derive(Debug, Subcommand)]
pub enum OrgTokensCommand {
    /// List the organization's tokens (never their secrets).
    List,
    /// Show one org token, with the Kubernetes user name to bind custom RBAC to.
    Get {
        /// Token id, or its name.
        #[arg(value_name = "TOKEN")]
        key: String,
    },
    /// Create an org token with namespaces (none: a blank token) and print its secret
    /// (shown only this once); --kubeconfig FILE writes its kubeconfig.
    Create(NewTokenArgs),
    /// Rename, re-note or change the namespaces of an org token (never its secret).
    Update(TokenEditArgs),
    /// Delete an org token: it stops working at once.
    #[command(visible_alias = "revoke")]
    Delete {
        /// Token id, or its name.
        #[arg(value_name = "TOKEN")]
        key: String,
    },
    /// List the org tokens a user created (they keep working after the user leaves).
    CreatedBy {
        /// User id or email.
        user: String,
    },
    /// Revoke every org token a user created.
    RevokeCreatedBy {
        /// User id or email.
        user: String,
    },
}

pub async fn run(client: &Client, o: Output, command: OrgTokensCommand) -> Result<(), CliError> {
    match command {
        OrgTokensCommand::List => {
            let listed = client.org_tokens().await?;
            show(o, &listed, |l| token_table(&l.items))
        }
        OrgTokensCommand::Get { key } => {
            let id = org_token_id(client, &key).await?;
            show(o, &client.org_token(&id).await?, token)
        }
        OrgTokensCommand::Create(args) => {
            refuse_existing(args.kubeconfig.as_deref(), NEW_KUBECONFIG)?;
            let created = client.create_org_token(&args.input()).await?;
            show_created(o, &created, args.kubeconfig.as_deref())
        }
        OrgTokensCommand::Update(args) => {
            let update = args.update()?;
            let id = org_token_id(client, &args.key).await?;
            let w = client.update_org_token(&id, &update).await?;
            show_written(o, &w, "Updated", token)
        }
        OrgTokensCommand::Delete { key } => {
            let id = org_token_id(client, &key).await?;
            let w = client.delete_org_token(&id).await?;
            show(o, &w, |w| {
                format!("Deleted org token `{key}` (revision {}).\n", w.revision)
            })
        }
        OrgTokensCommand::CreatedBy { user } => {
            let listed = client.org_tokens_created_by(&user).await?;
            show(o, &listed, |l| {
                if l.items.is_empty() {
                    format!("{user} created no org token.\n")
                } else {
                    token_table(&l.items)
                }
            })
        }
        OrgTokensCommand::RevokeCreatedBy { user } => {
            let listed: Vec<Token> = client.org_tokens_created_by(&user).await?.items;
            let w = client.revoke_org_tokens_created_by(&user).await?;
            show(o, &w, |w| {
                format!(
                    "Revoked {} org token(s) {user} created (revision {}).\n",
                    listed.len(),
                    w.revision
                )
            })
        }
    }
}

/// An org token's id from its id or (unique) name.
async fn org_token_id(client: &Client, key: &str) -> Result<String, CliError> {
    let listed = client.org_tokens().await?;
    match find(&listed.items, key)? {
        Some(t) => Ok(t.id.clone()),
        None => Err(CliError::message(format!(
            "no org token `{key}`: `warden org-tokens list` shows them"
        ))),
    }
}
