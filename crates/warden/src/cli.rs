//! The top of the command line: the program, its global options and its subcommands, each
//! pointing at its area's types in `crate::cmd`.

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::cmd::audit::AuditArgs;
use crate::cmd::authz::{CheckArgs, WhoCanArgs};
use crate::cmd::catalog::RolesCommand;
use crate::cmd::clusters::ClustersCommand;
use crate::cmd::groups::GroupsCommand;
use crate::cmd::invitations::InvitationsCommand;
use crate::cmd::k8s::K8sCommand;
use crate::cmd::login::LoginArgs;
use crate::cmd::namespaces::NamespacesCommand;
use crate::cmd::operator::OperatorCommand;
use crate::cmd::org_tokens::OrgTokensCommand;
use crate::cmd::organization::OrgCommand;
use crate::cmd::policies::PoliciesCommand;
use crate::cmd::serve::ServeArgs;
use crate::cmd::service_accounts::ServiceAccountsCommand;
use crate::cmd::tokens::TokensCommand;
use crate::cmd::users::UsersCommand;

/// Token lifetimes the server accepts.
pub const LIFETIMES: [&str; 6] = warden_core::command::TokenLifetime::NAMES;

#[derive(Debug, Parser)]
#[command(
    name = "warden",
    version,
    about = "Warden: identity and access management for a GPU cloud",
    long_about = "Warden: identity and access management for a GPU cloud.\n\n\
        `warden serve` runs the server; `warden operator bootstrap` creates the first platform \
        operator directly in the database. Every other command calls a running server's API \
        with a bearer token (--token, WARDEN_TOKEN, or the one `warden login` saved): an \
        operator's for `warden org create` and the other platform commands, an organization \
        member's for the rest.",
    after_help = "Exit status: 0 on success, 1 on error, 2 on bad usage; `warden check` exits 3 \
        when the answer is DENY."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options of every client command.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Client options")]
pub struct GlobalArgs {
    /// Base URL of the Warden server (else the one `warden login` saved, else
    /// http://127.0.0.1:8080).
    #[arg(long, global = true, env = "WARDEN_URL", value_name = "URL")]
    pub url: Option<String>,
    /// API access token (a `wdn_pat_...` secret; else the one `warden login` saved).
    #[arg(
        long,
        global = true,
        env = "WARDEN_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,
    /// Output format: aligned columns for people, or the API's JSON.
    #[arg(
        long,
        short = 'o',
        global = true,
        value_enum,
        default_value_t = Output::Table
    )]
    pub output: Output,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the Warden server.
    Serve(ServeArgs),
    /// Show or rename your organization; platform operators create and list organizations,
    /// add and remove users, change default admins and reserved namespace keys.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Platform operators: bootstrap the first (on the server's host), add and list them.
    #[command(subcommand)]
    Operator(OperatorCommand),
    /// Invite people and manage invitations; accept one with its link.
    #[command(subcommand)]
    Invitations(InvitationsCommand),
    /// List, show, update, deactivate and reactivate users.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Show the caller: user, organization, token and permitted actions.
    Whoami,
    /// Manage groups and their members.
    #[command(subcommand)]
    Groups(GroupsCommand),
    /// Manage access policies (rules mapping users and groups to roles).
    #[command(subcommand)]
    Policies(PoliciesCommand),
    /// List and show the catalog's roles.
    #[command(subcommand)]
    Roles(RolesCommand),
    /// Show the whole catalog: actions, aliases, roles, legacy groups, namespace permissions.
    Catalog,
    /// Manage Kubernetes namespaces and who may do what in them.
    #[command(subcommand)]
    Namespaces(NamespacesCommand),
    /// Manage CKS clusters.
    #[command(subcommand)]
    Clusters(ClustersCommand),
    /// Manage personal API access tokens: yours, or (IAM admins) anyone's.
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// Manage the organization's tokens (the legacy model; IAM admins).
    #[command(subcommand)]
    OrgTokens(OrgTokensCommand),
    /// Kubernetes Managed Auth: a cluster's RBAC export, its webhook configuration.
    #[command(subcommand)]
    K8s(K8sCommand),
    /// List and show service accounts; platform operators (--org) create, rename,
    /// (de)activate and delete them.
    #[command(subcommand, visible_alias = "sa")]
    ServiceAccounts(ServiceAccountsCommand),
    /// Ask whether a principal may perform an action (exit 0 if allowed, 3 if denied).
    Check(CheckArgs),
    /// List the principals that may perform an action.
    WhoCan(WhoCanArgs),
    /// Show the audit log, newest first (filtered, a page at a time), or verify its hash
    /// chain (`warden audit verify`).
    Audit(AuditArgs),
    /// Print the server's OpenAPI document (JSON).
    Openapi,
    /// Check a server URL and token and save them for later commands (in
    /// $XDG_CONFIG_HOME/warden/config.toml, by default ~/.config/warden/config.toml).
    Login(LoginArgs),
    /// Remove the saved token (the saved URL stays).
    Logout,
    /// Print a shell completion script, e.g. `warden completion bash > ~/.local/share/bash-completion/completions/warden`.
    Completion {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// A `--expires-in` value as the API takes it.
pub fn api_lifetime() -> impl TypedValueParser<Value = warden_client::model::TokenLifetime> {
    PossibleValuesParser::new(LIFETIMES).try_map(|name| {
        warden_client::model::TokenLifetime::parse(&name).ok_or("unknown token lifetime")
    })
}

/// Splits a comma-separated list, dropping blanks.
pub fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_options_go_anywhere() {
        let cli = Cli::try_parse_from([
            "warden",
            "users",
            "list",
            "--output",
            "json",
            "--url",
            "http://h:1",
        ])
        .unwrap();
        assert_eq!(cli.global.output, Output::Json);
        assert_eq!(cli.global.url.as_deref(), Some("http://h:1"));
    }

    #[test]
    fn every_lifetime_name_parses_on_both_sides() {
        for name in LIFETIMES {
            let cli = Cli::try_parse_from(["warden", "tokens", "create", "--expires-in", name]);
            match cli.unwrap().command {
                Command::Tokens(TokensCommand::Create(args)) => {
                    assert_eq!(args.expires_in.map(|l| l.as_str()), Some(name))
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(Cli::try_parse_from(["warden", "tokens", "create", "--expires-in", "2d"]).is_err());
    }

    #[test]
    fn lists_split_on_commas() {
        assert_eq!(split_list(" a, b ,,c "), ["a", "b", "c"]);
        assert!(split_list("").is_empty());
    }
}
