//! The commands, one file per area: each holds its clap types, its calls (to a running
//! server's API, or to the store directly for `serve` and `operator bootstrap`) and
//! how its answers are drawn as tables.

pub mod audit;
pub mod authz;
pub mod catalog;
pub mod clusters;
pub mod default_policies;
pub mod groups;
pub mod invitations;
pub mod k8s;
pub mod login;
pub mod mail;
pub mod namespaces;
pub mod operator;
pub mod org_tokens;
pub mod organization;
pub mod policies;
pub mod serve;
pub mod service_accounts;
pub mod tokens;
pub mod users;

use std::io::Read;
use std::path::Path;

use warden_client::Client;

use crate::cli::{Cli, Command, GlobalArgs};
use crate::cmd::invitations::InvitationsCommand;
use crate::cmd::operator::OperatorCommand;
use crate::config::{self, Config};
use crate::output::{print_json, CliError, Outcome};

/// Runs the command line's command.
pub async fn run(cli: Cli) -> Result<Outcome, CliError> {
    let o = cli.global.output;
    let done = |()| Outcome::Done;
    match cli.command {
        // The commands that open the store themselves.
        Command::Serve(args) => serve::run(args).await.map(done),
        Command::Operator(OperatorCommand::Bootstrap(args)) => {
            operator::bootstrap(args, o).await.map(done)
        }
        // Accepting an invitation needs no token.
        Command::Invitations(InvitationsCommand::Accept(args)) => {
            let saved = config::load()?;
            let url = config::url(cli.global.url.as_deref(), &saved);
            let client = Client::new(&url, None)?;
            invitations::run(&client, o, InvitationsCommand::Accept(args))
                .await
                .map(done)
                .map_err(|e| e.at_url(&url))
        }
        // The client's own set-up.
        Command::Login(_) => login::login(&cli.global).await.map(done),
        Command::Logout => login::logout().map(done),
        Command::Completion { shell } => {
            login::completion(shell);
            Ok(Outcome::Done)
        }
        command => {
            let saved = config::load()?;
            let url = config::url(cli.global.url.as_deref(), &saved);
            api(&cli.global, &url, &saved, command)
                .await
                .map_err(|e| e.at_url(&url))
        }
    }
}

/// Runs a command that calls the API at `url`.
async fn api(
    global: &GlobalArgs,
    url: &str,
    saved: &Config,
    command: Command,
) -> Result<Outcome, CliError> {
    let client = client(global, url, saved)?;
    let o = global.output;
    match command {
        // `run` gives these to the commands that open the store or set up the client; never
        // silently succeed.
        Command::Serve(_)
        | Command::Operator(OperatorCommand::Bootstrap(_))
        | Command::Invitations(InvitationsCommand::Accept(_))
        | Command::Login(_)
        | Command::Logout
        | Command::Completion { .. } => {
            return Err(CliError::message("this command does not call the API"))
        }
        Command::Org(c) => organization::run(&client, o, c).await?,
        Command::Operator(c) => operator::run(&client, o, c).await?,
        Command::Invitations(c) => invitations::run(&client, o, c).await?,
        Command::Users(c) => users::run(&client, o, c).await?,
        Command::Whoami => authz::whoami(&client, o).await?,
        Command::Groups(c) => groups::run(&client, o, c).await?,
        Command::Policies(c) => policies::run(&client, o, c).await?,
        Command::Roles(c) => catalog::roles(&client, o, c).await?,
        Command::Catalog => catalog::catalog(&client, o).await?,
        Command::Namespaces(c) => namespaces::run(&client, o, c).await?,
        Command::Clusters(c) => clusters::run(&client, o, c).await?,
        Command::Tokens(c) => tokens::run(&client, o, c).await?,
        Command::OrgTokens(c) => org_tokens::run(&client, o, c).await?,
        Command::K8s(c) => k8s::run(&client, o, c).await?,
        Command::ServiceAccounts(c) => service_accounts::run(&client, o, c).await?,
        Command::Check(args) => return authz::check(&client, o, args).await,
        Command::WhoCan(args) => authz::who_can(&client, o, args).await?,
        Command::Audit(args) => audit::run(&client, o, args).await?,
        Command::Openapi => print_json(&client.openapi().await?)?,
    }
    Ok(Outcome::Done)
}

/// A client of the server at `url`, with the token of the global options (or the saved one,
/// if it was saved for that server).
fn client(global: &GlobalArgs, url: &str, saved: &Config) -> Result<Client, CliError> {
    let token = config::token_for(global.token.as_deref(), saved, url)
        .map_err(|saved_for| {
            CliError::message(format!(
                "no API token for {url}: the saved login is for {saved_for}; pass --token, set \
                 WARDEN_TOKEN or run `warden login --url {url}`"
            ))
        })?
        .ok_or_else(|| {
            CliError::message(
                "no API token: pass --token, set WARDEN_TOKEN or run `warden login` (`warden \
                 org create` prints an organization's first one; `warden operator bootstrap` \
                 the first operator's)",
            )
        })?;
    Ok(Client::new(url, Some(token))?)
}

/// The text of a file, or of standard input for `-`.
pub fn read_input(path: &Path) -> Result<String, CliError> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| CliError::message(format!("cannot read standard input: {e}")))?;
        return Ok(text);
    }
    std::fs::read_to_string(path)
        .map_err(|e| CliError::message(format!("cannot read {}: {e}", path.display())))
}
