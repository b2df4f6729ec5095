//! `warden namespaces`.

use clap::Subcommand;
use warden_client::model::{
    Namespace, NamespaceAccess, NamespaceAccessInput, NamespaceInput, NamespacePermission,
    NamespacePermissionsInput,
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
    /// Add permission keys to those a user holds in a namespace (the others are kept).
    Grant {
        /// Namespace id or name.
        namespace: String,
        /// User id or email.
        user: String,
        /// Keys to add, e.g. `r:full w:jobs` (commas work too).
        #[arg(
            value_name = "KEY",
            required_unless_present = "all",
            conflicts_with = "all"
        )]
        keys: Vec<String>,
        /// Add every grantable key of the catalog ("Add All"; not the reserved `w:pods` and
        /// `w:full`, which only a platform operator grants).
        #[arg(long)]
        all: bool,
    },
    /// Remove permission keys from those a user holds in a namespace (the others are kept).
    Revoke {
        /// Namespace id or name.
        namespace: String,
        /// User id or email.
        user: String,
        /// Keys to remove, e.g. `w:jobs`.
        #[arg(
            value_name = "KEY",
            required_unless_present = "all",
            conflicts_with = "all"
        )]
        keys: Vec<String>,
        /// Remove every key ("Remove All"; reserved keys an operator granted stay).
        #[arg(long)]
        all: bool,
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
            keys,
            all,
        } => change_access(client, o, &key, &user, Change::Grant, keys, all).await,
        NamespacesCommand::Revoke {
            namespace: key,
            user,
            keys,
            all,
        } => change_access(client, o, &key, &user, Change::Revoke, keys, all).await,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Grant,
    Revoke,
}

/// What a grant or revoke does to the keys a user holds: the grantable keys to send (the
/// API sets them; reserved keys stay as an operator left them) and the sentence that says
/// what changed.
#[derive(Debug, PartialEq, Eq)]
struct Plan {
    send: Vec<String>,
    summary: String,
}

/// `held`: the user's keys now; `asked`: the keys named (every grantable key for --all on
/// grant, every held key for --all on revoke).
fn plan(
    change: Change,
    held: &[String],
    asked: &[String],
    catalog: &[NamespacePermission],
) -> Result<Plan, CliError> {
    let reserved = |k: &str| catalog.iter().any(|p| p.key == k && p.reserved);
    for key in asked {
        if !catalog.iter().any(|p| &p.key == key) {
            let hint = warden_core::suggest::hint(&warden_core::suggest::closest(
                key,
                catalog.iter().map(|p| p.key.as_str()),
            ));
            return Err(CliError::message(format!(
                "unknown namespace permission `{key}`{hint}: nothing was changed"
            )));
        }
    }
    let mut send: Vec<String> = held.iter().filter(|k| !reserved(k)).cloned().collect();
    let mut done: Vec<&str> = Vec::new();
    let mut skipped: Vec<&str> = Vec::new();
    let mut kept: Vec<&str> = Vec::new();
    for key in asked {
        let holds = held.contains(key);
        match change {
            Change::Grant if holds => skipped.push(key),
            Change::Grant => {
                // A reserved key is sent as asked: the server refuses it for an org admin.
                send.push(key.clone());
                done.push(key);
            }
            Change::Revoke if !holds => skipped.push(key),
            Change::Revoke if reserved(key) => kept.push(key),
            Change::Revoke => {
                send.retain(|k| k != key);
                done.push(key);
            }
        }
    }
    let mut parts: Vec<String> = Vec::new();
    let (did, didnt) = match change {
        Change::Grant => ("granted", "already held"),
        Change::Revoke => ("revoked", "not held"),
    };
    if !done.is_empty() {
        parts.push(format!("{did} {}", done.join(", ")));
    }
    if !skipped.is_empty() {
        parts.push(format!("{didnt} {}", skipped.join(", ")));
    }
    if !kept.is_empty() {
        parts.push(format!(
            "kept {} (reserved: only a platform operator removes it)",
            kept.join(", ")
        ));
    }
    if parts.is_empty() {
        parts.push("nothing to change".to_string());
    }
    Ok(Plan {
        send,
        summary: parts.join("; "),
    })
}

