//! Decisions: `warden whoami`, `warden check` and `warden who-can`.

use std::collections::BTreeMap;

use clap::Args;
use warden_client::model::{CheckQuestion, CheckRequest, GrantSource, PrincipalKind, Whoami};
use warden_client::{Client, ClientError};

use crate::cli::Output;
use crate::output::{show, CliError, Outcome};
use crate::table::{self, details, Table};

// `warden check`'s arguments (its description is the `Check` command's).
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
    /// Explain the decision: which policies, rules, groups and roles grant the action, or
    /// which roles contain it and the smallest change that would allow it.
    #[arg(long)]
    pub explain: bool,
    /// Answer from a state at least this new (the revision a write returned).
    #[arg(long, value_name = "N")]
    pub at_least_revision: Option<u64>,
}

// `warden who-can`'s arguments.
#[derive(Debug, Args)]
pub struct WhoCanArgs {
    /// A catalog action (e.g. `iam.users.invite`) or alias.
    pub action: String,
}

/// `warden whoami`.
pub async fn whoami(client: &Client, o: Output) -> Result<(), CliError> {
    show(o, &client.whoami().await?, whoami_text)
}

fn whoami_text(w: &Whoami) -> String {
    let mut pairs = match &w.user {
        Some(user) => vec![("User", format!("{} ({})", user.email, user.id))],
        None => {
            let label = match w.principal.kind {
                PrincipalKind::ServiceAccount => "Service account",
                PrincipalKind::User => "User",
                PrincipalKind::Group => "Group",
            };
            vec![(label, format!("{} ({})", w.principal.name, w.principal.id))]
        }
    };
    pairs.push(("Organization", w.organization_id.clone()));
    pairs.push((
        "Token",
        w.token_id
            .clone()
            .unwrap_or_else(|| "none (a console session)".to_string()),
    ));
    if let Some(user) = &w.user {
        pairs.push(("Groups", user.groups.join(", ")));
        pairs.push(("Org admin", table::yes_no(user.is_org_admin)));
    }
    pairs.push(("Revision", w.revision.to_string()));
    pairs.push(("Actions", w.actions.len().to_string()));
    let mut text = details(&pairs);
    for action in &w.actions {
        text.push_str(&format!("  {}\n", table::clean(action)));
    }
    text
}

/// `warden who-can`.
pub async fn who_can(client: &Client, o: Output, args: WhoCanArgs) -> Result<(), CliError> {
    let answer = client.who_can(&args.action).await?;
    // Emails make the list readable; without the right to list users, ids will do.
    let emails: BTreeMap<String, String> = match o {
        Output::Table => client
            .users(None)
            .await
            .map(|l| l.items.into_iter().map(|u| (u.id, u.email)).collect())
            .unwrap_or_default(),
        Output::Json => BTreeMap::new(),
    };
    show(o, &answer, |a| {
        let mut t = Table::new(&["PRINCIPAL", "EMAIL"]);
        for p in &a.principals {
            t.row(vec![p.clone(), emails.get(p).cloned().unwrap_or_default()]);
        }
        t.render()
    })
}

/// `warden check`: DENY is an answer, told to the shell as [`Outcome::Denied`].
pub async fn check(client: &Client, o: Output, args: CheckArgs) -> Result<Outcome, CliError> {
    // The server takes an id, an email or `me` alike (and answers an unknown one with a
    // problem, exit code 1, not a denial).
    let request = CheckRequest {
        checks: vec![CheckQuestion {
            principal: args.principal.clone(),
            action: args.action.clone(),
            namespace: args.namespace.clone(),
            explain: args.explain,
        }],
        at_least_revision: args.at_least_revision,
    };
    let response = client.check(&request).await?;
    let result = response
        .results
        .first()
        .cloned()
        .ok_or_else(|| ClientError::Decode("the check response has no result".to_string()))?;
    show(o, &response, |r| {
        let mut text = String::from(if result.allowed { "ALLOW\n" } else { "DENY\n" });
        let mut pairs = vec![
            ("Principal", args.principal.clone()),
            ("Action", args.action.clone()),
        ];
        if let Some(ns) = &args.namespace {
            pairs.push(("Namespace", ns.clone()));
        }
        if let Some(reason) = result.reason {
            pairs.push(("Reason", reason.as_str().to_string()));
        }
        pairs.push(("Revision", r.revision.to_string()));
        text.push_str(&details(&pairs));
        if let Some(explanation) = &result.explanation {
            text.push('\n');
            text.push_str(&table::clean(explanation));
            text.push('\n');
        }
        if let Some(sources) = result.granted_by.as_ref().filter(|s| !s.is_empty()) {
            text.push_str(if result.allowed {
                "\nGranted by:\n"
            } else {
                "\nWould be granted by:\n"
            });
            text.push_str(&grant_table(sources));
        }
        text
    })?;
    Ok(if result.allowed {
        Outcome::Done
    } else {
        Outcome::Denied
    })
}

