//! `warden service-accounts` (alias `sa`): an organization's non-human principals. Members with
//! the IAM viewer's rights list and show them; creating, changing and deleting one is
//! privileged (no role holds those actions), so with `--org` the caller is a platform operator
//! acting in that organization (`/v1/platform/organizations/{org}/service-accounts`).

use clap::{ArgGroup, Args, Subcommand};
use warden_client::model::{
    ServiceAccount, ServiceAccountDetails, ServiceAccountInput, ServiceAccountUpdate, TokenKind,
};
use warden_client::{Client, ClientError};

use crate::cli::Output;
use crate::output::{out, print_json, show, show_written, CliError};
use crate::table::{self, details, Table};

/// `--org`: as a platform operator, in this organization.
#[derive(Debug, Clone, Args)]
pub struct OrgArg {
    /// As a platform operator (with an operator's token), in this organization.
    #[arg(long, value_name = "ORG")]
    pub org: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ServiceAccountsCommand {
    /// List service accounts, with how many tokens each owns.
    List {
        #[command(flatten)]
        org: OrgArg,
    },
    /// Show one service account, its tokens and the rules naming it.
    Get {
        /// Service account id or name.
        account: String,
        #[command(flatten)]
        org: OrgArg,
    },
    /// Create a service account (privileged: a platform operator, with --org).
    Create {
        /// Name of the new account.
        name: String,
        #[command(flatten)]
        org: OrgArg,
    },
    /// Rename, deactivate or reactivate a service account (privileged: a platform operator,
    /// with --org). A deactivated account's tokens are refused at once.
    #[command(group(ArgGroup::new("change").required(true).multiple(true)))]
    Update {
        /// Service account id or name.
        account: String,
        /// New name.
        #[arg(long, group = "change")]
        name: Option<String>,
        /// Reactivate the account.
        #[arg(long, group = "change", conflicts_with = "deactivate")]
        activate: bool,
        /// Deactivate the account: its tokens stop working at once.
        #[arg(long, group = "change")]
        deactivate: bool,
        #[command(flatten)]
        org: OrgArg,
    },
    /// Delete a service account with its tokens and the rules naming it (privileged: a
    /// platform operator, with --org).
    Delete {
        /// Service account id or name.
        account: String,
        #[command(flatten)]
        org: OrgArg,
    },
}

pub async fn run(
    client: &Client,
    o: Output,
    command: ServiceAccountsCommand,
) -> Result<(), CliError> {
    match command {
        ServiceAccountsCommand::List { org } => {
            let listed = match org.org.as_deref() {
                Some(org) => client.platform_service_accounts(org).await,
                None => client.service_accounts().await,
            }?;
            show(o, &listed, |l| account_table(&l.items))
        }
        ServiceAccountsCommand::Get { account, org } => {
            let found = match org.org.as_deref() {
                Some(org) => client.platform_service_account(org, &account).await,
                None => client.service_account(&account).await,
            }?;
            show(o, &found, account_details)
        }
        ServiceAccountsCommand::Create { name, org } => {
            let input = ServiceAccountInput { name };
            let w = match org.org.as_deref() {
                Some(org) => client.platform_create_service_account(org, &input).await,
                None => client.create_service_account(&input).await,
            }
            .map_err(privileged)?;
            show_written(o, &w, "Created", account_one)
        }
        ServiceAccountsCommand::Update {
            account,
            name,
            activate,
            deactivate,
            org,
        } => {
            let active = match (activate, deactivate) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            };
            let update = ServiceAccountUpdate { name, active };
            let w = match org.org.as_deref() {
                Some(org) => {
                    client
                        .platform_update_service_account(org, &account, &update)
                        .await
                }
                None => client.update_service_account(&account, &update).await,
            }
            .map_err(privileged)?;
            show_written(o, &w, "Updated", account_one)
        }
        ServiceAccountsCommand::Delete { account, org } => {
            match org.org.as_deref() {
                Some(org) => client.platform_delete_service_account(org, &account).await,
                None => client.delete_service_account(&account).await,
            }
            .map_err(privileged)?;
            match o {
                Output::Json => print_json(&serde_json::json!({ "deleted": account })),
                Output::Table => {
                    out(&format!(
                        "Deleted service account `{account}` with its tokens and the rules \
                         naming it.\n"
                    ));
                    Ok(())
                }
            }
        }
    }
}

/// A refusal of a management call, with the way that works: no role holds these actions.
fn privileged(error: ClientError) -> CliError {
    let refused = matches!(
        &error,
        ClientError::Api(p) if p.code == "forbidden"
            && p.action.as_deref().is_some_and(|a| a.starts_with("iam.service_accounts."))
    );
    let error = CliError::from(error);
    if refused {
        return CliError::message(format!(
            "{error}\nManaging service accounts is privileged: no role grants it. A platform \
             operator does it with `--org ORG` and an operator's token."
        ));
    }
    error
}

