//! `warden org`: the operator's `create` and `add-user`, which open the store directly (no
//! server or token needed), and the caller's `get` and `rename` through the API.

use std::sync::Arc;

use clap::{Args, Subcommand};
use serde::Serialize;
use warden_client::model::Organization;
use warden_client::Client;
use warden_core::command::{
    FirstUser, GroupCommand, Key, TokenCommand, TokenLifetime, UserCommand,
};
use warden_core::{Actor, Command, DomainError, ErrorCode, OrgId, OrgState, TokenId, UserId};
use warden_server::service::new_personal_secret;
use warden_server::{Service, ServiceError, Settings};

use super::serve::{init_logging, open_service, service_error, StoreArgs};
use crate::cli::{core_lifetime, GlobalArgs, Output};
use crate::output::{out, print_json, show, show_written, CliError};
use crate::table::{self, details};

/// The name of the token `org add-user` creates.
const ADDED_USER_TOKEN: &str = "initial token";

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization and its first admin directly in the database (no server or
    /// token needed), and print the admin's first API token once.
    Create(OrgCreateArgs),
    /// Add an active user to an organization directly in the database (a platform-operator
    /// command: no server or token needed), optionally in groups, and print the user's first
    /// API token once. Users otherwise join through invitations.
    AddUser(OrgAddUserArgs),
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
    #[arg(long, default_value = "30d", value_parser = core_lifetime(), value_name = "LIFETIME")]
    pub token_expires_in: TokenLifetime,
    /// Print only the admin's token (for `export WARDEN_TOKEN=$(warden org create ...)`).
    #[arg(long)]
    pub print_token: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Args)]
