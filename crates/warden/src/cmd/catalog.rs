//! `warden roles` and `warden catalog`: the role catalog the server runs with.

use clap::Subcommand;
use warden_client::model::{Catalog, Role};
use warden_client::Client;

use crate::cli::Output;
use crate::output::{show, CliError};
use crate::table::{self, details, Table};

#[derive(Debug, Subcommand)]
pub enum RolesCommand {
    /// List the catalog's roles.
    List,
    /// Show one role with every action it grants.
    Get {
        /// Role id (e.g. `iam-admin`).
        role: String,
    },
}

/// `warden roles`.
pub async fn roles(client: &Client, o: Output, command: RolesCommand) -> Result<(), CliError> {
    match command {
        RolesCommand::List => show(o, &client.roles().await?, |l| role_table(&l.items)),
        RolesCommand::Get { role: id } => show(o, &client.role(&id).await?, role),
    }
}

/// `warden catalog`.
pub async fn catalog(client: &Client, o: Output) -> Result<(), CliError> {
    show(o, &client.catalog().await?, catalog_text)
}

fn role_table(roles: &[Role]) -> String {
    let mut t = Table::new(&["ID", "NAME", "INCLUDES", "ACTIONS"]);
    for r in roles {
        t.row(vec![
            r.id.clone(),
            r.name.clone(),
            r.includes.join(","),
            r.actions.len().to_string(),
        ]);
    }
    t.render()
}

fn role(r: &Role) -> String {
    let mut text = details(&[
        ("ID", r.id.clone()),
        ("Name", r.name.clone()),
        ("Description", r.description.clone()),
        ("Includes", r.includes.join(", ")),
        ("Actions", r.actions.len().to_string()),
    ]);
    for action in &r.actions {
        text.push_str(&format!("  {}\n", table::clean(action)));
    }
    text
}

fn catalog_text(c: &Catalog) -> String {
    let mut text = format!("ROLES ({})\n", c.roles.len());
    text.push_str(&role_table(&c.roles));
    text.push_str(&format!("\nLEGACY GROUPS ({})\n", c.legacy_groups.len()));
    let mut t = Table::new(&["GROUP", "ROLES", "CLUSTER ROLE"]);
    for g in &c.legacy_groups {
        t.row(vec![
            g.name.clone(),
            g.roles.join(","),
            g.cluster_role.clone().unwrap_or_default(),
        ]);
    }
    text.push_str(&t.render());
    text.push_str(&format!(
        "\nNAMESPACE PERMISSIONS ({})\n",
        c.namespace_permissions.len()
    ));
    let mut t = Table::new(&["KEY", "RESERVED", "IMPLIES", "DESCRIPTION"]);
    for p in &c.namespace_permissions {
        t.row(vec![
            p.key.clone(),
            table::yes_no(p.reserved),
            p.implies.join(","),
            p.description.clone(),
        ]);
    }
    text.push_str(&t.render());
    text.push_str(&format!("\nALIASES ({})\n", c.aliases.len()));
    let mut t = Table::new(&["ALIAS", "ACTIONS"]);
    for (alias, actions) in &c.aliases {
        t.row(vec![alias.clone(), actions.join(",")]);
    }
    text.push_str(&t.render());
    text.push_str(&format!("\nACTIONS ({})\n", c.actions.len()));
    for action in &c.actions {
        text.push_str(&format!("  {}\n", table::clean(action)));
    }
    text
}
