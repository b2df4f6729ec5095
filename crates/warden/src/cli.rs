//! The command line: clap types and the small parsers of compound arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use warden_client::model::{NamespaceAccessInput, PrincipalInput, RuleInput};

/// Token lifetimes the server accepts.
pub const LIFETIMES: [&str; 6] = warden_core::command::TokenLifetime::NAMES;

#[derive(Debug, Parser)]
#[command(
    name = "warden",
    version,
    about = "Warden: identity and access management for a GPU cloud",
    long_about = "Warden: identity and access management for a GPU cloud.\n\n\
        `warden serve` runs the server; `warden org create` creates an organization and its \
        first admin directly in the database. Every other command calls a running server's \
        API with a bearer token (--token or WARDEN_TOKEN).",
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
    /// Base URL of the Warden server.
    #[arg(
        long,
        global = true,
        env = "WARDEN_URL",
        default_value = "http://127.0.0.1:8080",
        value_name = "URL"
    )]
    pub url: String,
    /// API access token (a `wdn_pat_...` secret).
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

/// Where the database is, for the commands that open it directly.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Directory of the embedded SQLite database (`<DIR>/warden.db`, created if missing).
    /// [env: WARDEN_DATA_DIR] [default: ./data]
    #[arg(long, value_name = "DIR", conflicts_with = "database_url")]
    pub data_dir: Option<PathBuf>,
    /// Database URL (`sqlite://path/to/file.db` or `postgres://user:pass@host/db`); takes
    /// precedence over the data directory. [env: WARDEN_DATABASE_URL]
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the Warden server.
    Serve(ServeArgs),
    /// Create, show or rename the organization.
    #[command(subcommand)]
    Org(OrgCommand),
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
    /// Manage your own personal API access tokens.
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// Ask whether a principal may perform an action (exit 0 if allowed, 3 if denied).
    Check(CheckArgs),
    /// List the principals that may perform an action.
    WhoCan {
        /// A catalog action (e.g. `iam.users.invite`) or alias.
        action: String,
    },
    /// Show the audit log, newest first.
    Audit {
        /// At most this many events (1 to 1000; the server's default is 100).
        #[arg(long)]
        limit: Option<u32>,
        /// Only events listed after this time (ms since the epoch): the last `at` of the
        /// previous page.
        #[arg(long, value_name = "MS")]
        before: Option<i64>,
        /// With --before: the last `id` of the previous page, to resume exactly after it.
        #[arg(long, value_name = "EVENT_ID", requires = "before")]
        before_id: Option<String>,
    },
    /// Print the server's OpenAPI document (JSON).
    Openapi,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the chosen address is printed).
    #[arg(
        long,
        env = "WARDEN_LISTEN",
        default_value = "127.0.0.1:8080",
        value_name = "ADDR"
    )]
    pub listen: String,
    #[command(flatten)]
    pub store: StoreArgs,
}

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
    #[arg(long, default_value = "30d", value_parser = LIFETIMES, value_name = "LIFETIME")]
    pub token_expires_in: String,
    #[command(flatten)]
    pub store: StoreArgs,
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
    #[arg(long, default_value = "30d", value_parser = LIFETIMES, value_name = "LIFETIME")]
    pub token_expires_in: String,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// List the organization's users.
    List {
        /// Only users with this status.
        #[arg(long, value_parser = ["invited", "active", "deactivated"])]
        status: Option<String>,
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
    /// List every action a user may perform, and which policy grants it.
    Permissions {
        /// User id or email.
        user: String,
    },
}

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

/// A policy as given on the command line: a JSON file, or a name and rules.
#[derive(Debug, Clone, Args)]
pub struct PolicySpec {
    /// JSON file with the whole policy: {"name", "description", "rules": [{"principal":
    /// {"kind", "id"}, "roles": [...]}]}; `-` reads standard input.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["name", "description", "rules"])]
    pub file: Option<PathBuf>,
    /// Policy name.
    #[arg(long)]
    pub name: Option<String>,
    /// Policy description.
    #[arg(long)]
    pub description: Option<String>,
    /// A rule `KIND:ID=ROLE[,ROLE...]`, KIND being user, group or service_account and ID an
    /// id, a group name or a user email; repeat for several rules
    /// (e.g. `--rule group:ml=inference-admin,cks-viewer`).
    #[arg(long = "rule", value_name = "RULE", value_parser = parse_rule)]
    pub rules: Vec<RuleInput>,
}

#[derive(Debug, Subcommand)]
pub enum PoliciesCommand {
    /// List access policies (the five default policies included).
    List,
    /// Show one policy with its rules.
    Get {
        /// Policy id or name.
        policy: String,
    },
    /// Create a policy from --file, or from --name and --rule options.
    Create {
        #[command(flatten)]
        spec: PolicySpec,
    },
    /// Replace a policy's name, description and rules (without --file, the name and
    /// description default to the current ones and the --rule options replace every rule).
    Replace {
        /// Policy id or name.
        policy: String,
        #[command(flatten)]
        spec: PolicySpec,
    },
    /// Delete a policy (default policies cannot be deleted).
    Delete {
        /// Policy id or name.
        policy: String,
    },
}

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

