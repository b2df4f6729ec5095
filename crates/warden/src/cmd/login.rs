//! `warden login`, `warden logout` and `warden completion`: the client's own set-up.

use std::io::Read;

use clap::{Args, CommandFactory};
use warden_client::Client;

use crate::cli::{Cli, GlobalArgs, Output};
use crate::config::{self, Config};
use crate::output::{out, print_json, CliError};

#[derive(Debug, Args)]
#[command(
    after_help = "Give the server with --url (or WARDEN_URL) and the token with --token \
    (or WARDEN_TOKEN); `--token -` reads it from standard input, keeping it out of the shell's \
    history. The token is checked with the server before it is saved."
)]
pub struct LoginArgs {}

/// Where the configuration file goes, or why there is none.
fn config_path() -> Result<std::path::PathBuf, CliError> {
    config::path().ok_or_else(|| {
        CliError::message("no home directory: set HOME or XDG_CONFIG_HOME to save a login")
    })
}

/// `warden login`: checks the token with `GET /v1/whoami`, then saves URL and token.
pub async fn login(global: &GlobalArgs) -> Result<(), CliError> {
    let path = config_path()?;
    let mut saved = config::load_from(&path)?;
    let url = config::url(global.url.as_deref(), &saved);
    let token = match global.token.as_deref().map(str::trim) {
        Some("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| CliError::message(format!("cannot read standard input: {e}")))?;
            text.trim().to_string()
        }
        Some(token) => token.to_string(),
        None => String::new(),
    };
    if token.is_empty() {
        return Err(CliError::message(
            "no token to log in with: pass --token TOKEN, or --token - to read it from standard \
             input (`warden org create` prints the first one)",
        ));
    }
    let client = Client::new(&url, Some(token.clone()))?;
    let me = client
        .whoami()
        .await
        .map_err(|e| CliError::from(e).at_url(&url))?;
    saved = Config {
        url: Some(url.clone()),
        token: Some(token),
    };
    config::save(&path, &saved)?;
    match global.output {
        Output::Json => print_json(&me),
        Output::Table => {
            out(&format!(
                "Logged in to {url} as {} (organization {}). Saved to {}.\n",
                me.principal.name,
                me.organization_id,
                path.display()
            ));
            Ok(())
        }
    }
}

/// `warden logout`: forgets the saved token.
pub fn logout() -> Result<(), CliError> {
    let path = config_path()?;
    let mut saved = config::load_from(&path)?;
    if saved.token.take().is_none() {
        out(&format!("Not logged in: no token in {}.\n", path.display()));
        return Ok(());
    }
    config::save(&path, &saved)?;
    out(&format!(
        "Logged out: removed the token from {}.\n",
        path.display()
    ));
    Ok(())
}

/// `warden completion SHELL`: the completion script on standard output.
pub fn completion(shell: clap_complete::Shell) {
    let mut command = Cli::command();
    let mut script: Vec<u8> = Vec::new();
    clap_complete::generate(shell, &mut command, "warden", &mut script);
    out(&String::from_utf8_lossy(&script));
}
