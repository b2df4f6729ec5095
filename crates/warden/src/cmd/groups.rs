//! `warden groups`.

use clap::Subcommand;
use warden_client::model::{Group, GroupInput, GroupUpdate};
use warden_client::Client;

use crate::cli::Output;
use crate::output::{show, show_written, CliError};
use crate::table::{self, details, Table};

#[derive(Debug, Subcommand)]
pub enum GroupsCommand {
    /// List groups (the five legacy groups included).
    List,
    /// Show one group.
    Get {
        /// Group id or name.
        group: String,
    },
    /// Create a group.
    Create {
        /// Name of the new group.
        name: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Rename a group or change its description.
    Update {
        /// Group id or name.
        group: String,
        /// New name.
        #[arg(long)]
        name: Option<String>,
        /// New description.
        #[arg(long)]
        description: Option<String>,
    },
    /// Delete a group (legacy groups cannot be deleted).
    Delete {
        /// Group id or name.
        group: String,
    },
    /// List a group's members.
    Members {
        /// Group id or name.
        group: String,
    },
    /// Add a user to a group.
    AddMember {
        /// Group id or name.
        group: String,
        /// User id or email.
        user: String,
    },
    /// Remove a user from a group.
    RemoveMember {
        /// Group id or name.
        group: String,
        /// User id or email.
        user: String,
    },
}

pub async fn run(client: &Client, o: Output, command: GroupsCommand) -> Result<(), CliError> {
    match command {
        GroupsCommand::List => show(o, &client.groups().await?, |l| group_table(&l.items)),
        GroupsCommand::Get { group } => show(o, &client.group(&group).await?, |g| {
            details(&[
                ("ID", g.id.clone()),
                ("Name", g.name.clone()),
                ("Description", g.description.clone()),
                ("Legacy", table::yes_no(g.legacy)),
                ("Members", g.member_count.to_string()),
                ("Created", table::time(g.created_at)),
            ])
        }),
        GroupsCommand::Create { name, description } => {
            let w = client
                .create_group(&GroupInput { name, description })
                .await?;
            show_written(o, &w, "Created", group_one)
        }
        GroupsCommand::Update {
            group,
            name,
            description,
        } => {
            if name.is_none() && description.is_none() {
                return Err(CliError::message(
                    "nothing to change: give --name and/or --description",
                ));
            }
            let w = client
                .update_group(&group, &GroupUpdate { name, description })
                .await?;
            show_written(o, &w, "Updated", group_one)
        }
        GroupsCommand::Delete { group } => {
            let w = client.delete_group(&group).await?;
            show_written(o, &w, &format!("Deleted group `{group}`"), group_one)
        }
        GroupsCommand::Members { group } => show(o, &client.group_members(&group).await?, |l| {
            let mut t = Table::new(&["USER ID", "EMAIL", "STATUS"]);
            for m in &l.items {
                t.row(vec![
                    m.user_id.clone(),
                    m.email.clone(),
                    m.status.as_str().to_string(),
                ]);
            }
            t.render()
        }),
        GroupsCommand::AddMember { group, user } => {
            let w = client.add_group_member(&group, &user).await?;
            show_written(o, &w, &format!("Added `{user}` to `{group}`"), group_one)
        }
        GroupsCommand::RemoveMember { group, user } => {
            let w = client.remove_group_member(&group, &user).await?;
            show_written(
                o,
                &w,
                &format!("Removed `{user}` from `{group}`"),
                group_one,
            )
        }
    }
}

fn group_table(groups: &[Group]) -> String {
    let mut t = Table::new(&["ID", "NAME", "MEMBERS", "LEGACY", "DESCRIPTION"]);
    for g in groups {
        t.row(vec![
            g.id.clone(),
            g.name.clone(),
            g.member_count.to_string(),
            table::yes_no(g.legacy),
            g.description.clone(),
        ]);
    }
    t.render()
}

fn group_one(g: &Group) -> String {
    group_table(std::slice::from_ref(g))
}