#[derive(Debug, Subcommand)]
pub enum ClustersCommand {
    /// List clusters.
    List,
    /// Show one cluster.
    Get {
        /// Cluster id or name.
        cluster: String,
    },
    /// Register a cluster.
    Create {
        /// Name of the cluster.
        name: String,
        /// URL of the cluster's Kubernetes API server.
        #[arg(long, value_name = "URL")]
        api_server_url: String,
        /// PEM file with the API server's CA bundle.
        #[arg(long, value_name = "PEM")]
        ca_file: Option<PathBuf>,
    },
    /// Change a cluster's API server URL or CA bundle.
    Update {
        /// Cluster id or name.
        cluster: String,
        #[arg(long, value_name = "URL")]
        api_server_url: Option<String>,
        /// PEM file with the new CA bundle.
        #[arg(long, value_name = "PEM")]
        ca_file: Option<PathBuf>,
    },
    /// Delete a cluster.
    Delete {
        /// Cluster id or name.
        cluster: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// List your personal tokens (never their secrets).
    List,
    /// Show one of your tokens.
    Get {
        /// Token id.
        id: String,
    },
    /// Create a personal token and print its secret (shown only this once).
    Create {
        #[arg(long, default_value = "")]
        name: String,
        #[arg(long, default_value = "")]
        note: String,
        /// Lifetime of the token (the server's default is 30d).
        #[arg(long, value_parser = LIFETIMES, value_name = "LIFETIME")]
        expires_in: Option<String>,
    },
    /// Revoke one of your tokens.
    Delete {
        /// Token id.
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The principal: a user id or email, a service account id, or `me`.
    pub principal: String,
    /// A catalog action (e.g. `iam.users.invite`) or alias; with --namespace, a namespace
    /// permission key (e.g. `w:deployments`).
    pub action: String,
    /// Ask about a namespace permission in this namespace.
    #[arg(long)]
    pub namespace: Option<String>,
    /// Show which policies, rules, groups and roles grant the action.
    #[arg(long)]
    pub explain: bool,
    /// Answer from a state at least this new (the revision a write returned).
    #[arg(long, value_name = "N")]
    pub at_least_revision: Option<u64>,
}

/// Parses `KIND:ID=ROLE[,ROLE...]`.
pub fn parse_rule(text: &str) -> Result<RuleInput, String> {
    let usage = "expected KIND:ID=ROLE[,ROLE...], e.g. group:ml=inference-admin,cks-viewer";
    let (principal, roles) = text.rsplit_once('=').ok_or(usage)?;
    let (kind, id) = principal.split_once(':').ok_or(usage)?;
    let kind = match kind.trim() {
        "user" => "user",
        "group" => "group",
        "service_account" | "service-account" | "sa" => "service_account",
        other => {
            return Err(format!(
                "unknown principal kind `{other}`: use user, group or service_account"
            ))
        }
    };
    let id = id.trim();
    if id.is_empty() {
        return Err(format!("the principal is empty; {usage}"));
    }
    let roles = split_list(roles);
    if roles.is_empty() {
        return Err(format!("no roles given; {usage}"));
    }
    Ok(RuleInput {
        principal: PrincipalInput {
            kind: kind.to_string(),
            id: id.to_string(),
        },
        roles,
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
    fn rules_parse() {
        let r = parse_rule("group:ml=inference-admin, cks-viewer").unwrap();
        assert_eq!(r.principal.kind, "group");
        assert_eq!(r.principal.id, "ml");
        assert_eq!(r.roles, ["inference-admin", "cks-viewer"]);
        let r = parse_rule("user:ada@example.com=billing-viewer").unwrap();
        assert_eq!(r.principal.kind, "user");
        assert_eq!(r.principal.id, "ada@example.com");
        let r = parse_rule("sa:sa_1=cks-viewer").unwrap();
        assert_eq!(r.principal.kind, "service_account");
        for bad in [
            "group:ml",
            "ml=cks-viewer",
            "robot:x=cks-viewer",
            "group:=a",
            "group:ml=",
        ] {
            assert!(parse_rule(bad).is_err(), "{bad}");
        }
    }

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
        assert_eq!(cli.global.url, "http://h:1");
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

    #[test]
    fn policy_file_conflicts_with_rules() {
        assert!(Cli::try_parse_from([
            "warden",
            "policies",
            "create",
            "--file",
            "p.json",
            "--rule",
            "group:a=b",
        ])
        .is_err());
    }
}
