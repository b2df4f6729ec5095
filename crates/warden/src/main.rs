//! `warden`: the server (`warden serve`) and the command-line client of its API.

mod cli;
mod cmd;
mod config;
mod output;
mod table;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;
use crate::output::{CliError, Outcome};

/// `warden check` answered DENY.
const EXIT_DENIED: u8 = 3;

#[tokio::main]
async fn main() -> ExitCode {
    match cmd::run(Cli::parse()).await {
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
    if let Some(hint) = e.hint() {
        let _ = writeln!(stderr, "hint: {hint}");
    }
}
