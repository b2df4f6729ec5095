//! `warden`: the server (`warden serve`) and the command-line client of its API.

mod cli;
mod commands;
mod local;
mod table;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command, OrgCommand};
use crate::commands::{CliError, Outcome};

/// `warden check` answered DENY.
const EXIT_DENIED: u8 = 3;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => local::serve(args).await.map(|()| Outcome::Done),
        Command::Org(OrgCommand::Create(args)) => local::create_org(args, cli.global.output)
            .await
            .map(|()| Outcome::Done),
        Command::Org(OrgCommand::AddUser(args)) => local::add_user(args, cli.global.output)
            .await
            .map(|()| Outcome::Done),
        command => commands::run(&cli.global, command).await,
    };
    match result {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::Denied) => ExitCode::from(EXIT_DENIED),
        Err(e) => {
            report(&e);
            ExitCode::FAILURE
        }
    }
}

fn report(e: &CliError) {
    use std::io::Write;
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "error: {e}");
}
