//! `warden namespaces`.

use clap::Subcommand;
use warden_client::model::{
    Namespace, NamespaceAccess, NamespaceAccessInput, NamespaceInput, NamespacePermissionsInput,
};
use warden_client::Client;

use crate::cli::{split_list, Output};
use crate::output::{show, show_written, CliError};
use crate::table::{self, details, Table};

#[derive(Debug, Subcommand)]
pub enum NamespacesCommand {
    /// List namespaces.
    List,
    /// Show one namespace with its users' permissions.
    Get {
        /// Namespace id or name.
        namespace: String,
    },
    /// Create a namespace, optionally giving users access.
    Create {
        /// Name of the new namespace.
        name: String,
        /// `USER=KEY[,KEY...]` (USER an id or email, KEYs namespace permission keys such as
        /// `r:full` or `w:deployments`); `USER` alone grants `r:full`. Repeatable.
        #[arg(long = "access", value_name = "USER=KEYS", value_parser = parse_access)]
        access: Vec<NamespaceAccessInput>,
    },
    /// Delete a namespace.
    Delete {
        /// Namespace id or name.
        namespace: String,
    },
    /// List who holds which permission keys in a namespace.
    Access {
        /// Namespace id or name.
        namespace: String,
    },
    /// Set the grantable permission keys a user holds in a namespace (replacing the
    /// previous ones; reserved keys granted by an operator are kept).
    Grant {
        /// Namespace id or name.
        namespace: String,
        /// User id or email.
        user: String,
        /// Comma-separated keys, e.g. `r:full,w:jobs`; `''` removes every grantable key.
        #[arg(long, value_name = "KEYS")]
        permissions: String,
    },
}

pub async fn run(client: &Client, o: Output, command: NamespacesCommand) -> Result<(), CliError> {
    match command {
        NamespacesCommand::List => show(o, &client.namespaces().await?, |l| {
            namespace_table(&l.items)
        }),
        NamespacesCommand::Get { namespace: key } => {
            show(o, &client.namespace(&key).await?, namespace)
        }
        NamespacesCommand::Create { name, access } => {
            let w = client
                .create_namespace(&NamespaceInput { name, access })
                .await?;
            show_written(o, &w, "Created", namespace)
        }
        NamespacesCommand::Delete { namespace: key } => {
            let w = client.delete_namespace(&key).await?;
            show_written(o, &w, &format!("Deleted namespace `{key}`"), namespace)
        }
        NamespacesCommand::Access { namespace: key } => {
            show(o, &client.namespace_access(&key).await?, |l| {
                access_table(&l.items)
            })
        }
        NamespacesCommand::Grant {
            namespace: key,
            user,
            permissions,
        } => {
            let input = NamespacePermissionsInput {
                permissions: split_list(&permissions),
            };
            let w = client.set_namespace_access(&key, &user, &input).await?;
            show_written(o, &w, "Updated", namespace)
        }
    }
}

/// Parses `USER=KEY[,KEY...]` or `USER`.
pub fn parse_access(text: &str) -> Result<NamespaceAccessInput, String> {
    let (user, keys) = match text.rsplit_once('=') {
        Some((user, keys)) => (user, split_list(keys)),
        None => (text, Vec::new()),
    };
    let user = user.trim();
    if user.is_empty() {
        return Err("expected USER=KEY[,KEY...], e.g. ada@example.com=r:full,w:jobs".to_string());
    }
    Ok(NamespaceAccessInput {
        user: user.to_string(),
        permissions: keys,
    })
}

fn access_table(access: &[NamespaceAccess]) -> String {
    let mut t = Table::new(&["USER ID", "EMAIL", "PERMISSIONS"]);
    for a in access {
        t.row(vec![
            a.user_id.clone(),
            a.email.clone(),
            a.permissions.join(","),
        ]);
    }
    t.render()
}

fn namespace_table(namespaces: &[Namespace]) -> String {
    let mut t = Table::new(&["ID", "NAME", "USERS", "CREATED"]);
    for n in namespaces {
        t.row(vec![
            n.id.clone(),
            n.name.clone(),
            n.access.len().to_string(),
            table::time(n.created_at),
        ]);
    }
    t.render()
}

fn namespace(n: &Namespace) -> String {
    let mut text = details(&[
        ("ID", n.id.clone()),
        ("Name", n.name.clone()),
        ("Created", table::time(n.created_at)),
    ]);
    text.push('\n');
    text.push_str(&access_table(&n.access));
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    #[test]
    fn access_parses() {
        let a = parse_access("ada@example.com=r:full,w:jobs").unwrap();
        assert_eq!(a.user, "ada@example.com");
        assert_eq!(a.permissions, ["r:full", "w:jobs"]);
        let a = parse_access("usr_1").unwrap();
        assert!(a.permissions.is_empty());
        assert!(parse_access("=r:full").is_err());
    }

    #[test]
    fn empty_permission_list_is_accepted() {
        let cli = Cli::try_parse_from([
            "warden",
            "namespaces",
            "grant",
            "ns",
            "ada@example.com",
            "--permissions",
            "",
        ])
        .unwrap();
        match cli.command {
            Command::Namespaces(NamespacesCommand::Grant { permissions, .. }) => {
                assert!(split_list(&permissions).is_empty())
            }
            other => panic!("{other:?}"),
        }
    }
}
