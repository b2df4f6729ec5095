//! `warden audit`: the audit log, newest first, filtered and paged; `warden audit verify`
//! recomputes its hash chain.

use std::collections::HashMap;

use clap::{Args, Subcommand, ValueEnum};
use warden_client::model::{AuditEvent, AuditQuery, AuditVerification, Outcome};
use warden_client::Client;

use crate::cli::Output;
use crate::output::{out, print_json, show, CliError};
use crate::table::{self, Table};

// `warden audit`'s options (its description is the `Audit` command's). Without a
// subcommand it lists; its listing options do not go with `verify`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: Option<AuditCommand>,
    #[command(flatten)]
    pub list: ListArgs,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the audit log's hash chain: exit 0 if every event is intact and in place,
    /// 1 naming the first event altered or missing.
    Verify,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// At most this many events (1 to 1000; the server's default is 100).
    #[arg(long)]
    pub limit: Option<u32>,
    /// Only events of this actor: `user:<id>`, `service_account:<id>` or `system`.
    #[arg(long)]
    pub actor: Option<String>,
    /// Only events on this target (an id; for a refused call, what the caller named).
    #[arg(long)]
    pub target: Option<String>,
    /// Only events of this catalog action (`iam.groups.create`, ...).
    #[arg(long)]
    pub action: Option<String>,
    /// Only changes (allowed) or only refused calls (denied).
    #[arg(long, value_enum)]
    pub outcome: Option<OutcomeArg>,
    /// Only events at or after this instant: RFC 3339 (`2026-12-01T02:04:15Z`) or ms since
    /// the epoch.
    #[arg(long, value_name = "TIME", value_parser = instant)]
    pub since: Option<String>,
    /// Only events before this instant: RFC 3339 or ms since the epoch.
    #[arg(long, value_name = "TIME", value_parser = instant)]
    pub until: Option<String>,
    /// Resume after the previous page: the cursor it printed (`next_cursor` in JSON).
    #[arg(long)]
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutcomeArg {
    Allowed,
    Denied,
}

/// An instant as the API takes it (RFC 3339), from RFC 3339 or milliseconds since the epoch.
fn instant(text: &str) -> Result<String, String> {
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(warden_core::Timestamp(ms).rfc3339_millis());
    }
    match warden_core::Timestamp::parse_rfc3339(text) {
        Some(_) => Ok(text.to_string()),
        None => Err("expected RFC 3339 (2026-12-01T02:04:15Z) or ms since the epoch".to_string()),
    }
}

pub async fn run(client: &Client, o: Output, args: AuditArgs) -> Result<(), CliError> {
    match args.command {
        Some(AuditCommand::Verify) => verify(client, o).await,
        None => list(client, o, args.list).await,
    }
}

async fn list(client: &Client, o: Output, args: ListArgs) -> Result<(), CliError> {
    let query = AuditQuery {
        limit: args.limit,
        actor: args.actor,
        target: args.target,
        action: args.action,
        outcome: args.outcome.map(|o| match o {
            OutcomeArg::Allowed => Outcome::Allowed,
            OutcomeArg::Denied => Outcome::Denied,
        }),
        since: args.since,
        until: args.until,
        cursor: args.cursor,
    };
    let events = client.audit_events(&query).await?;
    if o == Output::Json {
        return print_json(&events);
    }
    let names = Names::of(client, &events.items).await;
    show(o, &events, |page| event_table(&page.items, &names))?;
    if let Some(cursor) = &events.next_cursor {
        // Advice, not data: on stderr, so the table on stdout stays whole.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr().lock(),
            "more: warden audit --cursor {cursor} (with the same filters)"
        );
    }
    Ok(())
}

async fn verify(client: &Client, o: Output) -> Result<(), CliError> {
    let verdict = client.verify_audit().await?;
    if o == Output::Json {
        print_json(&verdict)?;
    } else if verdict.ok {
        out(&format!(
            "verified {} events, head {}\n",
            verdict.events.unwrap_or(0),
            verdict
                .head
                .as_deref()
                .map_or("-", |h| h.get(..16).unwrap_or(h))
        ));
    }
    match broken(&verdict) {
        None => Ok(()),
        Some(message) => Err(CliError::message(message)),
    }
}

/// What is wrong with a chain that did not verify, in a sentence naming the event.
fn broken(verdict: &AuditVerification) -> Option<String> {
    if verdict.ok {
        return None;
    }
    let Some(b) = &verdict.broken else {
        return Some("the audit chain did not verify".to_string());
    };
    let event = b
        .event_id
        .as_deref()
        .map_or("no event".to_string(), |id| format!("event {id}"));
    Some(format!(
        "the audit chain is broken at {event} (seq {}): {}; {} (events verified before it: {})",
        b.seq,
        b.reason.as_str(),
        b.detail,
        verdict.events_checked.unwrap_or(0)
    ))
}

