//! The client commands: one API call each (a few look a key up first), printed as a table or
//! as the API's JSON.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;

use serde::Serialize;
use warden_client::model::*;
use warden_client::{Client, ClientError};

use crate::cli::*;
use crate::table::{self, details, Table};

/// Why a command failed; printed as `error: <this>`.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Client(Box<ClientError>),
    #[error("{0}")]
    Message(String),
}

impl From<ClientError> for CliError {
    fn from(e: ClientError) -> CliError {
        CliError::Client(Box::new(e))
    }
}

/// What a successful command tells the shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// `check` answered DENY.
    Denied,
}

/// Writes to standard output; a closed pipe (`warden ... | head`) is not an error.
pub fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

pub fn print_json<T: Serialize>(value: &T) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::Message(format!("cannot encode JSON: {e}")))?;
    out(&text);
    out("\n");
    Ok(())
}

/// Prints `value` as JSON, or the text `table` makes of it.
fn show<T: Serialize>(
    output: Output,
    value: &T,
    table: impl FnOnce(&T) -> String,
) -> Result<(), CliError> {
    match output {
        Output::Json => print_json(value),
        Output::Table => {
            out(&table(value));
            Ok(())
        }
    }
}

/// Prints a write's answer: its item as `table` renders it, or `done` if there is none.
fn show_written<T: Serialize>(
    output: Output,
    written: &Written<T>,
    done: &str,
    table: impl FnOnce(&T) -> String,
) -> Result<(), CliError> {
    show(output, written, |w| match &w.item {
        Some(item) => table(item),
        None => format!("{done} (revision {}).\n", w.revision),
    })
}

pub async fn run(global: &GlobalArgs, command: Command) -> Result<Outcome, CliError> {
    let token = global
        .token
        .clone()
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| {
            CliError::Message(
                "no API token: pass --token or set WARDEN_TOKEN (`warden org create` prints the \
             first one)"
                    .to_string(),
            )
        })?;
    let client = Client::new(&global.url, Some(token))?;
    let o = global.output;
    match command {
        // Handled in main (they do not call the API).
        Command::Serve(_)
        | Command::Org(OrgCommand::Create(_))
        | Command::Org(OrgCommand::AddUser(_)) => {}
        Command::Org(OrgCommand::Get) => show(o, &client.organization().await?, organization)?,
        Command::Org(OrgCommand::Rename { name }) => {
            let w = client.rename_organization(&name).await?;
            show_written(o, &w, "Renamed", organization)?
        }
        Command::Users(c) => users(&client, o, c).await?,
        Command::Whoami => show(o, &client.whoami().await?, whoami)?,
        Command::Groups(c) => groups(&client, o, c).await?,
        Command::Policies(c) => policies(&client, o, c).await?,
        Command::Roles(RolesCommand::List) => show(o, &client.roles().await?, |l| roles(&l.items))?,
        Command::Roles(RolesCommand::Get { role: id }) => show(o, &client.role(&id).await?, role)?,
        Command::Catalog => show(o, &client.catalog().await?, catalog)?,
        Command::Namespaces(c) => namespaces(&client, o, c).await?,
        Command::Clusters(c) => clusters(&client, o, c).await?,
        Command::Tokens(c) => tokens(&client, o, c).await?,
        Command::Check(args) => return check(&client, o, args).await,
        Command::WhoCan { action } => {
            let answer = client.who_can(&action).await?;
            // Emails make the list readable; without the right to list users, ids will do.
            let emails: BTreeMap<String, String> = match o {
                Output::Table => client
                    .users(None)
                    .await
                    .map(|l| l.items.into_iter().map(|u| (u.id, u.email)).collect())
                    .unwrap_or_default(),
                Output::Json => BTreeMap::new(),
            };
            show(o, &answer, |a| {
                let mut t = Table::new(&["PRINCIPAL", "EMAIL"]);
                for p in &a.principals {
                    t.row(vec![p.clone(), emails.get(p).cloned().unwrap_or_default()]);
                }
                t.render()
            })?
        }
        Command::Audit {
            limit,
            before,
            before_id,
        } => {
            let cursor = before.map(|at| (at, before_id.as_deref().unwrap_or("")));
            let events = client.audit_events(limit, cursor).await?;
            show(o, &events, |l| {
                let mut t = Table::new(&[
                    "TIME", "ACTOR", "ACTION", "TARGET", "OUTCOME", "ERROR", "REVISION",
                ]);
                for e in &l.items {
                    t.row(vec![
                        table::time(e.at),
                        e.actor.clone(),
                        e.action.clone(),
                        e.target.clone(),
                        e.outcome.clone(),
                        e.error_code.clone().unwrap_or_default(),
                        e.revision.to_string(),
                    ]);
                }
                t.render()
            })?
        }
        Command::Openapi => print_json(&client.openapi().await?)?,
    }
    Ok(Outcome::Done)
}

