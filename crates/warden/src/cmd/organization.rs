//! `warden org`: the caller's organization (`get`, `rename`, with an organization token), and
//! the platform operator's commands (with an operator's token, `wdn_opr_…`): `create`,
//! `list`, `add-user`, `remove-user`, `set-default-admin`, `namespace-keys`.

use clap::{Args, Subcommand};
use serde::Serialize;
use warden_client::model::{
    AdminAccess, NamespaceKeysInput, Organization, OrganizationInput, PlatformUserInput,
    TokenLifetime,
};
use warden_client::Client;

use crate::cli::{api_lifetime, Output};
use crate::output::{out, print_json, show, show_written, CliError};
use crate::table::{self, details, Table};

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization and its first admin (a platform operator's command), and print
    /// the admin's first API token once.
    Create(OrgCreateArgs),
    /// List every organization (a platform operator's command).
    List,
    /// Add an active user to an organization (a platform operator's command), optionally in
    /// groups, and print the user's first API token once. Users otherwise join through
    /// invitations (`warden invitations create`).
    AddUser(OrgAddUserArgs),
    /// Remove a user from an organization completely (a platform operator's command): their
    /// personal tokens go with them; tokens they created for others are listed.
    RemoveUser {
        /// Organization id.
        #[arg(long = "org", value_name = "ORG_ID")]
        org: String,
        /// User id or email.
        user: String,
    },
    /// Make another active user the organization's default admin (a platform operator's
    /// command).
    SetDefaultAdmin {
        /// Organization id.
        #[arg(long = "org", value_name = "ORG_ID")]
        org: String,
        /// User id or email.
        user: String,
    },
    /// Add or remove a user's namespace keys, the reserved `w:pods` and `w:full` included (a
    /// platform operator's command).
    NamespaceKeys(NamespaceKeysArgs),
    /// Show the caller's organization.
    Get,
    /// Rename the caller's organization.
    Rename {
        /// The new name.
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct OrgCreateArgs {
    /// Name of the organization.
    #[arg(long)]
    pub name: String,
    /// Email of the first user, who becomes the organization's default admin.
    #[arg(long)]
    pub email: String,
    /// First name of the first user.
    #[arg(long, default_value = "")]
    pub first_name: String,
    /// Last name of the first user.
    #[arg(long, default_value = "")]
    pub last_name: String,
    /// Lifetime of the admin's first token.
    #[arg(long, default_value = "30d", value_parser = api_lifetime(), value_name = "LIFETIME")]
    pub token_expires_in: TokenLifetime,
    /// Print only the admin's token (for `export WARDEN_TOKEN=$(warden org create ...)`).
    #[arg(long, conflicts_with = "invite")]
    pub print_token: bool,
    /// Instead of a token, email the admin a link to set their password (then they sign in);
    /// the link lives as long as an invitation's.
    #[arg(long, conflicts_with = "token_expires_in")]
    pub invite: bool,
}

#[derive(Debug, Args)]
pub struct OrgAddUserArgs {
    /// Id of the organization (six hex digits).
    #[arg(long = "org", value_name = "ORG_ID")]
    pub org: String,
    /// Email of the new user.
    #[arg(long)]
    pub email: String,
    /// First name of the new user.
    #[arg(long, default_value = "")]
    pub first_name: String,
    /// Last name of the new user.
    #[arg(long, default_value = "")]
    pub last_name: String,
    /// A group (name or id) to put the user in; repeat for several.
    #[arg(long = "group", value_name = "GROUP")]
    pub groups: Vec<String>,
    /// Lifetime of the user's first token.
    #[arg(long, default_value = "30d", value_parser = api_lifetime(), value_name = "LIFETIME")]
    pub token_expires_in: TokenLifetime,
    /// Print only the user's token.
    #[arg(long)]
    pub print_token: bool,
}

#[derive(Debug, Args)]
pub struct NamespaceKeysArgs {
    /// Organization id.
    #[arg(long = "org", value_name = "ORG_ID")]
    pub org: String,
    /// Namespace id or name.
    #[arg(long)]
    pub namespace: String,
    /// User id or email.
    #[arg(long)]
    pub user: String,
    /// A key to add (e.g. `w:pods`); repeat for several.
    #[arg(long = "add", value_name = "KEY")]
    pub add: Vec<String>,
    /// A key to remove; repeat for several.
    #[arg(long = "remove", value_name = "KEY")]
    pub remove: Vec<String>,
}

/// `org create --output json`: flat, as this command has always printed it. No `Debug`: it
/// holds the token's secret.
#[derive(Serialize)]
struct CreatedOrg<'a> {
    organization_id: &'a str,
    organization_name: &'a str,
    admin_user_id: &'a str,
    admin_email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_id: Option<&'a str>,
    /// Milliseconds since the epoch; `null` for a token that never expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    token_expires_at: Option<Option<i64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<&'a str>,
    /// With `--invite`: where the link to set a password went.
    #[serde(skip_serializing_if = "Option::is_none")]
    welcome_email_sent_to: Option<&'a str>,
}

/// `org add-user --output json` (fields in alphabetical order, as this command has always
/// printed them). No `Debug`: it holds the token's secret.
#[derive(Serialize)]
struct AddedUser<'a> {
    email: &'a str,
    groups: &'a [String],
    organization_id: &'a str,
    revision: u64,
    token: &'a str,
    token_expires_at: Option<i64>,
    token_id: &'a str,
    user_id: &'a str,
}