fn outcome(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Allowed => "allowed",
        Outcome::Denied => "denied",
    }
}

/// Readable names of the ids a page of events mentions, by id: users' emails, and the
/// names of groups, policies, namespaces and clusters. One listing per kind mentioned; a
/// kind the caller may not list keeps its ids bare.
#[derive(Debug, Default)]
struct Names(HashMap<String, String>);

impl Names {
    async fn of(client: &Client, events: &[AuditEvent]) -> Names {
        let mentions = |prefix: &str| {
            events
                .iter()
                .any(|e| id_of_actor(&e.actor).starts_with(prefix) || e.target.starts_with(prefix))
        };
        let mut names = HashMap::new();
        if mentions("usr_") {
            if let Ok(list) = client.users(None).await {
                names.extend(list.items.into_iter().map(|u| (u.id, u.email)));
            }
        }
        if mentions("grp_") {
            if let Ok(list) = client.groups().await {
                names.extend(list.items.into_iter().map(|g| (g.id, g.name)));
            }
        }
        if mentions("pol_") {
            if let Ok(list) = client.policies().await {
                names.extend(list.items.into_iter().map(|p| (p.id, p.name)));
            }
        }
        if mentions("ns_") {
            if let Ok(list) = client.namespaces().await {
                names.extend(list.items.into_iter().map(|n| (n.id, n.name)));
            }
        }
        if mentions("cls_") {
            if let Ok(list) = client.clusters().await {
                names.extend(list.items.into_iter().map(|c| (c.id, c.name)));
            }
        }
        Names(names)
    }

    /// `text` with the name of the id in it beside it: `user:usr_1 (ada@acme.example)`.
    fn beside(&self, text: &str, id: &str) -> String {
        match self.0.get(id) {
            Some(name) => format!("{text} ({name})"),
            None => text.to_string(),
        }
    }
}

/// The id in an actor (`user:<id>` → `<id>`).
fn id_of_actor(actor: &str) -> &str {
    actor.split_once(':').map_or(actor, |(_, id)| id)
}

fn event_table(events: &[AuditEvent], names: &Names) -> String {
    let mut t = Table::new(&[
        "SEQ", "TIME", "ACTOR", "ACTION", "TARGET", "OUTCOME", "ERROR", "REVISION",
    ]);
    for e in events {
        t.row(vec![
            e.seq.to_string(),
            table::time(e.at),
            names.beside(&e.actor, id_of_actor(&e.actor)),
            e.action.clone(),
            names.beside(&e.target, &e.target),
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
    use warden_client::model::{BrokenLink, BrokenReason};

    #[test]
    fn outcomes_read_as_the_api_writes_them() {
        for o in [Outcome::Allowed, Outcome::Denied] {
            assert_eq!(
                serde_json::to_value(o).unwrap(),
                serde_json::Value::from(outcome(o))
            );
        }
    }

    #[test]
    fn instants_are_rfc3339_or_milliseconds() {
        assert_eq!(instant("0").unwrap(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            instant("2026-12-01T02:04:15+01:00").unwrap(),
            "2026-12-01T02:04:15+01:00"
        );
        assert!(instant("yesterday").is_err());
    }

    #[test]
    fn names_go_beside_ids_they_know() {
        let names = Names(HashMap::from([(
            "usr_1".to_string(),
            "ada@acme.example".to_string(),
        )]));
        assert_eq!(
            names.beside("user:usr_1", id_of_actor("user:usr_1")),
            "user:usr_1 (ada@acme.example)"
        );
        assert_eq!(names.beside("system", id_of_actor("system")), "system");
        assert_eq!(names.beside("grp_9", "grp_9"), "grp_9");
    }

    #[test]
    fn a_broken_chain_is_named_in_the_error() {
        let verdict = AuditVerification {
            ok: false,
            events: None,
            head: None,
            events_checked: Some(3),
            broken: Some(BrokenLink {
                event_id: Some("evt_x".to_string()),
                seq: 4,
                reason: BrokenReason::Altered,
                detail: "a column was changed".to_string(),
            }),
        };
        let message = broken(&verdict).unwrap();
        assert!(
            message.contains("event evt_x (seq 4): altered"),
            "{message}"
        );
        assert_eq!(
            broken(&AuditVerification {
                ok: true,
                events: Some(1),
                head: Some("ab".into()),
                events_checked: None,
                broken: None,
            }),
            None
        );
    }
}
