//! `warden users`.

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::Subcommand;
use warden_client::model::{GrantSource, User, UserStatus, UserUpdate};
use warden_client::Client;

use crate::cli::Output;
use crate::output::{show, show_written, CliError};
use crate::table::{self, details, Table};

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// List the organization's users.
    List {
        /// Only users with this status.
        #[arg(long, value_parser = status_parser())]
        status: Option<UserStatus>,
    },
    /// Show one user.
    Get {
        /// User id or email.
        user: String,
    },
    /// Change a user's first or last name.
    Update {
        /// User id or email.
        user: String,
        #[arg(long)]
        first_name: Option<String>,
        #[arg(long)]
        last_name: Option<String>,
    },
    /// Deactivate a user: blocks sign-in and their personal tokens at once.
    Deactivate {
        /// User id or email.
        user: String,
    },
    /// Reactivate a deactivated user.
    Reactivate {
        /// User id or email.
        user: String,
    },
    /// Invite someone (the same as `warden invitations create`).
    Invite(crate::cmd::invitations::InviteArgs),
    /// List every action a user may perform, and which policy grants it.
    Permissions {
        /// User id or email.
        user: String,
    },
}

const STATUSES: [UserStatus; 3] = [
    UserStatus::Invited,
    UserStatus::Active,
    UserStatus::Deactivated,
];

fn status_parser() -> impl TypedValueParser<Value = UserStatus> {
    PossibleValuesParser::new(STATUSES.map(UserStatus::as_str)).try_map(|name| {
        STATUSES
            .into_iter()
            .find(|s| s.as_str() == name)
            .ok_or("unknown status")
    })
}

pub async fn run(client: &Client, o: Output, command: UsersCommand) -> Result<(), CliError> {
    match command {
        UsersCommand::List { status } => {
            show(o, &client.users(status).await?, |l| user_table(&l.items))
        }
        UsersCommand::Get { user: key } => show(o, &client.user(&key).await?, user),
        UsersCommand::Invite(args) => {
            crate::cmd::invitations::run(
                client,
                o,
                crate::cmd::invitations::InvitationsCommand::Create(args),
            )
            .await
        }
        UsersCommand::Update {
            user: key,
            first_name,
            last_name,
        } => {
            if first_name.is_none() && last_name.is_none() {
                return Err(CliError::message(
                    "nothing to change: give --first-name and/or --last-name",
                ));
            }
            let update = UserUpdate {
                first_name,
                last_name,
            };
            let w = client.update_user(&key, &update).await?;
            show_written(o, &w, "Updated", user)
        }
        UsersCommand::Deactivate { user: key } => {
            let w = client.deactivate_user(&key).await?;
            show_written(o, &w, "Deactivated", |u| {
                user_table(std::slice::from_ref(u))
            })
        }
        UsersCommand::Reactivate { user: key } => {
            let w = client.reactivate_user(&key).await?;
            show_written(o, &w, "Reactivated", |u| {
                user_table(std::slice::from_ref(u))
            })
        }
        UsersCommand::Permissions { user: key } => {
            show(o, &client.user_permissions(&key).await?, |p| {
                let mut t = Table::new(&["ACTION", "GRANTED BY"]);
                for a in &p.actions {
                    let by: Vec<String> = a.granted_by.iter().map(grant_text).collect();
                    t.row(vec![a.action.clone(), by.join("; ")]);
                }
                t.render()
            })
        }
    }
}

fn user_table(users: &[User]) -> String {
    let mut t = Table::new(&["ID", "EMAIL", "STATUS", "GROUPS", "ADMIN"]);
    for u in users {
        let admin = match (u.is_org_admin, u.is_default_admin) {
            (_, true) => "yes (default)".to_string(),
            (admin, false) => table::yes_no(admin),
        };
        t.row(vec![
            u.id.clone(),
            u.email.clone(),
            u.status.as_str().to_string(),
            u.groups.join(","),
            admin,
        ]);
    }
    t.render()
}

fn user(u: &User) -> String {
    let mut text = details(&[
        ("ID", u.id.clone()),
        ("Email", u.email.clone()),
        ("First name", u.first_name.clone()),
        ("Last name", u.last_name.clone()),
        ("Status", u.status.as_str().to_string()),
        ("Groups", u.groups.join(", ")),
        ("Org admin", table::yes_no(u.is_org_admin)),
        ("Default admin", table::yes_no(u.is_default_admin)),
        ("Created", table::time(u.created_at)),
    ]);
    // Org tokens outlive their creator: say so where an admin deactivating them looks.
    if !u.org_tokens_created.is_empty() {
        let tokens: Vec<String> = u
            .org_tokens_created
            .iter()
            .map(|t| match t.name.as_str() {
                "" => t.id.clone(),
                name => format!("{name} ({})", t.id),
            })
            .collect();
        text.push_str(&format!(
            "\nOrg tokens this user created keep working after they leave: {}\n\
             Revoke them all: warden org-tokens revoke-created-by {}\n",
            tokens.join(", "),
            u.email
        ));
    }
    text
}

/// One path to an action: `policy `p` rule 1 role r via group `g`` (rules numbered from 1,
/// as explanations and `policies get` number them), and until when for a
/// time-bound rule.
fn grant_text(g: &GrantSource) -> String {
    let mut text = format!(
        "policy `{}` rule {} role {}",
        g.policy_name,
        g.rule_index + 1,
        g.role_id
    );
    if let Some(group) = &g.via_group {
        text.push_str(&format!(" via group `{group}`"));
    }
    if let Some(at) = g.expires_at {
        text.push_str(&format!(" until {}", table::time(at)));
    }
    text
}