pub async fn run(client: &Client, o: Output, command: OrgCommand) -> Result<(), CliError> {
    match command {
        OrgCommand::Get => show(o, &client.organization().await?, organization),
        OrgCommand::Rename { name } => {
            let w = client.rename_organization(&name).await?;
            show_written(o, &w, "Renamed", organization)
        }
        OrgCommand::Create(args) => create(client, o, args).await,
        OrgCommand::List => show(o, &client.platform_organizations().await?, |l| {
            let mut t = Table::new(&[
                "ID",
                "NAME",
                "DEFAULT ADMIN",
                "USERS",
                "CREATED",
                "REVISION",
            ]);
            for org in &l.items {
                t.row(vec![
                    org.id.clone(),
                    org.name.clone(),
                    org.default_admin_email.clone(),
                    org.users.to_string(),
                    table::time(org.created_at),
                    org.revision.to_string(),
                ]);
            }
            t.render()
        }),
        OrgCommand::AddUser(args) => add_user(client, o, args).await,
        OrgCommand::RemoveUser { org, user } => {
            let removed = client.platform_remove_user(&org, &user).await?;
            show(o, &removed, |r| {
                let mut text = format!(
                    "Removed {} ({}) from {org}; {} personal token(s) deleted.\n",
                    r.user.email, r.user.id, r.tokens_deleted
                );
                if r.tokens_created_for_others.is_empty() {
                    text.push_str("They created no token that others hold.\n");
                } else {
                    text.push_str("Tokens they created that still work (review them):\n");
                    for t in &r.tokens_created_for_others {
                        text.push_str(&format!("  {} {} (held by {})\n", t.id, t.name, t.owner.id));
                    }
                }
                text
            })
        }
        OrgCommand::SetDefaultAdmin { org, user } => {
            let w = client.set_default_admin(&org, &user).await?;
            show_written(o, &w, "Default admin changed", organization)
        }
        OrgCommand::NamespaceKeys(args) => {
            if args.add.is_empty() && args.remove.is_empty() {
                return Err(CliError::message(
                    "nothing to change: give --add KEY and/or --remove KEY",
                ));
            }
            let input = NamespaceKeysInput {
                namespace: args.namespace.clone(),
                user: args.user,
                add: args.add,
                remove: args.remove,
            };
            let w = client.platform_namespace_keys(&args.org, &input).await?;
            show_written(o, &w, "Changed", |a| {
                format!(
                    "{} now holds in {}: {}\n",
                    a.email,
                    args.namespace,
                    if a.permissions.is_empty() {
                        "no key".to_string()
                    } else {
                        a.permissions.join(", ")
                    }
                )
            })
        }
    }
}

