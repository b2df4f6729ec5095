//! `warden operator`: platform operators. `bootstrap` runs once on the server's host and
//! opens the database directly (there is no operator yet to call the API with); `create` and
//! `list` call the API with an operator's token.

use clap::{Args, Subcommand};
use warden_client::model::{CreatedOperator, Operator, OperatorInput};
use warden_client::Client;
use warden_core::Actor;
use warden_server::Settings;

use super::serve::{init_logging, open_service, service_error, StoreArgs};
use crate::cli::Output;
use crate::output::{out, print_json, show, CliError};
use crate::table::{self, details, Table};

#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Create the first platform operator directly in the database (run once, on the
    /// server's host) and print its token once.
    Bootstrap(BootstrapArgs),
    /// Add a platform operator (with an operator's token) and print its token once.
    Create(CreateArgs),
    /// List the platform operators (with an operator's token).
    List,
}

#[derive(Debug, Args)]
pub struct BootstrapArgs {
    /// The operator's name.
    #[arg(long, default_value = "Platform operator")]
    pub name: String,
    /// The operator's email.
    #[arg(long)]
    pub email: String,
    /// Print only the token (for `export WARDEN_TOKEN=$(warden operator bootstrap ...)`).
    #[arg(long)]
    pub print_token: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    #[arg(long)]
    pub name: String,
    #[arg(long)]
    pub email: String,
    /// Print only the token.
    #[arg(long)]
    pub print_token: bool,
}

fn created(op: &Operator, secret: &str, headline: &str) -> String {
    let mut text = format!("{headline}.\n\n");
    text.push_str(&details(&[
        ("Operator id", op.id.clone()),
        ("Name", op.name.clone()),
        ("Email", op.email.clone()),
        ("Token", secret.to_string()),
    ]));
    text.push_str(
        "\nSave the token now: it will not be shown again. Platform commands (`warden org \
         create`, `warden org list`, ...) take it with --token or WARDEN_TOKEN.\n",
    );
    text
}

/// `warden operator bootstrap`.
pub async fn bootstrap(args: BootstrapArgs, output: Output) -> Result<(), CliError> {
    init_logging("warn");
    let service = open_service(&args.store, Settings::default()).await?;
    let made = service
        .create_operator(&Actor::System, &args.name, &args.email, true)
        .await;
    service.store().close().await;
    let Some((operator, secret)) = made.map_err(|e| service_error(&e))? else {
        return Err(CliError::message(
            "a platform operator exists already: the bootstrap runs once. Add operators with \
             `warden operator create` and an operator's token",
        ));
    };
    let operator = Operator {
        id: operator.id.to_string(),
        name: operator.name,
        email: operator.email,
        created_by: operator.created_by,
        created_at: operator.created_at.0,
    };
    if args.print_token {
        out(&format!("{secret}\n"));
        return Ok(());
    }
    match output {
        Output::Json => print_json(&CreatedOperator { operator, secret }),
        Output::Table => {
            out(&created(&operator, &secret, "Platform operator created"));
            Ok(())
        }
    }
}

/// `warden operator create` and `list`.
pub async fn run(client: &Client, o: Output, command: OperatorCommand) -> Result<(), CliError> {
    match command {
        OperatorCommand::Create(args) => {
            let made = client
                .create_operator(&OperatorInput {
                    name: args.name,
                    email: args.email,
                })
                .await?;
            if args.print_token {
                out(&format!("{}\n", made.secret));
                return Ok(());
            }
            show(o, &made, |m| {
                created(&m.operator, &m.secret, "Platform operator created")
            })
        }
        OperatorCommand::List => show(o, &client.operators().await?, |l| {
            let mut t = Table::new(&["ID", "NAME", "EMAIL", "CREATED BY", "CREATED"]);
            for op in &l.items {
                t.row(vec![
                    op.id.clone(),
                    op.name.clone(),
                    op.email.clone(),
                    op.created_by.clone(),
                    table::time(op.created_at),
                ]);
            }
            t.render()
        }),
        OperatorCommand::Bootstrap(_) => Err(CliError::message(
            "`operator bootstrap` opens the database and does not call the API",
        )),
    }
}