async fn change_access(
    client: &Client,
    o: Output,
    key: &str,
    user: &str,
    change: Change,
    keys: Vec<String>,
    all: bool,
) -> Result<(), CliError> {
    let access = client.namespace_access(key).await?;
    let catalog = client.catalog().await?.namespace_permissions;
    let held: Vec<String> = access
        .items
        .iter()
        .find(|a| a.user_id == user || a.email.eq_ignore_ascii_case(user))
        .map(|a| a.permissions.clone())
        .unwrap_or_default();
    let asked: Vec<String> = match (all, change) {
        (true, Change::Grant) => catalog
            .iter()
            .filter(|p| !p.reserved)
            .map(|p| p.key.clone())
            .collect(),
        (true, Change::Revoke) => held.clone(),
        (false, _) => keys.iter().flat_map(|k| split_list(k)).collect(),
    };
    let plan = plan(change, &held, &asked, &catalog)?;
    let input = NamespacePermissionsInput {
        permissions: plan.send,
    };
    let w = client.set_namespace_access(key, user, &input).await?;
    show_written(o, &w, "Updated", |n| {
        format!(
            "{user} in namespace `{}`: {} (revision {}).\n",
            n.name, plan.summary, w.revision
        )
    })
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

    fn catalog() -> Vec<NamespacePermission> {
        ["r:full", "w:jobs", "w:deployments", "w:pods"]
            .iter()
            .map(|k| NamespacePermission {
                key: k.to_string(),
                description: String::new(),
                reserved: *k == "w:pods",
                implies: Vec::new(),
            })
            .collect()
    }

    fn keys(list: &[&str]) -> Vec<String> {
        list.iter().map(|k| k.to_string()).collect()
    }

    #[test]
    fn grant_adds_to_what_is_held() {
        let held = keys(&["r:full", "w:pods"]);
        let p = plan(
            Change::Grant,
            &held,
            &keys(&["w:jobs", "r:full"]),
            &catalog(),
        )
        .unwrap();
        // The reserved key is not sent: the server keeps it.
        assert_eq!(p.send, ["r:full", "w:jobs"]);
        assert_eq!(p.summary, "granted w:jobs; already held r:full");
        let err = plan(Change::Grant, &held, &keys(&["w:job"]), &catalog()).unwrap_err();
        assert!(err.to_string().contains("did you mean `w:jobs`?"), "{err}");
    }

    #[test]
    fn revoke_removes_from_what_is_held() {
        let held = keys(&["r:full", "w:jobs", "w:pods"]);
        let p = plan(
            Change::Revoke,
            &held,
            &keys(&["w:jobs", "w:deployments"]),
            &catalog(),
        )
        .unwrap();
        assert_eq!(p.send, ["r:full"]);
        assert_eq!(p.summary, "revoked w:jobs; not held w:deployments");
        let p = plan(Change::Revoke, &held, &held, &catalog()).unwrap();
        assert!(p.send.is_empty());
        assert_eq!(
            p.summary,
            "revoked r:full, w:jobs; kept w:pods (reserved: only a platform operator removes it)"
        );
        let p = plan(Change::Revoke, &[], &[], &catalog()).unwrap();
        assert_eq!(p.summary, "nothing to change");
    }

    #[test]
    fn grant_takes_keys_or_all() {
        let cli = Cli::try_parse_from([
            "warden",
            "namespaces",
            "grant",
            "ns",
            "ada@example.com",
            "r:full",
            "w:jobs",
        ])
        .unwrap();
        match cli.command {
            Command::Namespaces(NamespacesCommand::Grant { keys, all, .. }) => {
                assert_eq!(keys, ["r:full", "w:jobs"]);
                assert!(!all);
            }
            other => panic!("{other:?}"),
        }
        assert!(Cli::try_parse_from(["warden", "namespaces", "grant", "ns", "u", "--all"]).is_ok());
        assert!(Cli::try_parse_from(["warden", "namespaces", "revoke", "ns", "u"]).is_err());
        assert!(Cli::try_parse_from([
            "warden",
            "namespaces",
            "revoke",
            "ns",
            "u",
            "r:full",
            "--all"
        ])
        .is_err());
    }
}