// -- organization and users ------------------------------------------------------------

fn organization(org: &Organization) -> String {
    details(&[
        ("ID", org.id.clone()),
        ("Name", org.name.clone()),
        ("Default admin", org.default_admin.clone()),
        ("Created", table::time(org.created_at)),
        ("Revision", org.revision.to_string()),
    ])
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
            u.status.clone(),
            u.groups.join(","),
            admin,
        ]);
    }
    t.render()
}

fn user(u: &User) -> String {
    details(&[
        ("ID", u.id.clone()),
        ("Email", u.email.clone()),
        ("First name", u.first_name.clone()),
        ("Last name", u.last_name.clone()),
        ("Status", u.status.clone()),
        ("Groups", u.groups.join(", ")),
        ("Org admin", table::yes_no(u.is_org_admin)),
        ("Default admin", table::yes_no(u.is_default_admin)),
        ("Created", table::time(u.created_at)),
    ])
}

fn grant_text(g: &GrantSource) -> String {
    let mut text = format!(
        "policy `{}` rule #{} role {}",
        g.policy_name, g.rule_index, g.role_id
    );
    if let Some(group) = &g.via_group {
        text.push_str(&format!(" via group `{group}`"));
    }
    text
}

async fn users(client: &Client, o: Output, command: UsersCommand) -> Result<(), CliError> {
    match command {
        UsersCommand::List { status } => show(o, &client.users(status.as_deref()).await?, |l| {
            user_table(&l.items)
        }),
        UsersCommand::Get { user: key } => show(o, &client.user(&key).await?, user),
        UsersCommand::Update {
            user: key,
            first_name,
            last_name,
        } => {
            if first_name.is_none() && last_name.is_none() {
                return Err(CliError::Message(
                    "nothing to change: give --first-name and/or --last-name".to_string(),
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

fn whoami(w: &Whoami) -> String {
    let mut text = details(&[
        ("User", format!("{} ({})", w.user.email, w.user.id)),
        ("Organization", w.organization_id.clone()),
        ("Token", w.token_id.clone()),
        ("Groups", w.user.groups.join(", ")),
        ("Org admin", table::yes_no(w.user.is_org_admin)),
        ("Revision", w.revision.to_string()),
        ("Actions", w.actions.len().to_string()),
    ]);
    for action in &w.actions {
        text.push_str(&format!("  {}\n", table::clean(action)));
    }
    text
}

// -- groups ------------------------------------------------------------------------------

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

async fn groups(client: &Client, o: Output, command: GroupsCommand) -> Result<(), CliError> {
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
                return Err(CliError::Message(
                    "nothing to change: give --name and/or --description".to_string(),
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
                t.row(vec![m.user_id.clone(), m.email.clone(), m.status.clone()]);
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

// -- policies, roles, catalog ----------------------------------------------------------------

fn policy_table(policies: &[Policy]) -> String {
    let mut t = Table::new(&["ID", "NAME", "RULES", "DEFAULT FOR", "DESCRIPTION"]);
    for p in policies {
        t.row(vec![
            p.id.clone(),
            p.name.clone(),
            p.rules.len().to_string(),
            p.default_for_group.clone().unwrap_or_default(),
            p.description.clone(),
        ]);
    }
    t.render()
}

fn policy(p: &Policy) -> String {
    let mut text = details(&[
        ("ID", p.id.clone()),
        ("Name", p.name.clone()),
        ("Description", p.description.clone()),
        (
            "Default for",
            p.default_for_group.clone().unwrap_or_default(),
        ),
        ("Created", table::time(p.created_at)),
        ("Updated", table::time(p.updated_at)),
    ]);
    text.push('\n');
    let mut t = Table::new(&["#", "KIND", "PRINCIPAL", "ID", "ROLES"]);
    for (i, r) in p.rules.iter().enumerate() {
        t.row(vec![
            i.to_string(),
            r.principal.kind.clone(),
            r.principal.name.clone(),
            r.principal.id.clone(),
            r.roles.join(","),
        ]);
    }
    text.push_str(&t.render());
    text
}

fn read_input(path: &Path) -> Result<String, CliError> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| CliError::Message(format!("cannot read standard input: {e}")))?;
        return Ok(text);
    }
    std::fs::read_to_string(path)
        .map_err(|e| CliError::Message(format!("cannot read {}: {e}", path.display())))
}

/// The policy a create or replace sends; `current` supplies a replace's defaults.
fn policy_input(spec: PolicySpec, current: Option<&Policy>) -> Result<PolicyInput, CliError> {
    if let Some(path) = &spec.file {
        let text = read_input(path)?;
        return serde_json::from_str(&text).map_err(|e| {
            CliError::Message(format!(
                "{} is not a policy (JSON with name, description, rules): {e}",
                path.display()
            ))
        });
    }
    let name = match (spec.name, current) {
        (Some(name), _) => name,
        (None, Some(p)) => p.name.clone(),
        (None, None) => {
            return Err(CliError::Message(
                "give --file, or --name with --rule options".to_string(),
            ))
        }
    };
    let description = spec
        .description
        .or_else(|| current.map(|p| p.description.clone()))
        .unwrap_or_default();
    Ok(PolicyInput {
        name,
        description,
        rules: spec.rules,
    })
}

async fn policies(client: &Client, o: Output, command: PoliciesCommand) -> Result<(), CliError> {
    match command {
        PoliciesCommand::List => show(o, &client.policies().await?, |l| policy_table(&l.items)),
        PoliciesCommand::Get { policy: key } => show(o, &client.policy(&key).await?, policy),
        PoliciesCommand::Create { spec } => {
            let input = policy_input(spec, None)?;
            let w = client.create_policy(&input).await?;
            show_written(o, &w, "Created", policy)
        }
        PoliciesCommand::Replace { policy: key, spec } => {
            let current =
                if spec.file.is_none() && (spec.name.is_none() || spec.description.is_none()) {
                    Some(client.policy(&key).await?)
                } else {
                    None
                };
            let input = policy_input(spec, current.as_ref())?;
            let w = client.replace_policy(&key, &input).await?;
            show_written(o, &w, "Replaced", policy)
        }
        PoliciesCommand::Delete { policy: key } => {
            let w = client.delete_policy(&key).await?;
            show_written(o, &w, &format!("Deleted policy `{key}`"), policy)
        }
    }
}

fn roles(roles: &[Role]) -> String {
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

fn catalog(c: &CatalogView) -> String {
    let mut text = format!("ROLES ({})\n", c.roles.len());
    text.push_str(&roles(&c.roles));
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

// -- namespaces and clusters ------------------------------------------------------------------

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

async fn namespaces(
    client: &Client,
    o: Output,
    command: NamespacesCommand,
) -> Result<(), CliError> {
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

fn cluster_table(clusters: &[Cluster]) -> String {
    let mut t = Table::new(&["ID", "NAME", "API SERVER", "CA", "CREATED"]);
    for c in clusters {
        t.row(vec![
            c.id.clone(),
            c.name.clone(),
            c.api_server_url.clone(),
            table::yes_no(!c.ca_bundle.trim().is_empty()),
            table::time(c.created_at),
        ]);
    }
    t.render()
}

fn cluster_one(c: &Cluster) -> String {
    cluster_table(std::slice::from_ref(c))
}

async fn clusters(client: &Client, o: Output, command: ClustersCommand) -> Result<(), CliError> {
    match command {
        ClustersCommand::List => show(o, &client.clusters().await?, |l| cluster_table(&l.items)),
        ClustersCommand::Get { cluster: key } => show(o, &client.cluster(&key).await?, |c| {
            let mut text = details(&[
                ("ID", c.id.clone()),
                ("Name", c.name.clone()),
                ("API server", c.api_server_url.clone()),
                ("Created", table::time(c.created_at)),
            ]);
            if c.ca_bundle.trim().is_empty() {
                text.push_str("CA bundle: -\n");
            } else {
                text.push_str("CA bundle:\n");
                for line in c.ca_bundle.lines() {
                    text.push_str(&table::clean(line));
                    text.push('\n');
                }
            }
            text
        }),
        ClustersCommand::Create {
            name,
            api_server_url,
            ca_file,
        } => {
            let ca_bundle = match &ca_file {
                Some(path) => read_input(path)?,
                None => String::new(),
            };
            let input = ClusterInput {
                name,
                api_server_url,
                ca_bundle,
            };
            let w = client.create_cluster(&input).await?;
            show_written(o, &w, "Created", cluster_one)
        }
        ClustersCommand::Update {
            cluster: key,
            api_server_url,
            ca_file,
        } => {
            let ca_bundle = match &ca_file {
                Some(path) => Some(read_input(path)?),
                None => None,
            };
            if api_server_url.is_none() && ca_bundle.is_none() {
                return Err(CliError::Message(
                    "nothing to change: give --api-server-url and/or --ca-file".to_string(),
                ));
            }
            let update = ClusterUpdate {
                api_server_url,
                ca_bundle,
            };
            let w = client.update_cluster(&key, &update).await?;
            show_written(o, &w, "Updated", cluster_one)
        }
        ClustersCommand::Delete { cluster: key } => {
            let w = client.delete_cluster(&key).await?;
            show_written(o, &w, &format!("Deleted cluster `{key}`"), cluster_one)
        }
    }
}

// -- tokens ---------------------------------------------------------------------------------

fn token_table(tokens: &[Token]) -> String {
    let mut t = Table::new(&["ID", "NAME", "PREFIX", "EXPIRES", "LAST USED", "CREATED"]);
    for tok in tokens {
        t.row(vec![
            tok.id.clone(),
            tok.name.clone(),
            tok.display_prefix.clone(),
            table::optional_time(tok.expires_at, "never"),
            table::optional_time(tok.last_used_at, ""),
            table::time(tok.created_at),
        ]);
    }
    t.render()
}

async fn tokens(client: &Client, o: Output, command: TokensCommand) -> Result<(), CliError> {
    match command {
        TokensCommand::List => show(o, &client.tokens().await?, |l| token_table(&l.items)),
        TokensCommand::Get { id } => show(o, &client.token(&id).await?, |t| {
            details(&[
                ("ID", t.id.clone()),
                ("Kind", t.kind.clone()),
                ("Name", t.name.clone()),
                ("Note", t.note.clone()),
                ("Prefix", t.display_prefix.clone()),
                ("User", t.user_id.clone()),
                ("Created by", t.created_by.clone()),
                ("Created", table::time(t.created_at)),
                ("Expires", table::optional_time(t.expires_at, "never")),
                ("Last used", table::optional_time(t.last_used_at, "")),
            ])
        }),
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

// -- decisions --------------------------------------------------------------------------------

/// A principal as the check API wants it (an id): an email is looked up, `me` is the caller.
async fn principal_id(client: &Client, principal: &str) -> Result<String, CliError> {
    if principal == "me" {
        return Ok(client.whoami().await?.user.id);
    }
    if principal.contains('@') {
        return Ok(client.user(principal).await?.id);
    }
    Ok(principal.to_string())
}

async fn check(client: &Client, o: Output, args: CheckArgs) -> Result<Outcome, CliError> {
    let principal = principal_id(client, &args.principal).await?;
    let request = CheckRequest {
        checks: vec![CheckQuestion {
            principal,
            action: args.action.clone(),
            namespace: args.namespace.clone(),
            explain: args.explain,
        }],
        at_least_revision: args.at_least_revision,
    };
    let response = client.check(&request).await?;
    let result = response
        .results
        .first()
        .cloned()
        .ok_or_else(|| ClientError::Decode("the check response has no result".to_string()))?;
    show(o, &response, |r| {
        let mut text = String::from(if result.allowed { "ALLOW\n" } else { "DENY\n" });
        let mut pairs = vec![
            ("Principal", args.principal.clone()),
            ("Action", args.action.clone()),
        ];
        if let Some(ns) = &args.namespace {
            pairs.push(("Namespace", ns.clone()));
        }
        if let Some(reason) = &result.reason {
            pairs.push(("Reason", reason.clone()));
        }
        pairs.push(("Revision", r.revision.to_string()));
        text.push_str(&details(&pairs));
        if let Some(sources) = &result.granted_by {
            if sources.is_empty() {
                text.push_str(if result.allowed {
                    "\nAllowed by the user's namespace permissions (the API does not explain \
                     namespace decisions).\n"
                } else {
                    "\nNo policy grants this action.\n"
                });
            } else {
                text.push_str("\nGranted by:\n");
                let mut t = Table::new(&["POLICY", "POLICY ID", "RULE", "ROLE", "VIA GROUP"]);
                for g in sources {
                    t.row(vec![
                        g.policy_name.clone(),
                        g.policy_id.clone(),
                        g.rule_index.to_string(),
                        g.role_id.clone(),
                        g.via_group.clone().unwrap_or_default(),
                    ]);
                }
                text.push_str(&t.render());
            }
        }
        text
    })?;
    Ok(if result.allowed {
        Outcome::Done
    } else {
        Outcome::Denied
    })
}