fn account_table(accounts: &[ServiceAccount]) -> String {
    let mut t = Table::new(&["ID", "NAME", "ACTIVE", "TOKENS", "CREATED BY", "CREATED"]);
    for a in accounts {
        t.row(vec![
            a.id.clone(),
            a.name.clone(),
            active(a.active, a.system_managed),
            a.token_count.to_string(),
            creator(a.created_by.as_deref(), a.created_by_email.as_deref()),
            table::time(a.created_at),
        ]);
    }
    t.render()
}

fn account_one(a: &ServiceAccount) -> String {
    account_table(std::slice::from_ref(a))
}

fn active(active: bool, system_managed: bool) -> String {
    let mut text = table::yes_no(active);
    if system_managed {
        text.push_str(" (platform)");
    }
    text
}

/// Who created an account: a user's email (else id), or the platform.
fn creator(id: Option<&str>, email: Option<&str>) -> String {
    email.or(id).unwrap_or("platform").to_string()
}

/// A token's kind as the API writes it (`personal`, ...).
fn token_kind(kind: TokenKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn account_details(a: &ServiceAccountDetails) -> String {
    let mut text = details(&[
        ("ID", a.id.clone()),
        ("Name", a.name.clone()),
        ("Active", table::yes_no(a.active)),
        ("System managed", table::yes_no(a.system_managed)),
        (
            "Created by",
            creator(a.created_by.as_deref(), a.created_by_email.as_deref()),
        ),
        ("Created", table::time(a.created_at)),
    ]);
    text.push_str(&format!("\nTokens ({}):\n", a.tokens.len()));
    if !a.tokens.is_empty() {
        let mut t = Table::new(&["ID", "KIND", "NAME", "CREATED", "EXPIRES"]);
        for token in &a.tokens {
            t.row(vec![
                token.id.clone(),
                token_kind(token.kind),
                token.name.clone(),
                table::time(token.created_at),
                table::optional_time(token.expires_at, "never"),
            ]);
        }
        text.push_str(&t.render());
    }
    text.push_str(&format!("\nRules naming it ({}):\n", a.rules.len()));
    if !a.rules.is_empty() {
        let mut t = Table::new(&["POLICY", "POLICY ID", "ROLES", "EXPIRES"]);
        for rule in &a.rules {
            t.row(vec![
                rule.policy_name.clone(),
                rule.policy_id.clone(),
                rule.roles.join(","),
                table::optional_time(rule.expires_at, "never"),
            ]);
        }
        text.push_str(&t.render());
    }
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn parse(args: &[&str]) -> Result<ServiceAccountsCommand, clap::Error> {
        let mut all = vec!["warden"];
        all.extend_from_slice(args);
        match Cli::try_parse_from(all)?.command {
            Command::ServiceAccounts(c) => Ok(c),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn update_needs_a_change_and_one_direction() {
        assert!(parse(&["service-accounts", "update", "ci"]).is_err());
        assert!(parse(&["sa", "update", "ci", "--activate", "--deactivate"]).is_err());
        match parse(&["sa", "update", "ci", "--deactivate", "--org", "ab12cd"]).unwrap() {
            ServiceAccountsCommand::Update {
                deactivate, org, ..
            } => {
                assert!(deactivate);
                assert_eq!(org.org.as_deref(), Some("ab12cd"));
            }
            other => panic!("{other:?}"),
        }
        assert!(parse(&["sa", "update", "ci", "--name", "deployer"]).is_ok());
    }

    #[test]
    fn details_show_tokens_and_rules_and_never_a_secret() {
        let a = ServiceAccountDetails {
            id: "sa_1".into(),
            name: "ci".into(),
            active: false,
            system_managed: false,
            created_by: None,
            created_by_email: None,
            created_at: 0,
            token_count: 1,
            tokens: vec![warden_client::model::ServiceAccountToken {
                id: "tok_1".into(),
                kind: TokenKind::Personal,
                name: "deploy".into(),
                created_at: 0,
                expires_at: None,
            }],
            rules: vec![warden_client::model::ServiceAccountRule {
                policy_id: "pol_1".into(),
                policy_name: "deployers".into(),
                roles: vec!["cks-viewer".into()],
                expires_at: None,
            }],
        };
        let text = account_details(&a);
        for want in [
            "Active:",
            "no",
            "platform",
            "Tokens (1)",
            "tok_1",
            "deploy",
            "never",
            "Rules naming it (1)",
            "deployers",
            "cks-viewer",
        ] {
            assert!(text.contains(want), "{want}: {text}");
        }
    }
}