fn organization(org: &Organization) -> String {
    details(&[
        ("ID", org.id.clone()),
        ("Name", org.name.clone()),
        ("Default admin", org.default_admin.clone()),
        ("Created", table::time(org.created_at)),
        ("Revision", org.revision.to_string()),
    ])
}

/// `warden org create`.
async fn create(client: &Client, output: Output, args: OrgCreateArgs) -> Result<(), CliError> {
    let input = OrganizationInput {
        name: args.name,
        admin: PlatformUserInput {
            email: args.email,
            first_name: args.first_name,
            last_name: args.last_name,
            groups: Vec::new(),
            token_expires_in: args.token_expires_in,
        },
        admin_access: if args.invite {
            AdminAccess::Email
        } else {
            AdminAccess::Token
        },
    };
    let created = client.create_organization(&input).await?;
    let token = created.token.as_ref();
    if args.print_token {
        let secret = token.map(|t| t.secret.as_str()).unwrap_or_default();
        out(&format!("{secret}\n"));
        return Ok(());
    }
    match output {
        Output::Json => print_json(&CreatedOrg {
            organization_id: &created.organization.id,
            organization_name: &created.organization.name,
            admin_user_id: &created.admin.id,
            admin_email: &created.admin.email,
            token_id: token.map(|t| t.token.id.as_str()),
            token_expires_at: token.map(|t| t.token.expires_at),
            token: token.map(|t| t.secret.as_str()),
            welcome_email_sent_to: created.welcome_email_sent_to.as_deref(),
        }),
        Output::Table => {
            let mut text = String::from("Organization created.\n\n");
            let mut rows = vec![
                ("Organization id", created.organization.id.clone()),
                ("Organization name", created.organization.name.clone()),
                ("Admin user id", created.admin.id.clone()),
                ("Admin email", created.admin.email.clone()),
            ];
            if let Some(token) = token {
                rows.push(("Token id", token.token.id.clone()));
                rows.push((
                    "Token expires",
                    table::optional_time(token.token.expires_at, "never"),
                ));
                rows.push(("Token", token.secret.clone()));
            }
            text.push_str(&details(&rows));
            match &created.welcome_email_sent_to {
                Some(to) => text.push_str(&format!(
                    "\nA link to set a password was emailed to {to}; they sign in with it.\n"
                )),
                None => text.push_str(
                    "\nSave the token now: it will not be shown again. Use it with \
                     `--token` or WARDEN_TOKEN.\n",
                ),
            }
            out(&text);
            Ok(())
        }
    }
}

/// `warden org add-user`.
async fn add_user(client: &Client, output: Output, args: OrgAddUserArgs) -> Result<(), CliError> {
    let input = PlatformUserInput {
        email: args.email,
        first_name: args.first_name,
        last_name: args.last_name,
        groups: args.groups,
        token_expires_in: args.token_expires_in,
    };
    let added = client.platform_add_user(&args.org, &input).await?;
    if args.print_token {
        out(&format!("{}\n", added.token.secret));
        return Ok(());
    }
    match output {
        Output::Json => print_json(&AddedUser {
            email: &added.user.email,
            groups: &added.user.groups,
            organization_id: &args.org,
            revision: added.revision,
            token: &added.token.secret,
            token_expires_at: added.token.token.expires_at,
            token_id: &added.token.token.id,
            user_id: &added.user.id,
        }),
        Output::Table => {
            let mut text = String::from("User added.\n\n");
            text.push_str(&details(&[
                ("Organization id", args.org.clone()),
                ("User id", added.user.id.clone()),
                ("Email", added.user.email.clone()),
                ("Groups", added.user.groups.join(", ")),
                ("Token id", added.token.token.id.clone()),
                (
                    "Token expires",
                    table::optional_time(added.token.token.expires_at, "never"),
                ),
                ("Token", added.token.secret.clone()),
                ("Revision", added.revision.to_string()),
            ]));
            text.push_str("\nHand the token to the user now: it will not be shown again.\n");
            out(&text);
            Ok(())
        }
    }
}
