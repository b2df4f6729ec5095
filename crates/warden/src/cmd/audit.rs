//! `warden audit`: the audit log, newest first.

use clap::Args;
use warden_client::model::{AuditEvent, Outcome};
use warden_client::Client;

use crate::cli::Output;
use crate::output::{show, CliError};
use crate::table::{self, Table};

// `warden audit`'s options (its description is the `Audit` command's).
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// At most this many events (1 to 1000; the server's default is 100).
    #[arg(long)]
    pub limit: Option<u32>,
    /// Only events listed after this time (ms since the epoch): the last `at` of the
    /// previous page.
    #[arg(long, value_name = "MS")]
    pub before: Option<i64>,
    /// With --before: the last `id` of the previous page, to resume exactly after it.
    #[arg(long, value_name = "EVENT_ID", requires = "before")]
    pub before_id: Option<String>,
}

pub async fn run(client: &Client, o: Output, args: AuditArgs) -> Result<(), CliError> {
    let cursor = args
        .before
        .map(|at| (at, args.before_id.as_deref().unwrap_or("")));
    let events = client.audit_events(args.limit, cursor).await?;
    show(o, &events, |l| event_table(&l.items))
}

fn outcome(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Allowed => "allowed",
        Outcome::Denied => "denied",
    }
}

fn event_table(events: &[AuditEvent]) -> String {
    let mut t = Table::new(&[
        "TIME", "ACTOR", "ACTION", "TARGET", "OUTCOME", "ERROR", "REVISION",
    ]);
    for e in events {
        t.row(vec![
            table::time(e.at),
            e.actor.clone(),
            e.action.clone(),
            e.target.clone(),
            outcome(e.outcome).to_string(),
            e.error_code.clone().unwrap_or_default(),
            e.revision.to_string(),
        ]);
    }
    t.render()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn outcomes_read_as_the_api_writes_them() {
        for o in [Outcome::Allowed, Outcome::Denied] {
            assert_eq!(
                serde_json::to_value(o).unwrap(),
                serde_json::Value::from(outcome(o))
            );
        }
    }
}