/// The paths that grant an action; a column for the end of time-bound rules when one is.
fn grant_table(sources: &[GrantSource]) -> String {
    let bounded = sources.iter().any(|g| g.expires_at.is_some());
    let mut headers = vec!["POLICY", "POLICY ID", "RULE", "ROLE", "VIA GROUP"];
    if bounded {
        headers.push("UNTIL");
    }
    let mut t = Table::new(&headers);
    for g in sources {
        t.row(vec![
            g.policy_name.clone(),
            g.policy_id.clone(),
            // Numbered from 1, as the explanation's summary and `policies get` number rules.
            (g.rule_index + 1).to_string(),
            g.role_id.clone(),
            g.via_group.clone().unwrap_or_default(),
            table::optional_time(g.expires_at, "never"),
        ]);
    }
    t.render()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use warden_client::model::{Principal, User, UserStatus};

    use super::*;

    fn whoami(user: Option<User>, principal: Principal) -> Whoami {
        Whoami {
            organization_id: "abc123".into(),
            principal,
            user,
            token_id: Some("tok_1".into()),
            actions: vec!["iam.users.list".into()],
            revision: 7,
        }
    }

    #[test]
    fn whoami_shows_a_user_or_a_service_account() {
        let user = User {
            id: "usr_1".into(),
            email: "ada@example.com".into(),
            first_name: "Ada".into(),
            last_name: String::new(),
            status: UserStatus::Active,
            created_at: 0,
            groups: vec!["admin".into()],
            is_org_admin: true,
            is_default_admin: true,
            org_tokens_created: Vec::new(),
        };
        let principal = Principal {
            kind: PrincipalKind::User,
            id: "usr_1".into(),
            name: "ada@example.com".into(),
        };
        let text = whoami_text(&whoami(Some(user), principal));
        assert!(text.starts_with("User:"), "{text}");
        assert!(text.contains("ada@example.com (usr_1)"), "{text}");
        assert!(text.contains("Org admin:"), "{text}");
        assert!(text.ends_with("  iam.users.list\n"), "{text}");

        let robot = Principal {
            kind: PrincipalKind::ServiceAccount,
            id: "sa_1".into(),
            name: "ci".into(),
        };
        let text = whoami_text(&whoami(None, robot));
        assert!(text.starts_with("Service account:"), "{text}");
        assert!(text.contains("ci (sa_1)"), "{text}");
        assert!(!text.contains("Org admin"), "{text}");
    }

    #[test]
    fn time_bound_grants_show_their_end() {
        let mut source = GrantSource {
            policy_id: "pol_1".into(),
            policy_name: "ml".into(),
            rule_index: 0,
            via_group: None,
            via_group_id: None,
            role_id: "cks-viewer".into(),
            expires_at: None,
        };
        let text = grant_table(std::slice::from_ref(&source));
        assert!(!text.contains("UNTIL"));
        assert!(
            text.lines()
                .nth(1)
                .unwrap()
                .contains("pol_1      1     cks-viewer"),
            "{text}"
        );
        source.expires_at = Some(0);
        let text = grant_table(&[source]);
        assert!(
            text.contains("UNTIL") && text.contains("1970-01-01 00:00:00Z"),
            "{text}"
        );
    }
}