pub struct OrgAddUserArgs {
    /// Id of the organization (six hex digits); by default the organization of the API token
    /// in use (--token, WARDEN_TOKEN or `warden login`).
    #[arg(long = "org", value_name = "ORG_ID")]
    pub org: Option<String>,
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
    #[arg(long, default_value = "30d", value_parser = core_lifetime(), value_name = "LIFETIME")]
    pub token_expires_in: TokenLifetime,
    /// Print only the user's token.
    #[arg(long)]
    pub print_token: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `org get` and `org rename`.
pub async fn run(client: &Client, o: Output, command: OrgCommand) -> Result<(), CliError> {
    match command {
        OrgCommand::Get => show(o, &client.organization().await?, organization),
        OrgCommand::Rename { name } => {
            let w = client.rename_organization(&name).await?;
            show_written(o, &w, "Renamed", organization)
        }
        // `cmd::run` gives these to `create` and `add_user`: they open the store.
        OrgCommand::Create(_) | OrgCommand::AddUser(_) => Err(CliError::message(
            "`org create` and `org add-user` open the store and do not call the API",
        )),
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

/// `org create --output json`.
#[derive(Serialize)]
struct CreatedOrg<'a> {
    organization_id: &'a str,
    organization_name: &'a str,
    admin_user_id: &'a str,
    admin_email: &'a str,
    token_id: &'a str,
    /// Milliseconds since the epoch; `null` for a token that never expires.
    token_expires_at: Option<i64>,
    token: &'a str,
}

/// When a token expires (ms), if it does.
fn token_expiry(state: &OrgState, token: &TokenId) -> Option<i64> {
    state
        .tokens
        .get(token)
        .and_then(|t| t.expires_at)
        .map(|t| t.0)
}

/// `warden org create`.
pub async fn create(args: OrgCreateArgs, output: Output) -> Result<(), CliError> {
    init_logging("warn");
    let service = open_service(&args.store, Settings::default()).await?;
    let first = FirstUser {
        email: args.email.clone(),
        first_name: args.first_name.clone(),
        last_name: args.last_name.clone(),
    };
    let created = service
        .create_organization(&args.name, first, args.token_expires_in)
        .await;
    service.store().close().await;
    let (compiled, secret, token_id) = created.map_err(|e| service_error(&e))?;
    let state = compiled.state();
    let admin_id = state.org.default_admin.to_string();
    let admin_email = state
        .users
        .get(&state.org.default_admin)
        .map(|u| u.email.to_string())
        .unwrap_or_else(|| args.email.clone());
    let expires_at = token_expiry(state, &token_id);
    if args.print_token {
        out(&format!("{secret}\n"));
        return Ok(());
    }
    match output {
        Output::Json => print_json(&CreatedOrg {
            organization_id: state.org.id.as_str(),
            organization_name: &state.org.name,
            admin_user_id: &admin_id,
            admin_email: &admin_email,
            token_id: token_id.as_str(),
            token_expires_at: expires_at,
            token: &secret,
        }),
        Output::Table => {
            let mut text = String::from("Organization created.\n\n");
            text.push_str(&details(&[
                ("Organization id", state.org.id.to_string()),
                ("Organization name", state.org.name.clone()),
                ("Admin user id", admin_id),
                ("Admin email", admin_email),
                ("Token id", token_id.to_string()),
                ("Token expires", table::optional_time(expires_at, "never")),
                ("Token", secret),
            ]));
            text.push_str(
                "\nSave the token now: it will not be shown again. Use it with \
                 `--token` or WARDEN_TOKEN.\n",
            );
            out(&text);
            Ok(())
        }
    }
}

/// `org add-user --output json` (fields in alphabetical order, as this command has always
/// printed them). No `Debug`: it holds the token's secret.
#[derive(Serialize)]
struct AddedUser {
    email: String,
    /// The names of the user's groups.
    groups: Vec<String>,
    organization_id: String,
    /// The revision of the one write that added the user.
    revision: u64,
    token: String,
    /// Milliseconds since the epoch; `null` for a token that never expires.
    token_expires_at: Option<i64>,
    token_id: String,
    user_id: String,
}

/// The organization `add-user` adds to: `--org`, else the one of the token in use.
async fn organization_of(
    service: &Service,
    args: &OrgAddUserArgs,
    global: &GlobalArgs,
) -> Result<OrgId, CliError> {
    if let Some(org) = &args.org {
        let org = OrgId::from(org.clone());
        return match service.compiled(&org) {
            Some(_) => Ok(org),
            None => Err(CliError::message(format!("no organization `{org}`"))),
        };
    }
    let Some(token) = crate::config::token(global.token.as_deref(), &crate::config::load()?) else {
        return Err(CliError::message(
            "give --org ORG_ID, or a token of the organization (--token, WARDEN_TOKEN or \
             `warden login`)",
        ));
    };
    let caller = service.authenticate(&token).await.map_err(|e| {
        CliError::message(format!(
            "cannot tell the organization from the token in use ({}); give --org ORG_ID",
            service_error(&e)
        ))
    })?;
    Ok(caller.org)
}

/// `warden org add-user`: a platform operation, so it acts as the system.
pub async fn add_user(args: OrgAddUserArgs, global: &GlobalArgs) -> Result<(), CliError> {
    init_logging("warn");
    let service = open_service(&args.store, Settings::default()).await?;
    let result = match organization_of(&service, &args, global).await {
        Ok(org) => add_user_to(&service, &org, &args).await,
        Err(e) => Err(e),
    };
    service.store().close().await;
    let added = result?;
    if args.print_token {
        out(&format!("{}\n", added.token));
        return Ok(());
    }
    match global.output {
        Output::Json => print_json(&added),
        Output::Table => {
            let mut text = String::from("User added.\n\n");
            text.push_str(&details(&[
                ("Organization id", added.organization_id),
                ("User id", added.user_id),
                ("Email", added.email),
                ("Groups", added.groups.join(", ")),
                ("Token id", added.token_id),
                (
                    "Token expires",
                    table::optional_time(added.token_expires_at, "never"),
                ),
                ("Token", added.token),
                ("Revision", added.revision.to_string()),
            ]));
            text.push_str("\nHand the token to the user now: it will not be shown again.\n");
            out(&text);
            Ok(())
        }
    }
}

/// The user, their memberships and their token, as one write: a group that does not exist
/// (or any other refusal) adds nothing. The core resolves the groups' names and the new
/// user's email.
async fn add_user_to(
    service: &Arc<Service>,
    org: &OrgId,
    args: &OrgAddUserArgs,
) -> Result<AddedUser, CliError> {
    let email = args.email.trim();
    let secret = new_personal_secret();
    let mut commands: Vec<Command> = Vec::with_capacity(args.groups.len() + 2);
    commands.push(
        UserCommand::Create {
            email: args.email.clone(),
            first_name: args.first_name.clone(),
            last_name: args.last_name.clone(),
        }
        .into(),
    );
    for group in &args.groups {
        commands.push(
            GroupCommand::AddMember {
                group: Key::from(group.as_str()),
                user: Key::from(email),
            }
            .into(),
        );
    }
    commands.push(
        TokenCommand::CreatePersonal {
            owner: Key::from(email),
            name: ADDED_USER_TOKEN.to_string(),
            note: String::new(),
            lifetime: args.token_expires_in,
            secret_hash: secret.hash_hex,
            display_prefix: secret.display_prefix,
        }
        .into(),
    );
    let written = service
        .execute_all(org, &Actor::System, commands)
        .await
        .map_err(|e| add_user_error(&e, org))?;
    let state = written.compiled.state();
    let user_id = written.target().to_string();
    let token_id = TokenId::from(written.targets.last().cloned().unwrap_or_default());
    let user = state.users.get(&UserId::from(user_id.clone()));
    let mut groups: Vec<String> = Vec::new();
    for group in args
        .groups
        .iter()
        .filter_map(|key| warden_core::resolve::group(state, key).ok())
    {
        // A group named twice (by name and by id, say) is one membership.
        if !groups.contains(&group.name) {
            groups.push(group.name.clone());
        }
    }
    Ok(AddedUser {
        organization_id: state.org.id.to_string(),
        user_id,
        email: user.map_or_else(|| email.to_string(), |u| u.email.to_string()),
        groups,
        token_expires_at: token_expiry(state, &token_id),
        token_id: token_id.to_string(),
        token: secret.secret,
        revision: written.compiled.revision(),
    })
}

/// Names the group of a refused membership, which is what an operator mistypes.
fn add_user_error(e: &ServiceError, org: &OrgId) -> CliError {
    if let ServiceError::Batch(batch) = e {
        if let DomainError::NotFound {
            kind: "group",
            id,
            did_you_mean,
        } = &batch.error
        {
            return CliError::message(format!(
                "{}: no group `{id}` in `{org}`{}: nothing was written",
                e.error_code().name(),
                warden_core::suggest::hint(did_you_mean)
            ));
        }
    }
    service_error(e)
}
